"""Response-deadline calendar for staff social-media reports (product spec, section 4).

The policy says a comment, query or complaint must be responded to within 24 hours,
or on the next working day if received at a weekend. PolicyHub applies this to every
report; the clock stops when the owner acknowledges (that part lives elsewhere).

Rules implemented here (pure Python, no Django):

* A *working day* is Monday to Friday that is not a bank holiday of the school's
  nation (``holidays.country_holidays("GB", subdiv=...)``), not one of the extra
  bank holidays supplied by the caller, and not a school closure day (INSET day,
  snow day, ...).
* Received on a working day (judged on the local date of receipt) at time ``T``:
  due at ``T + window`` measured in *elapsed* time. The arithmetic is done in UTC,
  so a clock change never shortens or stretches the window. The due time may land
  on a non-working day (Friday 16:00 -> Saturday 16:00); that is what the policy
  says.
* Received on a non-working day: due at close of business (17:00 local unless the
  school sets another time) on the next working day. The window length is not used
  in that case.
* ``working_days_only=False`` (e.g. safeguarding, 1 hour): the window is pure
  elapsed time from receipt whatever the calendar says.

All returned datetimes are timezone-aware UTC; use :func:`format_local` or
:meth:`Deadline.due_local` for display in Europe/London.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "LONDON",
    "NATIONS",
    "NATION_LABELS",
    "NATION_SUBDIV",
    "Calendar",
    "Deadline",
    "clear_holiday_cache",
    "end_of_next_working_day",
    "format_duration",
    "format_local",
    "one_working_day_after",
    "response_due",
]

LONDON = ZoneInfo("Europe/London")
DEFAULT_WINDOW_HOURS = 24
DEFAULT_CLOSE_OF_BUSINESS = time(17, 0)

NATIONS: tuple[str, ...] = ("england", "wales", "scotland", "northern_ireland")
NATION_SUBDIV: Mapping[str, str] = MappingProxyType(
    {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern_ireland": "NIR"}
)
NATION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "england": "England",
        "wales": "Wales",
        "scotland": "Scotland",
        "northern_ireland": "Northern Ireland",
    }
)

_DAY_NAMES = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
_DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_ABBR = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)

Basis = Literal["elapsed", "next_working_day", "elapsed_any_day"]
WindowHours = int | float | timedelta


# --------------------------------------------------------------------------- holidays


@functools.lru_cache(maxsize=256)
def _bank_holidays(subdiv: str, year: int) -> Mapping[date, str]:
    """Bank holidays of one GB subdivision falling in ``year`` (cached per nation/year).

    Neighbouring years are generated too so that any observed (substitute) day that
    the library attributes to an adjacent year is still found.
    """
    data = holidays.country_holidays("GB", subdiv=subdiv, years=(year - 1, year, year + 1))
    return MappingProxyType({d: name for d, name in data.items() if d.year == year})


def clear_holiday_cache() -> None:
    """Forget cached holiday tables (tests, or after upgrading ``holidays``)."""
    _bank_holidays.cache_clear()


def _freeze_dates(value: Mapping[date, str] | Iterable[date], default_label: str) -> Mapping[date, str]:
    items: Iterable[tuple[date, str]] = (
        value.items() if isinstance(value, Mapping) else ((d, default_label) for d in value)
    )
    frozen: dict[date, str] = {}
    for d, label in items:
        # ``datetime`` is a subclass of ``date`` but would never match a date key.
        if isinstance(d, datetime) or not isinstance(d, date):
            raise TypeError(f"expected a date, got {d!r}")
        frozen[d] = str(label).strip() if label else default_label
    return MappingProxyType(frozen)


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True, eq=False)
class Calendar:
    """A school's working-day calendar.

    ``closures``: school closure days (INSET days, snow days) as ``{date: label}``
    or simply a set of dates (labelled "closure").
    ``extra_holidays``: bank holidays the installed ``holidays`` package does not yet
    know about (one-off bank holidays), as ``{date: name}``.
    """

    nation: str
    closures: Mapping[date, str] = field(default_factory=dict)
    extra_holidays: Mapping[date, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.nation not in NATION_SUBDIV:
            raise ValueError(f"unknown nation {self.nation!r}; expected one of {', '.join(NATIONS)}")
        object.__setattr__(self, "closures", _freeze_dates(self.closures, "closure"))
        object.__setattr__(self, "extra_holidays", _freeze_dates(self.extra_holidays, "bank holiday"))

    @property
    def subdiv(self) -> str:
        return NATION_SUBDIV[self.nation]

    @property
    def label(self) -> str:
        return NATION_LABELS[self.nation]

    def bank_holiday_name(self, d: date) -> str | None:
        """Name of the bank holiday on ``d`` in this nation (incl. extras) or None."""
        if d in self.extra_holidays:
            return self.extra_holidays[d]
        return _bank_holidays(self.subdiv, d.year).get(d)

    def non_working_reasons(self, d: date) -> list[str]:
        """Every reason ``d`` is not a working day; empty list for a working day."""
        reasons: list[str] = []
        if d.weekday() >= 5:
            reasons.append(_DAY_NAMES[d.weekday()])
        holiday = self.bank_holiday_name(d)
        if holiday is not None:
            reasons.append(f"bank holiday: {holiday} ({self.label})")
        if d in self.closures:
            reasons.append(f"school closure: {self.closures[d]}")
        return reasons

    def non_working_reason(self, d: date) -> str | None:
        """E.g. "Saturday", "bank holiday: Christmas Day (England)",
        "school closure: INSET day" (joined with "; " when several apply),
        or None on a working day."""
        reasons = self.non_working_reasons(d)
        return "; ".join(reasons) if reasons else None

    def is_working_day(self, d: date) -> bool:
        return not self.non_working_reasons(d)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        candidate = d + timedelta(days=1)
        while not self.is_working_day(candidate):
            candidate += timedelta(days=1)
        return candidate

    def add_working_days(self, start: date, n: int) -> date:
        """The date ``n`` working days after ``start`` (``start`` itself not counted).

        ``n == 0`` returns ``start`` unchanged.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        current = start
        for _ in range(n):
            current = self.next_working_day(current)
        return current

    def skipped_days(self, after: date, before: date) -> list[tuple[date, str]]:
        """Weekdays strictly between ``after`` and ``before`` that are not working days,
        with their reason (weekends are not listed: they need no explanation)."""
        skipped: list[tuple[date, str]] = []
        d = after + timedelta(days=1)
        while d < before:
            if d.weekday() < 5:
                reason = self.non_working_reason(d)
                if reason is not None:
                    skipped.append((d, reason))
            d += timedelta(days=1)
        return skipped


# --------------------------------------------------------------------------- deadline


@dataclass(frozen=True)
class Deadline:
    """A response deadline. ``due`` and ``received`` are aware UTC datetimes."""

    due: datetime
    received: datetime
    reason: str
    basis: Basis

    def due_local(self, tz: tzinfo = LONDON) -> datetime:
        return self.due.astimezone(tz)

    def received_local(self, tz: tzinfo = LONDON) -> datetime:
        return self.received.astimezone(tz)


def format_local(dt: datetime, tz: tzinfo = LONDON, *, with_year: bool = False) -> str:
    """Format an aware datetime in ``tz`` as "Tue 26 May 17:00" (locale-independent)."""
    local = _require_aware(dt).astimezone(tz)
    year = f" {local.year}" if with_year else ""
    day = f"{_DAY_ABBR[local.weekday()]} {local.day} {_MONTH_ABBR[local.month - 1]}"
    return f"{day}{year} {local.hour:02d}:{local.minute:02d}"


def _format_date(d: date) -> str:
    return f"{_DAY_ABBR[d.weekday()]} {d.day} {_MONTH_ABBR[d.month - 1]}"


def format_duration(window: timedelta) -> str:
    """ "24 hours", "1 hour", "1 hour 30 minutes", "45 minutes"."""
    total_seconds = int(window.total_seconds())
    hours, rest = divmod(total_seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = []
    for amount, unit in ((hours, "hour"), (minutes, "minute"), (seconds, "second")):
        if amount:
            parts.append(f"{amount} {unit}{'' if amount == 1 else 's'}")
    return " ".join(parts) or "0 minutes"


def _require_aware(dt: datetime) -> datetime:
    if not isinstance(dt, datetime):
        raise TypeError(f"expected a datetime, got {dt!r}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware (naive datetimes are ambiguous)")
    return dt


def _window(window_hours: WindowHours) -> timedelta:
    if isinstance(window_hours, bool):
        raise TypeError("window_hours must be a number of hours or a timedelta")
    if isinstance(window_hours, timedelta):
        window = window_hours
    elif isinstance(window_hours, int | float):
        window = timedelta(hours=window_hours)
    else:
        raise TypeError("window_hours must be a number of hours or a timedelta")
    if window <= timedelta(0):
        raise ValueError("window must be positive")
    return window


def _close_on(d: date, close_of_business: time, tz: tzinfo) -> datetime:
    """Close of business on local date ``d``, as aware UTC.

    Round-tripping through UTC normalises a wall time that falls in a DST gap.
    """
    local = datetime.combine(d, close_of_business.replace(tzinfo=None), tzinfo=tz)
    return local.astimezone(UTC)


def end_of_next_working_day(
    received: datetime,
    calendar: Calendar,
    close_of_business: time = DEFAULT_CLOSE_OF_BUSINESS,
    tz: tzinfo = LONDON,
) -> datetime:
    """Close of business (local) on the first working day strictly after the local
    date of ``received``; aware UTC."""
    local_date = _require_aware(received).astimezone(tz).date()
    return _close_on(calendar.next_working_day(local_date), close_of_business, tz)


def _next_working_day_reason(received: datetime, due: datetime, calendar: Calendar, tz: tzinfo, *, lead: str) -> str:
    received_date = received.astimezone(tz).date()
    due_date = due.astimezone(tz).date()
    reason = f"due {format_local(due, tz)} — {lead}"
    skipped = calendar.skipped_days(received_date, due_date)
    if skipped:
        listed = ", ".join(f"{_format_date(d)} ({why})" for d, why in skipped)
        reason += f"; skipped {listed}"
    return reason


def response_due(
    received: datetime,
    calendar: Calendar,
    *,
    window_hours: WindowHours = DEFAULT_WINDOW_HOURS,
    close_of_business: time = DEFAULT_CLOSE_OF_BUSINESS,
    working_days_only: bool = True,
    tz: tzinfo = LONDON,
) -> Deadline:
    """When a report received at ``received`` must be responded to.

    ``received`` must be timezone-aware (any zone); naive datetimes raise ValueError.
    ``window_hours``: int/float hours or a timedelta (default 24).
    ``working_days_only=False``: pure elapsed window, calendar ignored.
    """
    received_utc = _require_aware(received).astimezone(UTC)
    window = _window(window_hours)
    received_local = received_utc.astimezone(tz)
    span = format_duration(window)

    if not working_days_only:
        due = received_utc + window
        reason = _elapsed_reason(
            received_utc,
            due,
            tz,
            span,
            note="counted in elapsed time including weekends, bank holidays and school closures",
        )
        return Deadline(due, received_utc, reason, "elapsed_any_day")

    why_not = calendar.non_working_reason(received_local.date())
    if why_not is None:
        due = received_utc + window
        reason = _elapsed_reason(received_utc, due, tz, span)
        return Deadline(due, received_utc, reason, "elapsed")

    due = end_of_next_working_day(received_utc, calendar, close_of_business, tz)
    lead = f"received {format_local(received_utc, tz)} ({why_not}), so due by close of business on the next working day"
    reason = _next_working_day_reason(received_utc, due, calendar, tz, lead=lead)
    return Deadline(due, received_utc, reason, "next_working_day")


def _elapsed_reason(received: datetime, due: datetime, tz: tzinfo, span: str, *, note: str = "") -> str:
    """ "due Thu 20 Nov 10:30 — 24 hours after receipt (Wed 19 Nov 10:30)" plus an
    optional note and a remark when the clocks change inside the window."""
    reason = f"due {format_local(due, tz)} — {span} after receipt "
    reason += f"({format_local(received, tz)})"
    if note:
        reason += f", {note}"
    before = received.astimezone(tz).utcoffset()
    after = due.astimezone(tz).utcoffset()
    if before is not None and after is not None and before != after:
        direction = "forward" if after > before else "back"
        reason += f"; the clocks go {direction} in between"
    return reason


def one_working_day_after(
    received: datetime,
    calendar: Calendar,
    close_of_business: time = DEFAULT_CLOSE_OF_BUSINESS,
    tz: tzinfo = LONDON,
) -> Deadline:
    """Deadline for duties "within one working day" (e.g. LADO referral).

    Interpretation: due at close of business (local) on the first working day
    strictly after the local date of receipt, whatever the time of receipt and
    whether or not the receipt day itself was a working day. So a concern raised
    on Wednesday (any time) is due by Thursday close of business, and one raised
    on Saturday, or on a bank holiday Monday, is due by close of business on the
    next working day. This never gives less than one full working day after the
    day of receipt; it is deliberately not an elapsed-hours clock.
    """
    received_utc = _require_aware(received).astimezone(UTC)
    due = end_of_next_working_day(received_utc, calendar, close_of_business, tz)
    why_not = calendar.non_working_reason(received_utc.astimezone(tz).date())
    detail = f" ({why_not})" if why_not else ""
    lead = (
        f"received {format_local(received_utc, tz)}{detail}; "
        "within one working day means by close of business on the next working day"
    )
    reason = _next_working_day_reason(received_utc, due, calendar, tz, lead=lead)
    return Deadline(due, received_utc, reason, "next_working_day")
