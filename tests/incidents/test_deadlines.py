"""Tests for the pure response-deadline calendar (product spec, section 4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents import deadlines
from incidents.deadlines import (
    LONDON,
    NATION_LABELS,
    NATION_SUBDIV,
    NATIONS,
    Calendar,
    Deadline,
    end_of_next_working_day,
    format_duration,
    format_local,
    one_working_day_after,
    response_due,
)

ENGLAND = Calendar("england")
WALES = Calendar("wales")
SCOTLAND = Calendar("scotland")
NORTHERN_IRELAND = Calendar("northern_ireland")
CALENDARS = {
    "england": ENGLAND,
    "wales": WALES,
    "scotland": SCOTLAND,
    "northern_ireland": NORTHERN_IRELAND,
}


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def due_local(received: datetime, calendar: Calendar = ENGLAND, **kwargs: object) -> datetime:
    return response_due(received, calendar, **kwargs).due_local()  # type: ignore[arg-type]


def wall(dt: datetime) -> tuple[int, int, int, int, int]:
    """Local wall-clock fields, for exact comparisons that ignore tzinfo identity."""
    local = dt.astimezone(LONDON)
    return (local.year, local.month, local.day, local.hour, local.minute)


# --- worked examples -------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected_due"),
    [
        pytest.param(
            london(2025, 11, 19, 10, 30),
            london(2025, 11, 20, 10, 30),
            id="wed-working-day",
        ),
        pytest.param(
            london(2025, 11, 21, 16, 0),
            london(2025, 11, 22, 16, 0),
            id="fri-lands-on-sat",
        ),
        pytest.param(london(2025, 11, 22, 9, 0), london(2025, 11, 24, 17, 0), id="sat-to-mon-cob"),
        pytest.param(
            london(2026, 5, 24, 12, 0),
            london(2026, 5, 26, 17, 0),
            id="sun-before-spring-bank-hol",
        ),
        pytest.param(
            london(2026, 3, 28, 23, 30),
            london(2026, 3, 30, 17, 0),
            id="sat-across-spring-forward",
        ),
    ],
)
def test_worked_examples_from_spec_in_england(received: datetime, expected_due: datetime) -> None:
    deadline = response_due(received, ENGLAND)

    assert wall(deadline.due) == wall(expected_due)
    assert deadline.due == expected_due.astimezone(UTC)


def test_working_day_receipt_reason_names_the_window_and_receipt_time() -> None:
    deadline = response_due(london(2025, 11, 19, 10, 30), ENGLAND)

    assert deadline.reason == "due Thu 20 Nov 10:30 — 24 hours after receipt (Wed 19 Nov 10:30)"
    assert deadline.basis == "elapsed"


def test_friday_afternoon_receipt_is_due_on_saturday_in_elapsed_time() -> None:
    deadline = response_due(london(2025, 11, 21, 16, 0), ENGLAND)

    assert deadline.reason == "due Sat 22 Nov 16:00 — 24 hours after receipt (Fri 21 Nov 16:00)"


def test_saturday_receipt_reason_says_received_at_weekend_and_next_working_day() -> None:
    deadline = response_due(london(2025, 11, 22, 9, 0), ENGLAND)

    assert deadline.reason == (
        "due Mon 24 Nov 17:00 — received Sat 22 Nov 09:00 (Saturday), "
        "so due by close of business on the next working day"
    )
    assert deadline.basis == "next_working_day"


def test_sunday_receipt_before_bank_holiday_names_the_skipped_holiday() -> None:
    deadline = response_due(london(2026, 5, 24, 12, 0), ENGLAND)

    assert deadline.reason.startswith("due Tue 26 May 17:00 — received Sun 24 May 12:00 (Sunday)")
    assert "skipped Mon 25 May (bank holiday: Spring Bank Holiday (England))" in deadline.reason


def test_saturday_receipt_across_spring_forward_is_due_monday_17_bst() -> None:
    deadline = response_due(london(2026, 3, 28, 23, 30), ENGLAND)

    assert deadline.due == datetime(2026, 3, 30, 16, 0, tzinfo=UTC)  # 17:00 BST
    assert deadline.due_local().utcoffset() == timedelta(hours=1)
    assert deadline.received == datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # GMT
    assert deadline.reason.startswith("due Mon 30 Mar 17:00 — received Sat 28 Mar 23:30 (Saturday)")


# --- Christmas / New Year --------------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected_due", "skipped"),
    [
        # 2025: Christmas Thu, Boxing Day Fri.
        (
            london(2025, 12, 25, 10, 0),
            london(2025, 12, 29, 17, 0),
            ["Fri 26 Dec (bank holiday: Boxing Day (England))"],
        ),
        (london(2025, 12, 27, 10, 0), london(2025, 12, 29, 17, 0), []),
        # 2026: Christmas Fri, Boxing Day Sat -> substitute Mon 28 Dec.
        (
            london(2026, 12, 25, 10, 0),
            london(2026, 12, 29, 17, 0),
            ["Mon 28 Dec (bank holiday: Boxing Day (observed) (England))"],
        ),
        # 2027: Christmas Sat, Boxing Day Sun -> substitutes Mon 27 and Tue 28 Dec.
        (
            london(2027, 12, 25, 9, 0),
            london(2027, 12, 29, 17, 0),
            [
                "Mon 27 Dec (bank holiday: Christmas Day (observed) (England))",
                "Tue 28 Dec (bank holiday: Boxing Day (observed) (England))",
            ],
        ),
        (
            london(2027, 12, 26, 20, 0),
            london(2027, 12, 29, 17, 0),
            [
                "Mon 27 Dec (bank holiday: Christmas Day (observed) (England))",
                "Tue 28 Dec (bank holiday: Boxing Day (observed) (England))",
            ],
        ),
        # New Year's Day 2026 is a Thursday.
        (london(2026, 1, 1, 11, 0), london(2026, 1, 2, 17, 0), []),
        # New Year's Day 2027 is a Friday.
        (london(2027, 1, 1, 11, 0), london(2027, 1, 4, 17, 0), []),
        # New Year's Day 2028 is a Saturday -> substitute Mon 3 Jan.
        (
            london(2028, 1, 1, 11, 0),
            london(2028, 1, 4, 17, 0),
            ["Mon 3 Jan (bank holiday: New Year's Day (observed) (England))"],
        ),
    ],
)
def test_christmas_and_new_year_receipts_in_england(
    received: datetime, expected_due: datetime, skipped: list[str]
) -> None:
    deadline = response_due(received, ENGLAND)

    assert wall(deadline.due) == wall(expected_due)
    for fragment in skipped:
        assert fragment in deadline.reason
    if not skipped:
        assert "skipped" not in deadline.reason


def test_received_on_christmas_day_names_christmas_as_the_reason() -> None:
    deadline = response_due(london(2025, 12, 25, 8, 15), ENGLAND)

    assert deadline.reason.startswith(
        "due Mon 29 Dec 17:00 — received Thu 25 Dec 08:15 (bank holiday: Christmas Day (England))"
    )


def test_received_on_christmas_day_at_weekend_gives_both_reasons() -> None:
    deadline = response_due(london(2027, 12, 25, 9, 0), ENGLAND)

    assert "(Saturday; bank holiday: Christmas Day (England))" in deadline.reason


@pytest.mark.parametrize(
    ("received", "expected_due"),
    [
        # Christmas Eve is a working day: the literal 24-hour rule lands on
        # Christmas Day.
        (london(2025, 12, 24, 12, 0), london(2025, 12, 25, 12, 0)),
        (london(2026, 12, 24, 12, 0), london(2026, 12, 25, 12, 0)),
        (london(2027, 12, 24, 12, 0), london(2027, 12, 25, 12, 0)),
        # New Year's Eve likewise.
        (london(2025, 12, 31, 16, 0), london(2026, 1, 1, 16, 0)),
    ],
)
def test_christmas_eve_and_new_years_eve_receipts_use_elapsed_24_hours(
    received: datetime, expected_due: datetime
) -> None:
    assert wall(due_local(received)) == wall(expected_due)


@pytest.mark.parametrize("nation", NATIONS)
def test_christmas_2027_substitute_days_apply_in_every_nation(nation: str) -> None:
    calendar = CALENDARS[nation]

    assert not calendar.is_working_day(date(2027, 12, 27))
    assert not calendar.is_working_day(date(2027, 12, 28))
    assert calendar.next_working_day(date(2027, 12, 24)) == date(2027, 12, 29)


# --- nation-specific -------------------------------------------------------


def _due_dates_by_nation(received: datetime) -> dict[str, datetime]:
    return {nation: due_local(received, CALENDARS[nation]) for nation in NATIONS}


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        # 2 January holiday (Scotland only). New Year's Day 2026 is Thu, 2 Jan is Fri.
        pytest.param(
            london(2026, 1, 1, 9, 0),
            {
                "england": london(2026, 1, 2, 17, 0),
                "wales": london(2026, 1, 2, 17, 0),
                "scotland": london(2026, 1, 5, 17, 0),
                "northern_ireland": london(2026, 1, 2, 17, 0),
            },
            id="scotland-2-january-2026",
        ),
        # 2027: 1 Jan Fri, 2 Jan Sat -> Scottish substitute Mon 4 Jan.
        pytest.param(
            london(2027, 1, 1, 9, 0),
            {
                "england": london(2027, 1, 4, 17, 0),
                "wales": london(2027, 1, 4, 17, 0),
                "scotland": london(2027, 1, 5, 17, 0),
                "northern_ireland": london(2027, 1, 4, 17, 0),
            },
            id="scotland-2-january-substitute-2027",
        ),
        # Receipt on 2 Jan 2026: +24h in England; a holiday in Scotland.
        pytest.param(
            london(2026, 1, 2, 10, 0),
            {
                "england": london(2026, 1, 3, 10, 0),
                "wales": london(2026, 1, 3, 10, 0),
                "scotland": london(2026, 1, 5, 17, 0),
                "northern_ireland": london(2026, 1, 3, 10, 0),
            },
            id="receipt-on-2-january-2026",
        ),
        # St Andrew's Day 2025 is Sunday 30 Nov -> Scottish substitute Monday 1 Dec.
        pytest.param(
            london(2025, 11, 29, 10, 0),
            {
                "england": london(2025, 12, 1, 17, 0),
                "wales": london(2025, 12, 1, 17, 0),
                "scotland": london(2025, 12, 2, 17, 0),
                "northern_ireland": london(2025, 12, 1, 17, 0),
            },
            id="st-andrews-substitute-monday-2025",
        ),
        # St Andrew's Day 2026 is Monday 30 Nov itself.
        pytest.param(
            london(2026, 11, 29, 10, 0),
            {
                "england": london(2026, 11, 30, 17, 0),
                "wales": london(2026, 11, 30, 17, 0),
                "scotland": london(2026, 12, 1, 17, 0),
                "northern_ireland": london(2026, 11, 30, 17, 0),
            },
            id="st-andrews-monday-2026",
        ),
        # Easter 2026: Good Friday 3 Apr everywhere; Easter Monday 6 Apr not in
        # Scotland.
        pytest.param(
            london(2026, 4, 3, 10, 0),
            {
                "england": london(2026, 4, 7, 17, 0),
                "wales": london(2026, 4, 7, 17, 0),
                "scotland": london(2026, 4, 6, 17, 0),
                "northern_ireland": london(2026, 4, 7, 17, 0),
            },
            id="easter-2026-good-friday-receipt",
        ),
        pytest.param(
            london(2026, 4, 5, 18, 0),
            {
                "england": london(2026, 4, 7, 17, 0),
                "wales": london(2026, 4, 7, 17, 0),
                "scotland": london(2026, 4, 6, 17, 0),
                "northern_ireland": london(2026, 4, 7, 17, 0),
            },
            id="easter-sunday-2026-receipt",
        ),
        # Easter Monday 2025 is 21 Apr: a working day in Scotland only.
        pytest.param(
            london(2025, 4, 21, 11, 0),
            {
                "england": london(2025, 4, 22, 17, 0),
                "wales": london(2025, 4, 22, 17, 0),
                "scotland": london(2025, 4, 22, 11, 0),
                "northern_ireland": london(2025, 4, 22, 17, 0),
            },
            id="easter-monday-2025-receipt",
        ),
        # Scotland's summer bank holiday: first Monday of August (3 Aug 2026).
        pytest.param(
            london(2026, 8, 2, 10, 0),
            {
                "england": london(2026, 8, 3, 17, 0),
                "wales": london(2026, 8, 3, 17, 0),
                "scotland": london(2026, 8, 4, 17, 0),
                "northern_ireland": london(2026, 8, 3, 17, 0),
            },
            id="scotland-first-monday-august-2026",
        ),
        # Rest of the UK: last Monday of August (31 Aug 2026).
        pytest.param(
            london(2026, 8, 30, 10, 0),
            {
                "england": london(2026, 9, 1, 17, 0),
                "wales": london(2026, 9, 1, 17, 0),
                "scotland": london(2026, 8, 31, 17, 0),
                "northern_ireland": london(2026, 9, 1, 17, 0),
            },
            id="late-summer-bank-holiday-2026",
        ),
        # St Patrick's Day, Tue 17 Mar 2026: Northern Ireland only.
        pytest.param(
            london(2026, 3, 17, 10, 0),
            {
                "england": london(2026, 3, 18, 10, 0),
                "wales": london(2026, 3, 18, 10, 0),
                "scotland": london(2026, 3, 18, 10, 0),
                "northern_ireland": london(2026, 3, 18, 17, 0),
            },
            id="st-patricks-day-2026",
        ),
        # Battle of the Boyne: 12 Jul 2026 is a Sunday -> NI substitute Mon 13 Jul.
        pytest.param(
            london(2026, 7, 11, 10, 0),
            {
                "england": london(2026, 7, 13, 17, 0),
                "wales": london(2026, 7, 13, 17, 0),
                "scotland": london(2026, 7, 13, 17, 0),
                "northern_ireland": london(2026, 7, 14, 17, 0),
            },
            id="twelfth-of-july-substitute-2026",
        ),
        # 12 Jul 2027 is a Monday.
        pytest.param(
            london(2027, 7, 12, 9, 0),
            {
                "england": london(2027, 7, 13, 9, 0),
                "wales": london(2027, 7, 13, 9, 0),
                "scotland": london(2027, 7, 13, 9, 0),
                "northern_ireland": london(2027, 7, 13, 17, 0),
            },
            id="twelfth-of-july-2027",
        ),
    ],
)
def test_nation_specific_bank_holidays(received: datetime, expected: dict[str, datetime]) -> None:
    actual = _due_dates_by_nation(received)

    assert {n: wall(d) for n, d in actual.items()} == {n: wall(d) for n, d in expected.items()}


def test_scottish_reason_names_st_andrews_day_substitute() -> None:
    deadline = response_due(london(2025, 11, 29, 10, 0), SCOTLAND)

    assert "skipped Mon 1 Dec (bank holiday: Saint Andrew's Day (observed) (Scotland))" in deadline.reason


def test_northern_ireland_reason_names_st_patricks_day_on_receipt() -> None:
    deadline = response_due(london(2026, 3, 17, 10, 0), NORTHERN_IRELAND)

    assert "(bank holiday: Saint Patrick's Day (Northern Ireland))" in deadline.reason


@pytest.mark.parametrize(
    ("nation", "expected"),
    [
        ("england", "bank holiday: Easter Monday (England)"),
        ("wales", "bank holiday: Easter Monday (Wales)"),
        ("scotland", None),
        ("northern_ireland", "bank holiday: Easter Monday (Northern Ireland)"),
    ],
)
def test_easter_monday_is_not_a_bank_holiday_in_scotland(nation: str, expected: str | None) -> None:
    assert CALENDARS[nation].non_working_reason(date(2026, 4, 6)) == expected


@pytest.mark.parametrize(("nation", "subdiv"), list(NATION_SUBDIV.items()))
def test_every_nation_looks_up_holidays_with_its_subdivision(
    nation: str, subdiv: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str | None]] = []
    real = holidays.country_holidays

    def spy(country: str, subdiv: str | None = None, **kwargs: object) -> holidays.HolidayBase:
        calls.append((country, subdiv))
        return real(country, subdiv=subdiv, **kwargs)  # type: ignore[arg-type]

    deadlines.clear_holiday_cache()
    monkeypatch.setattr(deadlines.holidays, "country_holidays", spy)
    try:
        Calendar(nation).is_working_day(date(2026, 6, 1))
    finally:
        deadlines.clear_holiday_cache()

    assert calls == [("GB", subdiv)]


def test_holiday_lookups_are_cached_per_nation_and_year(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str | None, object]] = []
    real = holidays.country_holidays

    def spy(country: str, subdiv: str | None = None, **kwargs: object) -> holidays.HolidayBase:
        calls.append((subdiv, kwargs.get("years")))
        return real(country, subdiv=subdiv, **kwargs)  # type: ignore[arg-type]

    deadlines.clear_holiday_cache()
    monkeypatch.setattr(deadlines.holidays, "country_holidays", spy)
    try:
        for day in range(1, 29):
            ENGLAND.is_working_day(date(2026, 2, day))
            SCOTLAND.is_working_day(date(2026, 2, day))
        ENGLAND.is_working_day(date(2027, 2, 1))
    finally:
        deadlines.clear_holiday_cache()

    assert sorted(c[0] for c in calls) == ["ENG", "ENG", "SCT"]


def test_nation_labels_and_subdivisions_cover_every_nation() -> None:
    assert set(NATIONS) == set(NATION_SUBDIV) == set(NATION_LABELS)


# --- clock changes ---------------------------------------------------------


def test_default_window_from_a_working_day_can_never_cross_a_uk_clock_change() -> None:
    # UK clocks change at 01:00 UTC on a Sunday; the latest working-day receipt
    # (Friday 23:59) plus 24 hours ends on Saturday, so the wall time is unchanged.
    friday_late = london(2026, 3, 27, 23, 59)
    deadline = response_due(friday_late, ENGLAND)

    assert wall(deadline.due) == (2026, 3, 28, 23, 59)
    assert "clocks" not in deadline.reason


def test_elapsed_window_across_spring_forward_shows_wall_time_one_hour_later() -> None:
    received = london(2026, 3, 28, 10, 0)  # Sat, GMT
    deadline = response_due(received, ENGLAND, working_days_only=False)

    assert deadline.due - deadline.received == timedelta(hours=24)
    assert wall(deadline.due) == (2026, 3, 29, 11, 0)  # BST: 11:00, not 10:00
    assert deadline.reason.endswith("the clocks go forward in between")


def test_elapsed_window_across_fall_back_shows_wall_time_one_hour_earlier() -> None:
    received = london(2026, 10, 24, 10, 0)  # Sat, BST
    deadline = response_due(received, ENGLAND, working_days_only=False)

    assert deadline.due - deadline.received == timedelta(hours=24)
    assert wall(deadline.due) == (2026, 10, 25, 9, 0)  # GMT: 09:00, not 10:00
    assert deadline.reason.endswith("the clocks go back in between")


def test_longer_working_day_window_across_spring_forward_is_elapsed_time() -> None:
    received = london(2026, 3, 27, 10, 0)  # Fri, GMT
    deadline = response_due(received, ENGLAND, window_hours=48)

    assert deadline.due - deadline.received == timedelta(hours=48)
    assert wall(deadline.due) == (2026, 3, 29, 11, 0)


def test_longer_working_day_window_across_fall_back_is_elapsed_time() -> None:
    received = london(2026, 10, 23, 10, 0)  # Fri, BST
    deadline = response_due(received, ENGLAND, window_hours=48)

    assert deadline.due - deadline.received == timedelta(hours=48)
    assert wall(deadline.due) == (2026, 10, 25, 9, 0)


@pytest.mark.parametrize(
    "received",
    [
        london(2026, 10, 24, 9, 0),  # Sat before fall back (BST)
        london(2026, 10, 25, 0, 30),  # Sun, BST
        london(2026, 10, 25, 1, 30, 0),  # ambiguous hour, first occurrence (BST)
        datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=LONDON),  # second occurrence (GMT)
        london(2026, 10, 25, 23, 0),  # Sun evening, GMT
    ],
)
def test_weekend_receipt_across_fall_back_is_due_monday_17_gmt(
    received: datetime,
) -> None:
    deadline = response_due(received, ENGLAND)

    assert deadline.due == datetime(2026, 10, 26, 17, 0, tzinfo=UTC)
    assert wall(deadline.due) == (2026, 10, 26, 17, 0)


@pytest.mark.parametrize(
    "received",
    [
        london(2026, 3, 28, 9, 0),
        london(2026, 3, 29, 0, 30),  # just before the change (GMT)
        london(2026, 3, 29, 2, 30),  # just after (BST)
    ],
)
def test_weekend_receipt_across_spring_forward_is_due_monday_17_bst(
    received: datetime,
) -> None:
    deadline = response_due(received, ENGLAND)

    assert deadline.due == datetime(2026, 3, 30, 16, 0, tzinfo=UTC)
    assert wall(deadline.due) == (2026, 3, 30, 17, 0)


# --- boundaries ------------------------------------------------------------


def test_saturday_midnight_is_a_weekend_receipt() -> None:
    assert wall(due_local(london(2025, 11, 22, 0, 0))) == (2025, 11, 24, 17, 0)


def test_monday_midnight_is_a_working_day_receipt() -> None:
    assert wall(due_local(london(2025, 11, 24, 0, 0))) == (2025, 11, 25, 0, 0)


def test_one_minute_before_monday_is_still_a_weekend_receipt() -> None:
    assert wall(due_local(london(2025, 11, 23, 23, 59))) == (2025, 11, 24, 17, 0)


def test_friday_close_of_business_is_still_a_working_day_receipt() -> None:
    assert wall(due_local(london(2025, 11, 21, 17, 0))) == (2025, 11, 22, 17, 0)


def test_saturday_close_of_business_is_due_monday_close_of_business() -> None:
    assert wall(due_local(london(2025, 11, 22, 17, 0))) == (2025, 11, 24, 17, 0)


def test_friday_one_minute_to_midnight_is_due_saturday_one_minute_to_midnight() -> None:
    assert wall(due_local(london(2025, 11, 21, 23, 59))) == (2025, 11, 22, 23, 59)


def test_working_day_is_judged_on_the_london_date_not_the_utc_date() -> None:
    # 23:30 UTC on Fri 22 May 2026 is 00:30 BST on Saturday.
    received = datetime(2026, 5, 22, 23, 30, tzinfo=UTC)

    assert wall(due_local(received)) == (
        2026,
        5,
        26,
        17,
        0,
    )  # Mon 25 May is a bank holiday


def test_receipt_in_another_time_zone_is_converted_first() -> None:
    new_york = ZoneInfo("America/New_York")
    received = datetime(2025, 11, 19, 5, 30, tzinfo=new_york)  # 10:30 London

    deadline = response_due(received, ENGLAND)

    assert deadline.received == datetime(2025, 11, 19, 10, 30, tzinfo=UTC)
    assert wall(deadline.due) == (2025, 11, 20, 10, 30)
    assert deadline.due.tzinfo is UTC
    assert deadline.received.tzinfo is UTC


def test_custom_close_of_business_is_respected() -> None:
    deadline = response_due(london(2025, 11, 22, 9, 0), ENGLAND, close_of_business=time(15, 30))

    assert wall(deadline.due) == (2025, 11, 24, 15, 30)
    assert deadline.reason.startswith("due Mon 24 Nov 15:30")


# --- closures / extras -----------------------------------------------------


def test_inset_day_on_monday_pushes_weekend_receipt_to_tuesday() -> None:
    calendar = Calendar("england", closures={date(2025, 11, 24): "INSET day"})

    deadline = response_due(london(2025, 11, 22, 9, 0), calendar)

    assert wall(deadline.due) == (2025, 11, 25, 17, 0)
    assert "skipped Mon 24 Nov (school closure: INSET day)" in deadline.reason


def test_run_of_closure_days_is_skipped_and_each_day_named() -> None:
    calendar = Calendar(
        "england",
        closures={
            date(2026, 1, 19): "snow day",
            date(2026, 1, 20): "snow day",
            date(2026, 1, 21): "INSET day",
        },
    )

    deadline = response_due(london(2026, 1, 18, 20, 0), calendar)

    assert wall(deadline.due) == (2026, 1, 22, 17, 0)
    assert (
        "skipped Mon 19 Jan (school closure: snow day), "
        "Tue 20 Jan (school closure: snow day), "
        "Wed 21 Jan (school closure: INSET day)"
    ) in deadline.reason


def test_receipt_on_a_closure_day_is_a_non_working_receipt() -> None:
    calendar = Calendar("england", closures={date(2025, 11, 19): "INSET day"})

    deadline = response_due(london(2025, 11, 19, 10, 30), calendar)

    assert wall(deadline.due) == (2025, 11, 20, 17, 0)
    assert "(school closure: INSET day)" in deadline.reason


def test_closures_may_be_a_plain_set_of_dates() -> None:
    calendar = Calendar("england", closures={date(2025, 11, 24)})

    assert calendar.non_working_reason(date(2025, 11, 24)) == "school closure: closure"
    assert wall(due_local(london(2025, 11, 22, 9, 0), calendar)) == (
        2025,
        11,
        25,
        17,
        0,
    )


def test_closure_after_a_bank_holiday_is_skipped_too() -> None:
    calendar = Calendar("england", closures={date(2026, 5, 26): "INSET day"})

    deadline = response_due(london(2026, 5, 24, 12, 0), calendar)

    assert wall(deadline.due) == (2026, 5, 27, 17, 0)
    assert (
        "skipped Mon 25 May (bank holiday: Spring Bank Holiday (England)), "
        "Tue 26 May (school closure: INSET day)" in deadline.reason
    )


def test_extra_bank_holiday_is_a_non_working_day_with_its_name() -> None:
    calendar = Calendar("england", extra_holidays={date(2026, 6, 8): "Special bank holiday"})

    deadline = response_due(london(2026, 6, 6, 10, 0), calendar)

    assert wall(deadline.due) == (2026, 6, 9, 17, 0)
    assert "skipped Mon 8 Jun (bank holiday: Special bank holiday (England))" in deadline.reason
    assert wall(due_local(london(2026, 6, 6, 10, 0), ENGLAND)) == (2026, 6, 8, 17, 0)


def test_calendar_copies_closures_so_later_mutation_has_no_effect() -> None:
    closures = {date(2025, 11, 24): "INSET day"}
    calendar = Calendar("england", closures=closures)
    closures[date(2025, 11, 25)] = "INSET day"

    assert calendar.is_working_day(date(2025, 11, 25))


def test_datetime_closure_keys_are_rejected() -> None:
    with pytest.raises(TypeError):
        Calendar("england", closures={datetime(2025, 11, 24, 9, 0): "INSET day"})


# --- tighter windows -------------------------------------------------------


def test_safeguarding_one_hour_window_runs_through_the_weekend() -> None:
    deadline = response_due(london(2025, 11, 22, 9, 0), ENGLAND, window_hours=1, working_days_only=False)

    assert wall(deadline.due) == (2025, 11, 22, 10, 0)
    assert deadline.basis == "elapsed_any_day"
    assert deadline.reason == (
        "due Sat 22 Nov 10:00 — 1 hour after receipt (Sat 22 Nov 09:00), "
        "counted in elapsed time including weekends, bank holidays and school closures"
    )


def test_safeguarding_window_ignores_bank_holidays_and_closures() -> None:
    calendar = Calendar("england", closures={date(2025, 12, 29): "INSET day"})

    deadline = response_due(london(2025, 12, 25, 23, 30), calendar, window_hours=1, working_days_only=False)

    assert wall(deadline.due) == (2025, 12, 26, 0, 30)


def test_four_hour_window_on_a_working_day_is_elapsed() -> None:
    assert wall(due_local(london(2025, 11, 19, 15, 0), window_hours=4)) == (
        2025,
        11,
        19,
        19,
        0,
    )


def test_four_hour_window_on_saturday_waits_for_next_working_day_close() -> None:
    deadline = response_due(london(2025, 11, 22, 9, 0), ENGLAND, window_hours=4, working_days_only=True)

    assert wall(deadline.due) == (2025, 11, 24, 17, 0)
    assert deadline.basis == "next_working_day"


def test_window_may_be_a_float_or_a_timedelta() -> None:
    by_float = response_due(london(2025, 11, 19, 10, 0), ENGLAND, window_hours=1.5)
    by_delta = response_due(london(2025, 11, 19, 10, 0), ENGLAND, window_hours=timedelta(minutes=90))

    assert by_float == by_delta
    assert wall(by_float.due) == (2025, 11, 19, 11, 30)
    assert "1 hour 30 minutes after receipt" in by_float.reason


@pytest.mark.parametrize("bad", [0, -1, timedelta(0), timedelta(hours=-2)])
def test_non_positive_windows_are_rejected(bad: int | timedelta) -> None:
    with pytest.raises(ValueError, match="positive"):
        response_due(london(2025, 11, 19, 10, 0), ENGLAND, window_hours=bad)


@pytest.mark.parametrize("bad", [True, "24", None])
def test_non_numeric_windows_are_rejected(bad: object) -> None:
    with pytest.raises(TypeError):
        response_due(london(2025, 11, 19, 10, 0), ENGLAND, window_hours=bad)  # type: ignore[arg-type]


# --- LADO / helpers --------------------------------------------------------


def test_one_working_day_after_a_working_day_is_next_day_close_of_business() -> None:
    deadline = one_working_day_after(london(2025, 11, 19, 10, 30), ENGLAND)

    assert wall(deadline.due) == (2025, 11, 20, 17, 0)
    assert deadline.reason == (
        "due Thu 20 Nov 17:00 — received Wed 19 Nov 10:30; "
        "within one working day means by close of business on the next working day"
    )


def test_one_working_day_after_friday_evening_is_monday_close() -> None:
    assert wall(one_working_day_after(london(2025, 11, 21, 21, 0), ENGLAND).due) == (
        2025,
        11,
        24,
        17,
        0,
    )


def test_one_working_day_after_a_weekend_before_bank_holiday_and_inset_day() -> None:
    calendar = Calendar("england", closures={date(2026, 5, 26): "INSET day"})

    deadline = one_working_day_after(london(2026, 5, 23, 10, 0), calendar)

    assert wall(deadline.due) == (2026, 5, 27, 17, 0)
    assert "received Sat 23 May 10:00 (Saturday)" in deadline.reason
    assert "Mon 25 May (bank holiday: Spring Bank Holiday (England))" in deadline.reason
    assert "Tue 26 May (school closure: INSET day)" in deadline.reason


def test_end_of_next_working_day_returns_aware_utc() -> None:
    due = end_of_next_working_day(london(2026, 7, 1, 9, 0), ENGLAND, time(17, 0), LONDON)

    assert due == datetime(2026, 7, 2, 16, 0, tzinfo=UTC)


def test_calendar_next_working_day_is_strictly_after() -> None:
    assert ENGLAND.next_working_day(date(2025, 11, 19)) == date(2025, 11, 20)
    assert ENGLAND.next_working_day(date(2025, 11, 21)) == date(2025, 11, 24)


def test_add_working_days_counts_only_working_days() -> None:
    assert ENGLAND.add_working_days(date(2025, 12, 23), 0) == date(2025, 12, 23)
    assert ENGLAND.add_working_days(date(2025, 12, 23), 1) == date(2025, 12, 24)
    assert ENGLAND.add_working_days(date(2025, 12, 23), 2) == date(2025, 12, 29)
    assert ENGLAND.add_working_days(date(2025, 12, 23), 5) == date(2026, 1, 2)
    assert SCOTLAND.add_working_days(date(2025, 12, 23), 5) == date(2026, 1, 5)
    with pytest.raises(ValueError, match="n must be"):
        ENGLAND.add_working_days(date(2025, 12, 23), -1)


def test_non_working_reason_texts() -> None:
    calendar = Calendar("england", closures={date(2025, 11, 20): "INSET day"})

    assert calendar.non_working_reason(date(2025, 11, 19)) is None
    assert calendar.non_working_reason(date(2025, 11, 20)) == "school closure: INSET day"
    assert calendar.non_working_reason(date(2025, 11, 22)) == "Saturday"
    assert calendar.non_working_reason(date(2025, 11, 23)) == "Sunday"
    assert calendar.non_working_reason(date(2025, 12, 25)) == "bank holiday: Christmas Day (England)"


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (london(2026, 5, 26, 17, 0), "Tue 26 May 17:00"),
        (datetime(2026, 5, 26, 16, 0, tzinfo=UTC), "Tue 26 May 17:00"),
        (datetime(2026, 1, 5, 9, 5, tzinfo=UTC), "Mon 5 Jan 09:05"),
    ],
)
def test_format_local_shows_london_wall_time(dt: datetime, expected: str) -> None:
    assert format_local(dt) == expected


def test_format_local_can_include_the_year() -> None:
    assert format_local(london(2027, 12, 29, 17, 0), with_year=True) == "Wed 29 Dec 2027 17:00"


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (timedelta(hours=24), "24 hours"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(minutes=45), "45 minutes"),
        (timedelta(hours=2, minutes=1), "2 hours 1 minute"),
    ],
)
def test_format_duration(window: timedelta, expected: str) -> None:
    assert format_duration(window) == expected


# --- validation ------------------------------------------------------------


def test_naive_received_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        response_due(datetime(2025, 11, 19, 10, 30), ENGLAND)


def test_naive_datetime_is_rejected_by_every_entry_point() -> None:
    naive = datetime(2025, 11, 19, 10, 30)
    with pytest.raises(ValueError, match="timezone-aware"):
        one_working_day_after(naive, ENGLAND)
    with pytest.raises(ValueError, match="timezone-aware"):
        end_of_next_working_day(naive, ENGLAND)
    with pytest.raises(ValueError, match="timezone-aware"):
        format_local(naive)


@pytest.mark.parametrize("nation", ["England", "uk", "", "ENG", "ni"])
def test_unknown_nation_is_rejected(nation: str) -> None:
    with pytest.raises(ValueError, match="unknown nation"):
        Calendar(nation)


def test_deadline_is_immutable() -> None:
    deadline = response_due(london(2025, 11, 19, 10, 30), ENGLAND)

    assert isinstance(deadline, Deadline)
    with pytest.raises(AttributeError):
        deadline.reason = "x"  # type: ignore[misc]


# --- properties ------------------------------------------------------------


def _oracle_is_working_day(nation: str, d: date) -> bool:
    """Independent check: weekday and not a bank holiday straight from the package."""
    bank = holidays.country_holidays("GB", subdiv=NATION_SUBDIV[nation], years=d.year)
    return d.weekday() < 5 and d not in bank


received_instants = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2030, 12, 31, 23, 59, 59),
    timezones=st.just(UTC),
)


@settings(max_examples=400, deadline=None)
@given(received=received_instants, nation=st.sampled_from(NATIONS))
def test_property_default_rule_holds_for_every_nation(received: datetime, nation: str) -> None:
    calendar = CALENDARS[nation]
    deadline = response_due(received, calendar)
    received_date = received.astimezone(LONDON).date()
    due = deadline.due_local()

    assert deadline.due > deadline.received
    assert deadline.due.tzinfo is UTC
    if _oracle_is_working_day(nation, received_date):
        assert deadline.due - deadline.received == timedelta(hours=24)
        # No UK clock change can fall inside 24h that start on a working day.
        assert due.time() == received.astimezone(LONDON).time()
        assert deadline.basis == "elapsed"
    else:
        assert due.time() == time(17, 0)
        assert _oracle_is_working_day(nation, due.date())
        between = received_date + timedelta(days=1)
        while between < due.date():
            assert not _oracle_is_working_day(nation, between), between
            between += timedelta(days=1)
        assert deadline.basis == "next_working_day"


@settings(max_examples=200, deadline=None)
@given(
    received=received_instants,
    nation=st.sampled_from(NATIONS),
    minutes=st.integers(min_value=1, max_value=7 * 24 * 60),
)
def test_property_elapsed_any_day_window_is_exact(received: datetime, nation: str, minutes: int) -> None:
    deadline = response_due(
        received,
        CALENDARS[nation],
        window_hours=timedelta(minutes=minutes),
        working_days_only=False,
    )

    assert deadline.due - deadline.received == timedelta(minutes=minutes)


@settings(max_examples=200, deadline=None)
@given(received=received_instants, nation=st.sampled_from(NATIONS))
def test_property_one_working_day_after_lands_on_next_working_day_close(received: datetime, nation: str) -> None:
    deadline = one_working_day_after(received, CALENDARS[nation])
    due = deadline.due_local()
    received_date = received.astimezone(LONDON).date()

    assert due.time() == time(17, 0)
    assert due.date() > received_date
    assert _oracle_is_working_day(nation, due.date())
    between = received_date + timedelta(days=1)
    while between < due.date():
        assert not _oracle_is_working_day(nation, between)
        between += timedelta(days=1)
