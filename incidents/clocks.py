"""Deadline records: the database is the source of truth, Celery delivers.

Every clock is a Deadline row (response, reminder, LADO referral, governor review). Changing a
clock cancels its pending rows and adds new ones with the next generation in the same transaction,
so a stale timer can never fire. Firing is a conditional UPDATE (pending -> fired) taken with the
incident row locked first, the same order the workflow's services lock in, so two sweeps, a sweep
and a countdown task, or a sweep and an acknowledgement never both act.

Delivery: a beat task sweeps due-and-pending rows every minute (the guarantee). For precision, a
deadline due within PRECISION_HORIZON also gets a countdown task; nothing further ahead is ever
held in the broker (Redis redelivers ETA tasks past its visibility timeout; workers hold them in
memory). The countdown is capped, and the task queued by name, in policyhub/dispatch.py.
"""

import logging
from datetime import datetime, timedelta
from importlib import import_module

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Role, User
from policyhub import dispatch

from .allegation_clocks import clock_effect as _allegation_clock_effect
from .deadlines import LONDON, Calendar, one_working_day_after, response_due
from .deadlines import Deadline as Due
from .models import (
    CategoryWindow,
    Deadline,
    DeadlineKind,
    DeadlineState,
    Incident,
    ReferralKind,
    ResponsePolicy,
    SchoolClosure,
    Status,
    TakedownRequest,
    TakedownStatus,
    TimelineEntry,
    TimelineKind,
)
from .notify import notify

log = logging.getLogger(__name__)

PRECISION_HORIZON = dispatch.MAX_COUNTDOWN  # the furthest ahead a task is ever queued
SWEEP_BATCH = 500
DEFAULT_REMINDER_MINUTES = (240, 60)
GOVERNOR_REVIEW_DAYS = 10
RESPONSE_KINDS = (DeadlineKind.RESPONSE, DeadlineKind.REMINDER)


# --- Computing deadlines -------------------------------------------------------------------------


def school_calendar(school) -> Calendar:
    closures = dict(SchoolClosure.objects.filter(school=school).values_list("date", "label"))
    return Calendar(school.nation, closures=closures)


def response_deadline_for(*, school, category: str, received: datetime) -> tuple[Due, list[int]]:
    """The school's rule applied to a report: (deadline, reminder offsets in minutes)."""
    rule = ResponsePolicy.objects.filter(school=school).first()
    window_hours = rule.window_hours if rule else 24
    reminders = list(rule.reminder_minutes) if rule and rule.reminder_minutes else list(DEFAULT_REMINDER_MINUTES)
    tighter = CategoryWindow.objects.filter(school=school, category=category).first()
    calendar = school_calendar(school)
    if tighter:
        due = response_due(
            received,
            calendar,
            window_hours=timedelta(minutes=tighter.window_minutes),
            close_of_business=school.close_of_business,
            working_days_only=tighter.working_days_only,
        )
        reminders = [m for m in reminders if m < tighter.window_minutes]
    else:
        due = response_due(received, calendar, window_hours=window_hours, close_of_business=school.close_of_business)
    return due, reminders


# --- Starting and stopping clocks (called inside the workflow services' transactions) -----------


def _next_generation(incident, kinds) -> int:
    current = Deadline.objects.filter(incident=incident, kind__in=kinds).aggregate(g=Max("generation"))["g"]
    return (current or 0) + 1


def _cancel(incident, kinds, now, state=DeadlineState.CANCELLED) -> int:
    return Deadline.objects.filter(incident=incident, kind__in=kinds, state=DeadlineState.PENDING).update(
        state=state, closed_at=now
    )


def _schedule_soon(deadlines, now) -> None:
    soon = [d for d in deadlines if d.due_at - now <= PRECISION_HORIZON]
    if soon:
        transaction.on_commit(lambda: [enqueue_fire(d.pk, d.due_at) for d in soon], robust=True)


def clocks_start_response(*, incident: Incident, now: datetime, start: datetime | None = None) -> Deadline:
    """Create the first-response deadline and its reminders; copy the due time onto the incident.
    `start`: counted from then instead of the receipt (a report split back out of a merge)."""
    due, reminder_minutes = response_deadline_for(
        school=incident.school, category=incident.category, received=start or incident.received_at
    )
    _cancel(incident, RESPONSE_KINDS, now)
    generation = _next_generation(incident, RESPONSE_KINDS)
    response = Deadline.objects.create(
        incident=incident, kind=DeadlineKind.RESPONSE, due_at=due.due, reason=due.reason, generation=generation
    )
    reminders = [
        Deadline(
            incident=incident,
            kind=DeadlineKind.REMINDER,
            due_at=due.due - timedelta(minutes=minutes),
            generation=generation,
            data={"minutes_before": minutes},
        )
        for minutes in sorted(set(reminder_minutes), reverse=True)
        if due.due - timedelta(minutes=minutes) > now
    ]
    Deadline.objects.bulk_create(reminders)
    Incident.objects.filter(pk=incident.pk).update(response_due_at=due.due, response_due_reason=due.reason)
    incident.response_due_at, incident.response_due_reason = due.due, due.reason
    _schedule_soon([response, *reminders], now)
    return response


def clocks_stop_response(*, incident: Incident, now: datetime) -> int:
    """The owner acknowledged: the response clock is met and its reminders will never fire."""
    done = _cancel(incident, [DeadlineKind.RESPONSE], now, state=DeadlineState.DONE)
    _cancel(incident, [DeadlineKind.REMINDER], now)
    return done


def clocks_start_lado(*, incident: Incident, now: datetime) -> Deadline:
    """Allegation route: a LADO referral is due within one working day of the decision."""
    due = one_working_day_after(now, school_calendar(incident.school), incident.school.close_of_business)
    _cancel(incident, [DeadlineKind.LADO], now)
    deadline = Deadline.objects.create(
        incident=incident,
        kind=DeadlineKind.LADO,
        due_at=due.due,
        reason=due.reason,
        generation=_next_generation(incident, [DeadlineKind.LADO]),
    )
    _schedule_soon([deadline], now)
    return deadline


def clocks_start_governor_review(*, incident: Incident, now: datetime) -> Deadline:
    calendar = school_calendar(incident.school)
    due_day = calendar.add_working_days(now.astimezone(LONDON).date(), GOVERNOR_REVIEW_DAYS)
    due_at = datetime.combine(due_day, incident.school.close_of_business, tzinfo=LONDON)
    _cancel(incident, [DeadlineKind.GOVERNOR_REVIEW], now)
    return Deadline.objects.create(
        incident=incident,
        kind=DeadlineKind.GOVERNOR_REVIEW,
        due_at=due_at,
        reason=f"governors asked to review within {GOVERNOR_REVIEW_DAYS} working days",
        generation=_next_generation(incident, [DeadlineKind.GOVERNOR_REVIEW]),
    )


def clocks_stop(*, incident: Incident, kind: str, now: datetime) -> int:
    """The duty behind a clock was done (LADO referral recorded, governors decided)."""
    return _cancel(incident, [kind], now, state=DeadlineState.DONE)


def clocks_cancel_all(*, incident: Incident, now: datetime, reason: str) -> int:
    """Every pending clock of the case stops, each with `reason` beside the one it was due for
    (a report merged into another case: "merged into OAK-…"). Cancelled rows never fire."""
    cancelled = 0
    for deadline in Deadline.objects.filter(incident=incident, state=DeadlineState.PENDING):
        cancelled += Deadline.objects.filter(pk=deadline.pk, state=DeadlineState.PENDING).update(
            state=DeadlineState.CANCELLED, closed_at=now, data={**deadline.data, "cancelled_reason": reason}
        )
    return cancelled


# --- Delivery ------------------------------------------------------------------------------------


def timezone_now() -> datetime:
    return timezone.now()


def enqueue_fire(deadline_id: int, due_at: datetime) -> None:
    """A countdown task for a deadline that is due soon. Never for one beyond the horizon (dispatch
    refuses it); if the broker is down, the sweep fires it."""
    countdown = max(0.0, (due_at - timezone_now()).total_seconds())
    dispatch.queue(dispatch.FIRE_DEADLINE, args=[deadline_id], countdown=countdown)


def due_pending(now: datetime):
    """The sweep's query: pending rows that are due, oldest first (served by deadline_due_pending)."""
    return Deadline.objects.filter(state=DeadlineState.PENDING, due_at__lte=now).order_by("due_at")


def deadlines_sweep(*, now: datetime) -> int:
    """Fire every pending deadline that is due; queue countdown tasks for those due soon.

    Safe to run twice at once: each firing is a conditional update under the incident's lock.
    Its cost follows the number due (partial index deadline_due_pending), not the number pending.
    """
    fired = 0
    while True:
        due_ids = list(due_pending(now).values_list("pk", flat=True)[:SWEEP_BATCH])
        fired += sum(deadline_fire(deadline_id=pk, now=now) for pk in due_ids)
        if len(due_ids) < SWEEP_BATCH:
            break
    soon = Deadline.objects.filter(
        state=DeadlineState.PENDING, due_at__gt=now, due_at__lte=now + timedelta(seconds=90)
    ).values_list("pk", "due_at")
    for pk, due_at in soon:
        enqueue_fire(pk, due_at)
    return fired


def deadline_fire(*, deadline_id: int, now: datetime) -> bool:
    """Fire one deadline if it is still pending and due. True if this call fired it."""
    with transaction.atomic():
        deadline = Deadline.objects.filter(pk=deadline_id).only("incident_id", "kind").first()
        if deadline is None:
            return False
        incident = None
        if deadline.incident_id:
            # Lock the incident first: the workflow services lock it first too, so no deadlock,
            # and an acknowledgement committed a moment ago is seen here.
            incident = Incident.objects.select_for_update().select_related("school").get(pk=deadline.incident_id)
        won = Deadline.objects.filter(pk=deadline_id, state=DeadlineState.PENDING, due_at__lte=now).update(
            state=DeadlineState.FIRED, closed_at=now
        )
        if not won:
            return False
        deadline.refresh_from_db()
        EFFECTS[deadline.kind](deadline=deadline, incident=incident, now=now)
    log.info("Fired deadline %s (%s) for incident %s", deadline.pk, deadline.kind, deadline.incident_id)
    return True


# --- Effects of a fired deadline (run inside deadline_fire's transaction) ------------------------


def _people(school, *roles, exclude=None):
    people = User.objects.filter(is_active=True, memberships__school=school, memberships__role__in=roles).distinct()
    if exclude is not None:
        people = people.exclude(pk=exclude)
    return list(people.order_by("pk"))


def _notify_all(people, *, kind, deadline, incident):
    """One notification per person, keyed by deadline, kind and person: a second firing sends nothing."""
    for person in dict.fromkeys(people):
        notify(
            recipient=person,
            kind=kind,
            key=f"deadline:{deadline.pk}:{kind}:{person.pk}",
            incident=incident,
            deadline=deadline,
        )


def _owners(incident):
    """Who must act on the first response: the owner, and the DSL for DSL cases."""
    people = [incident.owner] if incident.owner_id else []
    if incident.dsl_id:
        people.append(incident.dsl)
    return [p for p in dict.fromkeys(people) if p.pk != incident.subject_id]


def _response_effect(*, deadline, incident, now):
    if incident.acknowledged_at is not None or incident.status != Status.SUBMITTED:
        return  # acknowledged in time; the row is kept as fired for the record, nothing is sent
    Incident.objects.filter(pk=incident.pk).update(overdue_at=now, escalated_at=now)
    chairs = _people(incident.school, Role.CHAIR, exclude=incident.subject_id)
    TimelineEntry.objects.create(
        incident=incident,
        kind=TimelineKind.OVERDUE,
        note="No first response by the deadline.",
        internal=False,
        data={"deadline": deadline.pk, "due_at": deadline.due_at.isoformat()},
    )
    TimelineEntry.objects.create(
        incident=incident,
        kind=TimelineKind.ESCALATED,
        note="Escalated to the chair of governors" + (" and the trust." if incident.school.trust_id else "."),
        data={"deadline": deadline.pk, "to": [c.pk for c in chairs]},
    )
    _notify_all(chairs, kind="escalation", deadline=deadline, incident=incident)
    if incident.school.trust_id:
        _notify_all(
            _people(incident.school, Role.TRUST_ADMIN, exclude=incident.subject_id),
            kind="escalation_trust",
            deadline=deadline,
            incident=incident,
        )


# A reminder fired later than this after its moment (PolicyHub was off, the worker was down) is not
# sent: "due in 240 minutes" two minutes before the deadline would mislead. The sweep runs every
# minute, so an on-time reminder is never this late.
REMINDER_LATE_AFTER = timedelta(minutes=15)


def _reminder_effect(*, deadline, incident, now):
    if incident.acknowledged_at is not None or incident.status != Status.SUBMITTED:
        return
    if now - deadline.due_at > REMINDER_LATE_AFTER:
        # Recorded (staff-only timeline and the log, by reference), never sent late with a wrong text.
        TimelineEntry.objects.create(
            incident=incident,
            kind=TimelineKind.REMINDER,
            note=f"Reminder not sent: its moment ({deadline.data.get('minutes_before', '?')} minutes before the "
            "deadline) passed while PolicyHub was not running.",
            data={
                "deadline": deadline.pk,
                "skipped": True,
                "late_by_seconds": int((now - deadline.due_at).total_seconds()),
            },
        )
        log.warning("Incident %s: reminder %s skipped, %s late", incident.reference, deadline.pk, now - deadline.due_at)
        return
    recipients = _owners(incident)
    TimelineEntry.objects.create(
        incident=incident,
        kind=TimelineKind.REMINDER,
        note=f"Reminder sent: first response due in {deadline.data.get('minutes_before', '?')} minutes.",
        data={"deadline": deadline.pk, "to": [r.pk for r in recipients]},
    )
    _notify_all(recipients, kind="reminder", deadline=deadline, incident=incident)


def _lado_effect(*, deadline, incident, now):
    if incident.referrals.filter(kind=ReferralKind.LADO).exists():
        return
    recipients = _owners(incident) + _people(incident.school, Role.CHAIR, exclude=incident.subject_id)
    TimelineEntry.objects.create(
        incident=incident,
        kind=TimelineKind.OVERDUE,
        note="LADO referral not recorded within one working day.",
        data={"deadline": deadline.pk},
    )
    _notify_all(recipients, kind="lado_due", deadline=deadline, incident=incident)


def _governor_review_effect(*, deadline, incident, now):
    if incident.status != Status.GOVERNOR_REVIEW:
        return
    from .transitions import review_panel

    # Those who may decide it: not a head who is a governor, nor anyone with a conflict.
    _notify_all(
        review_panel(incident).deciders,
        kind="governor_review_due",
        deadline=deadline,
        incident=incident,
    )


def _takedown_follow_up_effect(*, deadline, incident, now):
    """A take-down request the platform has not acted on in time (incidents/takedowns.py): marked
    "no response", and its owners prompted to escalate. A removal or refusal recorded in time stopped
    this clock already (DONE); the conditional update covers one recorded a moment before firing."""
    won = TakedownRequest.objects.filter(
        pk=deadline.target_id, incident=incident, status=TakedownStatus.REQUESTED
    ).update(status=TakedownStatus.NO_RESPONSE, updated_at=now)
    if not won:
        return
    # A closed case takes no escalation (its actions are closed): recorded, nobody prompted.
    recipients = _owners(incident) if incident.status != Status.CLOSED else []
    TimelineEntry.objects.create(
        incident=incident,
        kind=TimelineKind.TAKEDOWN,
        note=f"No action from the platform on a take-down request within {deadline.data.get('hours', '?')} hours: "
        "consider escalating (POSH, Report Harmful Content).",
        data={
            "deadline": deadline.pk,
            "takedown": deadline.target_id,
            "event": "no_response",
            "to": [r.pk for r in recipients],
        },
    )
    _notify_all(recipients, kind="takedown_no_action", deadline=deadline, incident=incident)


EFFECTS = {
    DeadlineKind.RESPONSE: _response_effect,
    DeadlineKind.REMINDER: _reminder_effect,
    DeadlineKind.LADO: _lado_effect,
    DeadlineKind.GOVERNOR_REVIEW: _governor_review_effect,
    # Tasks ([8], incidents/assignments.py, which imports this module: looked up when fired).
    DeadlineKind.TASK_REMINDER: lambda **kw: import_module("incidents.assignments").task_reminder_effect(**kw),
    DeadlineKind.TASK_DUE: lambda **kw: import_module("incidents.assignments").task_due_effect(**kw),
    DeadlineKind.TAKEDOWN_FOLLOW_UP: _takedown_follow_up_effect,
    DeadlineKind.INVESTIGATION_REPORT: _allegation_clock_effect,
    DeadlineKind.FORMAL_ACTION_DECISION: _allegation_clock_effect,
    DeadlineKind.HEARING: _allegation_clock_effect,
}
