"""Platform take-downs ([8] item 4): what the school asked a platform to remove, what the platform did,
and the escalations when it did nothing. Every write here, in the house order (STYLE.md): the case
locked, the table checked (transitions.TABLE rows request_takedown, record_removal,
record_platform_refusal, record_escalation_step), a conditional update, the timeline entry and the
audit event in the same transaction.

A request starts a follow-up clock (DeadlineKind.TAKEDOWN_FOLLOW_UP, TAKEDOWN_FOLLOW_UP_HOURS after
the request, 48 by default). If it fires with the request still unanswered, the request is marked
"no response" and the owners are told to consider escalating (clocks.py, the effect; emails.py, the
message). Recording the removal, or the platform's refusal, stops it first.

Who records take-downs is `can_record_takedown` (and transitions.TAKEDOWN_ROLES, which the rows use):
the case's owners now; the tasks work widens that one set to the assignee of a take-down task.
Logs, timeline notes and audit events carry references, ids and kinds, never the content's address.
"""

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from accounts.audit import record_case_change

from . import case_lists, clocks
from .deadlines import LONDON, format_local
from .errors import Invalid, Stale
from .models import (
    OPEN_STATUSES,
    Deadline,
    DeadlineKind,
    DeadlineState,
    EscalationRoute,
    Incident,
    Platform,
    TakedownRequest,
    TakedownStatus,
    TakedownStep,
    TimelineEntry,
    TimelineKind,
)
from .transitions import TAKEDOWN_ROLES, case_roles, check

log = logging.getLogger(__name__)

MAX_URL = 2000
MAX_REFERENCE = 200
MAX_NOTE = 2000
# A request the platform may still act on; a removed one is finished.
WAITING = (TakedownStatus.REQUESTED, TakedownStatus.NO_RESPONSE, TakedownStatus.REFUSED)
_url = URLValidator(schemes=["http", "https"])


def can_record_takedown(user, incident: Incident, roles: frozenset | None = None) -> bool:
    """May `user` record take-downs on this case now? Its owners (head, DSL, the chair when the case
    is theirs) and anyone with an open task on it, while it is open: TAKEDOWN_ROLES (transitions.py),
    which the table's rows, the case-action view's 403 and the services' checks all read."""
    roles = case_roles(user, incident) if roles is None else roles
    return bool(roles & TAKEDOWN_ROLES) and incident.status in OPEN_STATUSES


def for_case(incident: Incident) -> list[TakedownRequest]:
    """The case's requests with their steps, for the owner's page (two queries, whatever the number)."""
    return case_lists.takedowns(incident)


# --- Checking what was typed (before any write: bad input changes nothing) ------------------------


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _lock(incident: Incident) -> None:
    """The case's row first, the order the workflow and the deadline sweep lock in (services.py)."""
    list(Incident.objects.select_for_update().filter(pk=incident.pk).values_list("pk", flat=True))


def _text(value: str, limit: int, what: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise Invalid(f"Please keep {what} under {limit} characters.")
    return value


def _url_of(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid("Please give the address of the content you asked the platform to remove.")
    if len(value) > MAX_URL:
        raise Invalid(f"The address is longer than {MAX_URL} characters: please give the content's own link.")
    try:
        _url(value)
    except ValidationError:
        raise Invalid("That is not a web address: please give the link to the content, starting https://.") from None
    return value


def _day(value: date | None, now: datetime, what: str, *, not_before: date | None = None) -> date:
    if not isinstance(value, date):
        raise Invalid(f"Please give the date {what}.")
    if value > now.astimezone(LONDON).date():
        raise Invalid(f"The date {what} cannot be in the future.")
    if not_before is not None and value < not_before:
        raise Invalid(f"The date {what} cannot be before the request ({not_before.day} {not_before:%b %Y}).")
    return value


def _of_this_case(takedown, incident: Incident) -> TakedownRequest:
    if not isinstance(takedown, TakedownRequest) or takedown.incident_id != incident.pk:
        raise Invalid("Please choose one of this case's take-down requests from the list.")
    return takedown


# --- The follow-up clock -------------------------------------------------------------------------


def follow_up_due(requested_on: date, now: datetime) -> datetime:
    """TAKEDOWN_FOLLOW_UP_HOURS after the request: counted from now's time of day on the day of the
    request, so a request recorded days late is followed up as soon as its hours have passed."""
    days_ago = (now.astimezone(LONDON).date() - requested_on).days
    return now - timedelta(days=days_ago) + timedelta(hours=settings.TAKEDOWN_FOLLOW_UP_HOURS)


def _target(takedown: TakedownRequest) -> dict:
    return {"target_type": ContentType.objects.get_for_model(TakedownRequest), "target_id": takedown.pk}


def _start_follow_up(incident: Incident, takedown: TakedownRequest, now: datetime) -> Deadline:
    hours = settings.TAKEDOWN_FOLLOW_UP_HOURS
    due = follow_up_due(takedown.requested_on, now)
    deadline = Deadline.objects.create(
        incident=incident,
        kind=DeadlineKind.TAKEDOWN_FOLLOW_UP,
        due_at=due,
        reason=f"due {format_local(due)} — {hours} hours after the take-down request of "
        f"{takedown.requested_on.day} {takedown.requested_on:%b %Y}",
        data={"hours": hours},
        **_target(takedown),
    )
    clocks._schedule_soon([deadline], now)  # a short setting: a countdown as for any clock due soon
    return deadline


def _stop_follow_up(takedown: TakedownRequest, now: datetime) -> int:
    """The platform acted (removed or refused): the follow-up is met and will never fire."""
    return Deadline.objects.filter(
        kind=DeadlineKind.TAKEDOWN_FOLLOW_UP, state=DeadlineState.PENDING, **_target(takedown)
    ).update(state=DeadlineState.DONE, closed_at=now)


def _entry(incident: Incident, actor, note: str, takedown: TakedownRequest, event: str, **data) -> None:
    # Internal: the reporter's page shows none of this (only the public status of their report).
    TimelineEntry.objects.create(
        incident=incident,
        actor=actor,
        kind=TimelineKind.TAKEDOWN,
        note=note,
        internal=True,
        data={"takedown": takedown.pk, "event": event, **data},
    )


def _move(incident: Incident, takedown: TakedownRequest, sources, now: datetime, **changes) -> None:
    """Conditional on the request's state: of two people recording at once, the second is told."""
    won = TakedownRequest.objects.filter(pk=takedown.pk, incident=incident, status__in=sources).update(
        updated_at=now, **changes
    )
    if won != 1:
        current = TakedownRequest.objects.filter(pk=takedown.pk).values_list("status", flat=True).first()
        label = TakedownStatus(current).label.lower() if current else "gone"
        raise Stale(f"That take-down request is already recorded as {label}. Nothing was changed.")
    for field, value in changes.items():
        setattr(takedown, field, value)


# --- The services (rows of transitions.TABLE) ----------------------------------------------------


def takedown_request(
    *,
    incident: Incident,
    actor,
    platform: str,
    url: str,
    requested_on: date,
    platform_reference: str = "",
    now: datetime | None = None,
) -> TakedownRequest:
    """The school asked a platform to remove content: recorded, and the follow-up clock started."""
    now = _now(now)
    if platform not in Platform.values:
        raise Invalid("Please choose the platform from the list.")
    url = _url_of(url)
    requested_on = _day(requested_on, now, "of the request")
    platform_reference = _text(platform_reference, MAX_REFERENCE, "the platform's reference")
    with transaction.atomic():
        _lock(incident)
        check(actor, incident, "request_takedown")
        takedown = TakedownRequest.objects.create(
            incident=incident,
            platform=platform,
            url=url,
            requested_on=requested_on,
            platform_reference=platform_reference,
            requested_by=actor,
        )
        deadline = _start_follow_up(incident, takedown, now)
        _entry(
            incident,
            actor,
            f"Take-down requested from {Platform(platform).label} on {requested_on.day} {requested_on:%b %Y}; "
            f"follow-up {deadline.reason}.",
            takedown,
            "requested",
            deadline=deadline.pk,
        )
        record_case_change(actor, incident, takedown=takedown.pk, takedown_status=TakedownStatus.REQUESTED)
    log.info("Incident %s: take-down %s requested by user %s", incident.reference, takedown.pk, actor.pk)
    return takedown


def takedown_record_removal(
    *,
    incident: Incident,
    actor,
    takedown: TakedownRequest,
    removed_on: date,
    note: str = "",
    now: datetime | None = None,
) -> TakedownRequest:
    """The platform removed the content: the request is finished and its follow-up stops (met)."""
    now = _now(now)
    takedown = _of_this_case(takedown, incident)
    removed_on = _day(removed_on, now, "of the removal", not_before=takedown.requested_on)
    note = _text(note, MAX_NOTE, "the note")
    with transaction.atomic():
        _lock(incident)
        check(actor, incident, "record_removal")
        _move(incident, takedown, WAITING, now, status=TakedownStatus.REMOVED, outcome_on=removed_on, outcome_note=note)
        _stop_follow_up(takedown, now)
        _entry(
            incident,
            actor,
            f"Content removed by {takedown.get_platform_display()} on {removed_on.day} {removed_on:%b %Y}.",
            takedown,
            "removed",
        )
        record_case_change(actor, incident, takedown=takedown.pk, takedown_status=TakedownStatus.REMOVED)
    log.info("Incident %s: take-down %s removal recorded by user %s", incident.reference, takedown.pk, actor.pk)
    return takedown


def takedown_record_refusal(
    *,
    incident: Incident,
    actor,
    takedown: TakedownRequest,
    refused_on: date,
    note: str = "",
    now: datetime | None = None,
) -> TakedownRequest:
    """The platform answered that it will not remove the content. Its follow-up stops (the platform
    did answer); the owner's page then points to the escalation routes."""
    now = _now(now)
    takedown = _of_this_case(takedown, incident)
    refused_on = _day(refused_on, now, "of the refusal", not_before=takedown.requested_on)
    note = _text(note, MAX_NOTE, "the note")
    with transaction.atomic():
        _lock(incident)
        check(actor, incident, "record_platform_refusal")
        _move(
            incident,
            takedown,
            (TakedownStatus.REQUESTED, TakedownStatus.NO_RESPONSE),
            now,
            status=TakedownStatus.REFUSED,
            outcome_on=refused_on,
            outcome_note=note,
        )
        _stop_follow_up(takedown, now)
        _entry(
            incident,
            actor,
            f"{takedown.get_platform_display()} refused to remove the content on {refused_on.day} {refused_on:%b %Y}.",
            takedown,
            "refused",
        )
        record_case_change(actor, incident, takedown=takedown.pk, takedown_status=TakedownStatus.REFUSED)
    log.info("Incident %s: take-down %s refusal recorded by user %s", incident.reference, takedown.pk, actor.pk)
    return takedown


def takedown_record_step(
    *,
    incident: Incident,
    actor,
    takedown: TakedownRequest,
    route: str,
    taken_on: date,
    reference: str = "",
    note: str = "",
    now: datetime | None = None,
) -> TakedownStep:
    """An escalation of a request the platform has not removed: POSH, Report Harmful Content, other."""
    now = _now(now)
    takedown = _of_this_case(takedown, incident)
    if route not in EscalationRoute.values:
        raise Invalid("Please choose where the request was escalated from the list.")
    taken_on = _day(taken_on, now, "of the escalation", not_before=takedown.requested_on)
    reference = _text(reference, MAX_REFERENCE, "their reference")
    note = _text(note, MAX_NOTE, "the note")
    with transaction.atomic():
        _lock(incident)
        check(actor, incident, "record_escalation_step")
        # Under the case's lock, so a removal recorded meanwhile is seen: a removed request is finished.
        _move(incident, takedown, WAITING, now)
        step = TakedownStep.objects.create(
            takedown=takedown,
            incident=incident,
            route=route,
            taken_on=taken_on,
            reference=reference,
            note=note,
            recorded_by=actor,
        )
        _entry(
            incident,
            actor,
            f"Take-down escalated to {EscalationRoute(route).label} on {taken_on.day} {taken_on:%b %Y}.",
            takedown,
            "escalated",
            step=step.pk,
            route=route,
        )
        record_case_change(actor, incident, takedown=takedown.pk, takedown_step=step.pk, route=route)
    log.info("Incident %s: take-down %s escalated (%s) by user %s", incident.reference, takedown.pk, route, actor.pk)
    return step
