"""The approvals' clocks: deadlines on objects that are not cases (`Deadline.target`).

- REQUEST_DECISION: an account or authorisation request waits for a decision (N working days,
  settings.APPROVALS_DECISION_WORKING_DAYS, 5 by default); at the deadline the approvers are told.
- ACCOUNT_REVIEW: an open account is reviewed yearly (settings.APPROVALS_REVIEW_DAYS, 365);
  at the deadline the approvers and the account's administrators are told.
- APPROVAL_EXPIRY: an approval with an end date expires at the end of that day.

Fired by the real sweep (incidents/clocks.deadlines_sweep); the effects are registered in
incidents.clocks.EFFECTS by ApprovalsConfig.ready and run inside deadline_fire's transaction, which
already made firing a conditional update: a second sweep sends nothing. Each effect locks its object
and checks its state again, so a decision committed a moment before the sweep wins.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Max

from incidents.clocks import _schedule_soon, school_calendar
from incidents.deadlines import LONDON
from incidents.models import Deadline, DeadlineKind, DeadlineState
from incidents.notify import notify

from .access import approvers_of
from .models import AccountStatus, AuthorisationRequest, AuthorisationStatus


def decision_working_days() -> int:
    return settings.APPROVALS_DECISION_WORKING_DAYS


def review_days() -> int:
    return settings.APPROVALS_REVIEW_DAYS


def _of(obj) -> dict:
    return {"target_type": ContentType.objects.get_for_model(obj), "target_id": obj.pk}


def cancel(obj, kind, now, state=DeadlineState.CANCELLED) -> int:
    return Deadline.objects.filter(**_of(obj), kind=kind, state=DeadlineState.PENDING).update(
        state=state, closed_at=now
    )


def start(obj, kind, due_at: datetime, reason: str, now: datetime) -> Deadline:
    """A new clock for `obj`, replacing its pending one of the same kind (next generation)."""
    cancel(obj, kind, now)
    current = Deadline.objects.filter(**_of(obj), kind=kind).aggregate(g=Max("generation"))["g"] or 0
    deadline = Deadline.objects.create(**_of(obj), kind=kind, due_at=due_at, reason=reason, generation=current + 1)
    _schedule_soon([deadline], now)
    return deadline


def pending(obj, kind) -> Deadline | None:
    return Deadline.objects.filter(**_of(obj), kind=kind, state=DeadlineState.PENDING).first()


def decision_due(school, now: datetime) -> tuple[datetime, str]:
    days = decision_working_days()
    day = school_calendar(school).add_working_days(now.astimezone(LONDON).date(), days)
    return datetime.combine(day, school.close_of_business, tzinfo=LONDON), f"a decision within {days} working days"


def end_of(day: date) -> datetime:
    """The last moment of a local day: an approval "until 31 July" holds all that day."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=LONDON)


def review_on(school, day: date) -> datetime:
    return datetime.combine(day, school.close_of_business, tzinfo=LONDON)


# --- Effects (run inside deadline_fire's transaction) ---------------------------------------------


def _tell(people, *, kind, deadline, target):
    """One message per person, keyed by deadline, kind and person: a second firing sends nothing."""
    for person in dict.fromkeys(people):
        notify(recipient=person, kind=kind, key=f"deadline:{deadline.pk}:{kind}:{person.pk}", target=target)


def _locked(deadline):
    model = deadline.target_type.model_class()
    return model.objects.select_for_update().select_related("school").filter(pk=deadline.target_id).first()


def _decision_effect(*, deadline, incident, now):
    target = _locked(deadline)
    if target is None or target.status != "requested":
        return  # decided in time (the row stays fired for the record), or gone
    _tell(
        approvers_of(target.school, exclude=target.requested_by_id),
        kind="approval_overdue",
        deadline=deadline,
        target=target,
    )


def _review_effect(*, deadline, incident, now):
    account = _locked(deadline)
    if account is None or account.status != AccountStatus.OPEN:
        return
    admins = [a.user for a in account.administrators.filter(ended_at__isnull=True, user__is_active=True)]
    _tell([*approvers_of(account.school), *admins], kind="account_review_due", deadline=deadline, target=account)


def _expiry_effect(*, deadline, incident, now):
    request = _locked(deadline)
    if request is None:
        return
    expired = AuthorisationRequest.objects.filter(pk=request.pk, status=AuthorisationStatus.APPROVED).update(
        status=AuthorisationStatus.EXPIRED
    )
    if expired:
        from accounts.audit import record
        from accounts.models import AuditAction

        record(
            AuditAction.CHANGE,
            object_type="authorisation_request",
            object_id=request.pk,
            object_ref=request.label,
            school_id=request.school_id,
            detail={"op": "expired", "deadline": deadline.pk},
        )
        if request.requested_by.is_active:
            _tell([request.requested_by], kind="approval_expired", deadline=deadline, target=request)


EFFECTS = {
    DeadlineKind.REQUEST_DECISION: _decision_effect,
    DeadlineKind.ACCOUNT_REVIEW: _review_effect,
    DeadlineKind.APPROVAL_EXPIRY: _expiry_effect,
}
