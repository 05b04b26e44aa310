"""The allegation clocks of KCSIE part four, and what happens when one of them fires.

Three clocks run on a case on the allegation route (docs/allegation-clocks.md), each counted on the
school's working-day calendar (incidents/deadlines.py) and each carrying its reason, like the
first-response deadline:

- INVESTIGATION_REPORT: the investigation report, 10 working days after the decision to investigate;
- FORMAL_ACTION_DECISION: the decision whether formal disciplinary action is needed, 3 working days
  after the report;
- HEARING: the disciplinary hearing, 15 working days after the decision that one is needed.

A clock is up to three Deadline rows of its kind and generation, told apart by `data["step"]`:
a reminder (close of business one working day before), the deadline itself (overdue: the owners are
told) and an escalation (close of business one working day after: the chair, and the trust for a
trust school). incidents/allegations.py starts and stops them; incidents/clocks.py fires them and
calls `clock_effect` (this module imports nothing from clocks.py, which imports it).

The figures' sources are in docs/allegation-clocks.md; where a paragraph number could not be confirmed
against the current KCSIE text, the citation below says "part four" only, never a guessed number.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from accounts.models import Role, User

from .deadlines import LONDON, Calendar, _format_date, format_local
from .models import Deadline, DeadlineKind, DeadlineState, Route, Status, TimelineEntry, TimelineKind
from .notify import notify

REMINDER, DUE, ESCALATION = "reminder", "due", "escalation"


@dataclass(frozen=True)
class Clock:
    kind: str
    days: int
    what: str  # "the investigation report"
    after: str  # "the decision to investigate"
    source: str  # where the figure comes from (docs/allegation-clocks.md)


# What each reason cites. No paragraph number: none could be confirmed against the current KCSIE text
# (docs/allegation-clocks.md says what was and was not); put them here once confirmed.
KCSIE = "KCSIE part four, timescales for allegations"
NOT_CONFIRMED = "PolicyHub's target; not confirmed in KCSIE 2025"

CLOCKS: dict[str, Clock] = {
    DeadlineKind.INVESTIGATION_REPORT: Clock(
        DeadlineKind.INVESTIGATION_REPORT,
        10,
        "the investigation report",
        "the decision to investigate",
        NOT_CONFIRMED,
    ),
    DeadlineKind.FORMAL_ACTION_DECISION: Clock(
        DeadlineKind.FORMAL_ACTION_DECISION,
        3,
        "the decision on formal action",
        "the investigation report",
        KCSIE,
    ),
    DeadlineKind.HEARING: Clock(
        DeadlineKind.HEARING, 15, "the disciplinary hearing", "the decision that a hearing is needed", KCSIE
    ),
}
KINDS = tuple(CLOCKS)


@dataclass(frozen=True)
class Due:
    due_at: datetime
    reason: str
    reminder_at: datetime | None  # None when the clock is one working day or shorter
    escalate_at: datetime


def _close(day: date, close_of_business: time) -> datetime:
    return datetime.combine(day, close_of_business, tzinfo=LONDON)


def due_after(kind: str, start: date, calendar: Calendar, close_of_business: time) -> Due:
    """Close of business on the Nth working day after `start` (the day itself not counted), with its
    reason: "due Fri 5 Jun 17:00 — 10 working days after the decision to investigate on Wed 20 May
    (KCSIE 2025 part four, “Timescales”); skipped Mon 25 May (bank holiday: …)"."""
    clock = CLOCKS[kind]
    due_day = calendar.add_working_days(start, clock.days)
    due_at = _close(due_day, close_of_business)
    reason = (
        f"due {format_local(due_at)} — {clock.days} working days after {clock.after} on {_format_date(start)} "
        f"({clock.source})"
    )
    skipped = calendar.skipped_days(start, due_day)
    if skipped:
        reason += "; skipped " + ", ".join(f"{_format_date(d)} ({why})" for d, why in skipped)
    reminder_at = None
    if clock.days > 1:  # one working day before: close of business on the day before the due day
        reminder_at = _close(calendar.add_working_days(start, clock.days - 1), close_of_business)
    escalate_at = _close(calendar.next_working_day(due_day), close_of_business)
    return Due(due_at=due_at, reason=reason, reminder_at=reminder_at, escalate_at=escalate_at)


# --- Firing (inside clocks.deadline_fire's transaction, the incident locked) ---------------------


def _people(school_id, *roles, exclude=()):
    people = User.objects.filter(is_active=True, memberships__school_id=school_id, memberships__role__in=roles)
    return [p for p in people.distinct().order_by("pk") if p.pk not in exclude]


def _owners(incident):
    """Who must act: the owner, and the DSL on a DSL case; never the subject."""
    people = [p for p in (incident.owner, incident.dsl) if p is not None]
    return [p for p in dict.fromkeys(people) if p.pk != incident.subject_id]


def _notify_all(people, *, kind, deadline, incident):
    # The same key as clocks._notify_all: a second firing of the row sends nothing.
    for person in dict.fromkeys(people):
        notify(
            recipient=person,
            kind=kind,
            key=f"deadline:{deadline.pk}:{kind}:{person.pk}",
            incident=incident,
            deadline=deadline,
        )


def clock_effect(*, deadline, incident, now):
    """A step of an allegation clock came due and the clock was not met (meeting it cancels the
    pending steps). Nothing is sent for a case closed or taken off the allegation route meanwhile:
    the row stays fired for the record."""
    if incident.status == Status.CLOSED or incident.route != Route.ALLEGATION:
        return
    clock = CLOCKS[deadline.kind]
    step = deadline.data.get("step", DUE)
    due_at = datetime.fromisoformat(deadline.data["due_at"]) if "due_at" in deadline.data else deadline.due_at
    what = clock.what[0].upper() + clock.what[1:]
    data = {"deadline": deadline.pk, "clock": deadline.kind, "step": step}
    if step == REMINDER:
        if now >= due_at:
            return  # fired after its own deadline (PolicyHub was off): the deadline's step speaks now
        owners = _owners(incident)
        TimelineEntry.objects.create(
            incident=incident,
            kind=TimelineKind.REMINDER,
            note=f"Reminder sent: {clock.what} is due {format_local(due_at)}.",
            data={**data, "to": [p.pk for p in owners]},
        )
        _notify_all(owners, kind="allegation_reminder", deadline=deadline, incident=incident)
    elif step == DUE:
        owners = _owners(incident)
        TimelineEntry.objects.create(
            incident=incident,
            kind=TimelineKind.OVERDUE,
            note=f"{what} was not recorded by its deadline ({format_local(due_at)}).",
            data={**data, "to": [p.pk for p in owners]},
        )
        _notify_all(owners, kind="allegation_overdue", deadline=deadline, incident=incident)
    else:
        skip = {incident.subject_id}
        chairs = _people(incident.school_id, Role.CHAIR, exclude=skip)
        # Someone who is both chair and trust admin is told once, as the chair.
        skip |= {p.pk for p in chairs}
        trust = _people(incident.school_id, Role.TRUST_ADMIN, exclude=skip) if incident.school.trust_id else []
        TimelineEntry.objects.create(
            incident=incident,
            kind=TimelineKind.ESCALATED,
            note=f"{what} is a working day overdue: escalated to the chair of governors"
            + (" and the trust." if trust else "."),
            data={**data, "to": [p.pk for p in chairs + trust]},
        )
        _notify_all(chairs, kind="allegation_escalation", deadline=deadline, incident=incident)
        _notify_all(trust, kind="allegation_escalation_trust", deadline=deadline, incident=incident)


# --- Reading a clock (the table's requirements and the case page) -----------------------------


def current(incident, kind):
    """The deadline step of the latest generation of this clock on the case, or None."""
    return Deadline.objects.filter(incident=incident, kind=kind, data__step=DUE).order_by("-generation", "-pk").first()


def is_open(row) -> bool:
    """Running, or overdue and still not met."""
    return row is not None and (
        row.state == DeadlineState.PENDING or (row.state == DeadlineState.FIRED and "met_on" not in row.data)
    )


# Requirements of the allegation rows of transitions.TABLE: each returns a message when unmet. The
# route is checked first, so a case on another route costs no query.


def on_allegation_route(incident) -> str | None:
    if incident.route != Route.ALLEGATION:
        return "These clocks apply only to a case on the allegation route (see the triage)."
    return None


def no_investigation_running(incident) -> str | None:
    if on_allegation_route(incident) is None and is_open(current(incident, DeadlineKind.INVESTIGATION_REPORT)):
        return "The decision to investigate is recorded already: record the report when it arrives."
    return None


def investigation_running(incident) -> str | None:
    if on_allegation_route(incident) is None and not is_open(current(incident, DeadlineKind.INVESTIGATION_REPORT)):
        return "Record the decision to investigate first."
    return None


def report_awaiting_decision(incident) -> str | None:
    if on_allegation_route(incident) is None and not is_open(current(incident, DeadlineKind.FORMAL_ACTION_DECISION)):
        return "Record the investigation report first."
    return None


def hearing_awaited(incident) -> str | None:
    if on_allegation_route(incident) is None and not is_open(current(incident, DeadlineKind.HEARING)):
        return "Record first that a disciplinary hearing is needed."
    return None
