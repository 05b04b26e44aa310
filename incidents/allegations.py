"""Allegation route (KCSIE part four): the owner's records that start and stop the allegation clocks,
the clocks shown on the case, and the case-age targets (docs/allegation-clocks.md).

Which record does what:

| record (row of transitions.TABLE) | stops | starts |
|---|---|---|
| decision to investigate | — | investigation report, 10 working days |
| investigation report received | investigation report | decision on formal action, 3 working days |
| formal action needed: no | decision on formal action | — |
| formal action needed: yes (hearing) | decision on formal action | disciplinary hearing, 15 working days |
| hearing held | disciplinary hearing | — |
| triage moves the case off the allegation route | every running clock (cancelled, with the reason) | — |

Services here follow incidents/services.py: one transaction, the incident row locked first, the table
checked (`transitions.check`), a conditional update on the copy read, a timeline entry. This module
imports nothing from services.py (services.py calls `stop_for_route` from triage).
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from . import clocks
from .allegation_clocks import CLOCKS, DUE, ESCALATION, KINDS, REMINDER, current, due_after
from .deadlines import LONDON
from .errors import Invalid, Stale
from .models import Deadline, DeadlineKind, DeadlineState, Incident, Route, Status, TimelineEntry, TimelineKind
from .transitions import check

log = logging.getLogger(__name__)


# --- Starting and stopping (inside the services' transactions) --------------------------------------


def _start(incident: Incident, kind: str, start: date, now: datetime) -> Deadline:
    due = due_after(kind, start, clocks.school_calendar(incident.school), incident.school.close_of_business)
    clocks._cancel(incident, [kind], now)
    generation = clocks._next_generation(incident, [kind])
    common = {"incident": incident, "kind": kind, "generation": generation}
    steps = {"from": start.isoformat(), "due_at": due.due_at.isoformat()}
    rows = [Deadline(due_at=due.due_at, reason=due.reason, data={**steps, "step": DUE}, **common)]
    if due.reminder_at is not None and due.reminder_at > now:
        rows.append(Deadline(due_at=due.reminder_at, data={**steps, "step": REMINDER}, **common))
    rows.append(Deadline(due_at=due.escalate_at, data={**steps, "step": ESCALATION}, **common))
    created = Deadline.objects.bulk_create(rows)
    clocks._schedule_soon(created, now)
    return created[0]


def _meet(incident: Incident, kind: str, met_on: date, now: datetime) -> Deadline:
    """The duty behind a clock was done: its deadline DONE (or, if it had fired, marked met late) and
    its reminder and escalation cancelled."""
    row = current(incident, kind)
    data = {**row.data, "met_on": met_on.isoformat()}
    if row.state == DeadlineState.PENDING:
        Deadline.objects.filter(pk=row.pk, state=DeadlineState.PENDING).update(
            state=DeadlineState.DONE, closed_at=now, data=data
        )
    else:
        Deadline.objects.filter(pk=row.pk).update(data={**data, "late": True})
    Deadline.objects.filter(
        incident=incident, kind=kind, generation=row.generation, state=DeadlineState.PENDING
    ).update(state=DeadlineState.CANCELLED, closed_at=now)
    row.refresh_from_db()
    return row


def stop_for_route(*, incident: Incident, actor, route: str, now: datetime) -> int:
    """Triage took the case off the allegation route: every pending allegation clock step is cancelled
    with the reason (kept on the row and on the timeline). Called under the incident's lock."""
    why = f"the route changed to “{Route(route).label}”" if route else "the route was cleared"
    pending = list(Deadline.objects.filter(incident=incident, kind__in=KINDS, state=DeadlineState.PENDING))
    for row in pending:
        Deadline.objects.filter(pk=row.pk, state=DeadlineState.PENDING).update(
            state=DeadlineState.CANCELLED, closed_at=now, data={**row.data, "stopped": why}
        )
    stopped = sorted({CLOCKS[row.kind].what for row in pending})
    if stopped:
        TimelineEntry.objects.create(
            incident=incident,
            actor=actor,
            kind=TimelineKind.CLOCK,
            note=f"Allegation clocks stopped ({', '.join(stopped)}): {why}.",
            data={"stopped": [row.pk for row in pending], "reason": why},
        )
        log.info("Incident %s: %s allegation clock step(s) cancelled (route)", incident.reference, len(pending))
    return len(pending)


# --- The owner's records (rows of transitions.TABLE) ---------------------------------------------


def _day(value: date | None, what: str, incident: Incident, now: datetime, *, not_before: date | None = None) -> date:
    if value is None:
        raise Invalid(f"Please give the date of {what}.")
    if value > now.astimezone(LONDON).date():
        raise Invalid(f"The date of {what} cannot be in the future.")
    earliest = max(d for d in (incident.received_at.astimezone(LONDON).date(), not_before) if d is not None)
    if value < earliest:
        raise Invalid(f"The date of {what} cannot be before {earliest:%-d %b %Y}.")
    return value


def _record(incident: Incident, actor, name: str, now: datetime, note: str, data: dict) -> None:
    """Win the conditional update on the copy read, and write the timeline (the caller holds the lock
    and has checked the table)."""
    won = Incident.objects.filter(pk=incident.pk, updated_at=incident.updated_at).update(updated_at=now)
    if won != 1:
        raise Stale(
            f"{incident.reference} changed while you were looking at it. Nothing was changed: check the case "
            "and try again."
        )
    incident.updated_at = now
    TimelineEntry.objects.create(
        incident=incident, actor=actor, kind=TimelineKind.CLOCK, note=note, data={"record": name, **data}
    )
    log.info("Incident %s: %s recorded by user %s", incident.reference, name, actor.pk)


def _checked(incident: Incident, actor, name: str) -> None:
    """The house order: the incident row locked first (as clocks.deadline_fire locks it), then the table."""
    clocks_lock(incident)
    check(actor, incident, name)


def clocks_lock(incident: Incident) -> None:
    # The order the workflow's services and clocks.deadline_fire lock in: the incident row first.
    list(Incident.objects.select_for_update().filter(pk=incident.pk).values_list("pk", flat=True))


def _start_day(kind: str, incident: Incident) -> date | None:
    row = current(incident, kind)
    return date.fromisoformat(row.data["from"]) if row is not None and "from" in row.data else None


def allegation_decide_to_investigate(
    *, incident: Incident, actor, decided_on: date, now: datetime | None = None
) -> Deadline:
    """The case manager decided to investigate: the investigation report is due in 10 working days."""
    now = now or timezone.now()
    with transaction.atomic():
        _checked(incident, actor, "decide_to_investigate")
        decided_on = _day(decided_on, "the decision to investigate", incident, now)
        _record(
            incident,
            actor,
            "decide_to_investigate",
            now,
            f"Decision to investigate recorded ({decided_on:%-d %b %Y}).",
            {"on": decided_on.isoformat()},
        )
        return _start(incident, DeadlineKind.INVESTIGATION_REPORT, decided_on, now)


def allegation_report_received(
    *, incident: Incident, actor, received_on: date, now: datetime | None = None
) -> Deadline:
    """The investigation report arrived: its clock is met; the decision on formal action is due in 3."""
    now = now or timezone.now()
    with transaction.atomic():
        _checked(incident, actor, "record_investigation_report")
        received_on = _day(
            received_on,
            "the investigation report",
            incident,
            now,
            not_before=_start_day(DeadlineKind.INVESTIGATION_REPORT, incident),
        )
        _record(
            incident,
            actor,
            "record_investigation_report",
            now,
            f"Investigation report received ({received_on:%-d %b %Y}).",
            {"on": received_on.isoformat()},
        )
        _meet(incident, DeadlineKind.INVESTIGATION_REPORT, received_on, now)
        return _start(incident, DeadlineKind.FORMAL_ACTION_DECISION, received_on, now)


def allegation_formal_action(
    *, incident: Incident, actor, needed: bool, decided_on: date, now: datetime | None = None
) -> Deadline | None:
    """Whether formal disciplinary action (a hearing) is needed: the decision's clock is met; a needed
    hearing is due 15 working days after the decision. Returns the hearing's deadline, if any."""
    now = now or timezone.now()
    if needed is None:
        raise Invalid("Please say whether formal disciplinary action is needed.")
    with transaction.atomic():
        _checked(incident, actor, "record_formal_action")
        decided_on = _day(
            decided_on,
            "the decision on formal action",
            incident,
            now,
            not_before=_start_day(DeadlineKind.FORMAL_ACTION_DECISION, incident),
        )
        answer = "needed: a disciplinary hearing" if needed else "not needed"
        _record(
            incident,
            actor,
            "record_formal_action",
            now,
            f"Formal disciplinary action {answer} (decided {decided_on:%-d %b %Y}).",
            {"on": decided_on.isoformat(), "needed": bool(needed)},
        )
        _meet(incident, DeadlineKind.FORMAL_ACTION_DECISION, decided_on, now)
        return _start(incident, DeadlineKind.HEARING, decided_on, now) if needed else None


def allegation_hearing_held(*, incident: Incident, actor, held_on: date, now: datetime | None = None) -> Deadline:
    now = now or timezone.now()
    with transaction.atomic():
        _checked(incident, actor, "record_hearing_held")
        held_on = _day(held_on, "the hearing", incident, now, not_before=_start_day(DeadlineKind.HEARING, incident))
        _record(
            incident,
            actor,
            "record_hearing_held",
            now,
            f"Disciplinary hearing held ({held_on:%-d %b %Y}).",
            {"on": held_on.isoformat()},
        )
        return _meet(incident, DeadlineKind.HEARING, held_on, now)


# --- Case age against the KCSIE targets -------------------------------------------------------------

# (months, label): 80 % of cases resolved within one month, 90 % within three, all but the truly
# exceptional within twelve (docs/allegation-clocks.md).
TARGETS = ((1, 80, "within one month"), (3, 90, "within three months"), (12, 100, "within twelve months"))
BEYOND = "beyond twelve months"


def within_months(start: date, end: date, months: int) -> bool:
    """`end` is on or before the same day `months` calendar months after `start` (31 Jan + 1 month is
    the end of February). `termly_figures` counts by it too."""
    k = (end.year - start.year) * 12 + end.month - start.month
    return k < months or (k == months and end.day <= start.day)


def band(start: date, end: date) -> str:
    return next((label for months, _pct, label in TARGETS if within_months(start, end, months)), BEYOND)


@dataclass(frozen=True)
class Age:
    days: int
    band: str
    resolved: bool


def case_age(incident: Incident, resolved_at: datetime | None, now: datetime) -> Age:
    start = incident.received_at.astimezone(LONDON).date()
    end = (resolved_at or now).astimezone(LONDON).date()
    return Age(days=(end - start).days, band=band(start, end), resolved=resolved_at is not None)


# --- The owner's case page --------------------------------------------------------------------------

PANEL_KINDS = (DeadlineKind.LADO, *KINDS)
LABELS = {
    DeadlineKind.LADO: "LADO referral",
    DeadlineKind.INVESTIGATION_REPORT: "Investigation report",
    DeadlineKind.FORMAL_ACTION_DECISION: "Decision on formal action",
    DeadlineKind.HEARING: "Disciplinary hearing",
}


def _state(row: Deadline, now: datetime, closed: bool) -> str:
    met = row.data.get("met_on")
    if met:
        day = f"{date.fromisoformat(met):%-d %b %Y}"
        return f"met late, on {day}" if row.data.get("late") else f"met on {day}"
    if row.state == DeadlineState.DONE:
        return "met"
    if row.state == DeadlineState.CANCELLED:
        return "stopped: " + row.data.get("stopped", "replaced")
    if closed:
        return "not met before the case was closed"
    if row.state == DeadlineState.FIRED or row.due_at <= now:
        return "overdue"
    return "running"


def case_panel(incident: Incident, timeline: list, now: datetime | None = None) -> dict | None:
    """The allegation clocks and the case's age band, for `_allegation_clocks.html`. None (and no
    query) for a case on another route. `timeline` is the page's list, so the closing time costs
    nothing more; the clocks are one query."""
    if incident.route != Route.ALLEGATION:
        return None
    now = now or timezone.now()
    rows = Deadline.objects.filter(incident=incident, kind__in=PANEL_KINDS).order_by("kind", "-generation", "pk")
    latest: dict[str, Deadline] = {}
    for row in rows:
        # The deadline step of each clock's latest generation (the LADO clock has only that step).
        if row.kind not in latest and row.data.get("step", DUE) == DUE:
            latest[row.kind] = row
    shown = [
        {
            "label": LABELS[kind],
            "due_at": latest[kind].due_at,
            "reason": latest[kind].reason,
            "state": _state(latest[kind], now, incident.status == Status.CLOSED),
        }
        for kind in PANEL_KINDS
        if kind in latest
    ]
    resolved_at = None
    if incident.status == Status.CLOSED:
        closings = [e.at for e in timeline if e.kind == TimelineKind.TRANSITION and e.to_status == Status.CLOSED]
        resolved_at = closings[-1] if closings else incident.updated_at
    return {"clocks": shown, "age": case_age(incident, resolved_at, now)}


# --- The governors' termly figures -----------------------------------------------------------------


def _closed_at():
    """When the case was last closed (its last move to "closed" on the timeline)."""
    return Subquery(
        TimelineEntry.objects.filter(incident=OuterRef("pk"), kind=TimelineKind.TRANSITION, to_status=Status.CLOSED)
        .order_by("-at", "-pk")
        .values("at")[:1]
    )


@dataclass(frozen=True)
class Figures:
    resolved: int  # allegation cases resolved (last closed) in the term
    resolved_within: list  # [(label, target %, n, actual % or None)], cumulative per target
    beyond: int  # of those, resolved after more than twelve months
    open: int  # allegation cases open now
    open_past: list  # [(label, n)]: open cases already past each mark

    @property
    def targets_met(self) -> bool:
        return all(pct is None or pct >= target for _label, target, _n, pct in self.resolved_within[:2])


def termly_figures(user, start: date, end: date, *, today: date | None = None, cases=None) -> Figures:
    """Case-age figures for the termly report, over the allegation cases `user` may count
    (Incident.objects.counted_for: never a case about the viewer). `terms_figures` for one term."""
    return terms_figures(user, [(start, end)], today=today, cases=cases)[0]


def terms_figures(user, periods: list, *, today: date | None = None, cases=None) -> list[Figures]:
    """`termly_figures` for each (start, end) of `periods` (the pack: this term and the last). One
    query for them all whatever the number of cases, reading only the allegation cases closed in
    one of the terms or open now (a few a term); their age bands are worked out here by
    `within_months` on London calendar dates, the rule the case page shows. (Worked out in SQL,
    the bands made one statement of a few hundred expressions that took Django far longer to write
    than PostgreSQL to answer: docs/performance.md.)"""
    today = today or timezone.localdate()
    spans = [
        (datetime.combine(start, time.min, tzinfo=LONDON), datetime.combine(end, time.min, tzinfo=LONDON))
        for start, end in periods
    ]
    # `cases`: a narrower starting set of cases that may be counted (the pack: one school's, FIGURES).
    # Closed from the first term's start to the last one's end: each term's are picked out below.
    rows = (
        (Incident.objects.counted_for(user) if cases is None else cases)
        .filter(route=Route.ALLEGATION)
        .annotate(closed_at=_closed_at())
        .filter(
            Q(
                status=Status.CLOSED,
                closed_at__gte=min(lo for lo, _hi in spans),
                closed_at__lt=max(hi for _lo, hi in spans),
            )
            | ~Q(status=Status.CLOSED)
        )
        .values_list("status", "received_at", "closed_at")
    )
    # Per term: resolved in it, by the first target met (the last: beyond).
    bands = [[0] * (len(TARGETS) + 1) for _span in spans]
    open_past = [0] * len(TARGETS)  # open now and already older than each target
    still_open = 0
    for status, received_at, closed_at in rows:
        received = received_at.astimezone(LONDON).date()
        if status == Status.CLOSED:
            closed = closed_at.astimezone(LONDON).date()
            met = (i for i, (months, _pct, _label) in enumerate(TARGETS) if within_months(received, closed, months))
            band = next(met, len(TARGETS))
            for k, (lo, hi) in enumerate(spans):
                if lo <= closed_at < hi:
                    bands[k][band] += 1
        else:
            still_open += 1
            for i, (months, _pct, _label) in enumerate(TARGETS):
                open_past[i] += not within_months(received, today, months)
    past = [(label.replace("within", "older than"), n) for (_m, _p, label), n in zip(TARGETS, open_past, strict=True)]
    return [_figures(term_bands, still_open, past) for term_bands in bands]


def _figures(bands: list, still_open: int, open_past: list) -> Figures:
    resolved = sum(bands)
    within, running = [], 0
    for i, (_months, target, label) in enumerate(TARGETS):
        running += bands[i]
        within.append((label, target, running, round(100 * running / resolved) if resolved else None))
    return Figures(
        resolved=resolved, resolved_within=within, beyond=bands[len(TARGETS)], open=still_open, open_past=open_past
    )
