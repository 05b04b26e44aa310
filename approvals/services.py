"""Every write to official accounts, authorisation requests and the do-not-publish list.
Keyword-only, one transaction each, conditional updates on the state the caller read (of two
approvers deciding at once only one succeeds). Refusals raise incidents.errors; emails go through
incidents.notify (after commit, content-free); decisions are audit events naming ids only.
"""

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.audit import record
from accounts.models import AuditAction, Membership, Role
from incidents.deadlines import LONDON
from incidents.errors import Invalid, NotAllowed, Stale, WrongState
from incidents.models import DeadlineKind, DeadlineState, Incident
from incidents.notify import notify

from . import access, clocks
from .models import (
    AccountAdministrator,
    AccountConcern,
    AccountStatus,
    AdministratorVacancy,
    Approver,
    AuthorisationKind,
    AuthorisationRequest,
    AuthorisationStatus,
    DoNotPublishEntry,
    OfficialAccount,
)

log = logging.getLogger(__name__)

STAFF_ROLES = (Role.STAFF, Role.HEAD, Role.DSL)
MIN_ADMINISTRATORS = 2


def _now(now):
    return now or timezone.now()


def _today(now) -> date:
    return now.astimezone(LONDON).date()


def _audit(actor, obj, op: str, **detail):
    record(
        AuditAction.CHANGE if op != "requested" else AuditAction.CREATE,
        actor=actor,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        object_ref=obj.label,
        school_id=obj.school_id,
        detail={"op": op, **detail},
    )


def _tell(people, *, kind, target, key):
    for person in dict.fromkeys(people):
        notify(recipient=person, kind=kind, key=f"{key}:{kind}:{person.pk}", target=target)


def active_members(school):
    """Users who may be named: active, holding a staff-like role at the school."""
    from accounts.models import User

    return (
        User.objects.filter(is_active=True, memberships__school=school, memberships__role__in=STAFF_ROLES)
        .distinct()
        .order_by("full_name", "email")
    )


# --- Approvers ---------------------------------------------------------------------------------------


def approver_name(*, actor, school, user, now=None) -> Approver:
    """A head names someone to decide requests with them (a delegate)."""
    viewer = access.Viewer.of(actor)
    if viewer is None or school.pk not in viewer.heads_at:
        raise NotAllowed("Only a head of the school names approvers.")
    if not active_members(school).filter(pk=user.pk).exists():
        raise Invalid("Name someone who works at the school.")
    approver, _ = Approver.objects.get_or_create(
        school=school, user=user, defaults={"named_by": actor, "named_at": _now(now)}
    )
    record(
        AuditAction.ROLE_CHANGE,
        actor=actor,
        object_type="approver",
        object_id=approver.pk,
        school_id=school.pk,
        detail={"user": user.pk, "op": "approver named"},
    )
    return approver


def approver_remove(*, actor, approver: Approver) -> None:
    viewer = access.Viewer.of(actor)
    if viewer is None or approver.school_id not in viewer.heads_at:
        raise NotAllowed("Only a head of the school removes approvers.")
    record(
        AuditAction.ROLE_CHANGE,
        actor=actor,
        object_type="approver",
        object_id=approver.pk,
        school_id=approver.school_id,
        detail={"user": approver.user_id, "op": "approver removed"},
    )
    approver.delete()


# --- Official accounts ---------------------------------------------------------------------------------


@transaction.atomic
def account_request(
    *, user, school, platform, name, purpose, audience, moderation_plan, administrators, now=None
) -> OfficialAccount:
    now = _now(now)
    if not active_members(school).filter(pk=user.pk).exists():
        raise NotAllowed("Only staff of the school ask for an official account.")
    admins = list(dict.fromkeys(administrators))
    if len(admins) < MIN_ADMINISTRATORS:
        raise Invalid(f"Name at least {MIN_ADMINISTRATORS} different administrators.")
    members = set(active_members(school).filter(pk__in=[a.pk for a in admins]).values_list("pk", flat=True))
    if any(a.pk not in members for a in admins):
        raise Invalid("Every administrator must be a member of staff of the school.")
    account = OfficialAccount.objects.create(
        school=school,
        platform=platform,
        name=name,
        purpose=purpose,
        audience=audience,
        moderation_plan=moderation_plan,
        requested_by=user,
        requested_at=now,
    )
    AccountAdministrator.objects.bulk_create(
        [AccountAdministrator(account=account, user=a, added_at=now) for a in admins]
    )
    _started(account, user, now)
    return account


def _started(obj, user, now):
    due, reason = clocks.decision_due(obj.school, now)
    clocks.start(obj, DeadlineKind.REQUEST_DECISION, due, reason, now)
    _audit(user, obj, "requested")
    _tell(access.approvers_of(obj.school, exclude=user.pk), kind="approval_request", target=obj, key=f"{obj.label}")
    log.info("%s requested at school %s", obj.label, obj.school_id)


def _check_decider(user, obj):
    if not access.may_decide(user, obj):
        if obj.requested_by_id == user.pk:
            raise NotAllowed("You cannot decide your own request: another approver or the head does.")
        raise NotAllowed("Only the head or an approver the head named decides requests.")


@transaction.atomic
def account_decide(*, user, account: OfficialAccount, approve: bool, reason: str, now=None) -> OfficialAccount:
    now = _now(now)
    _check_decider(user, account)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise Invalid("Give the reason for refusing.")
    fields = {"decided_by": user, "decided_at": now, "decision_reason": reason}
    if approve:
        if account.administrators.filter(ended_at__isnull=True, user__is_active=True).count() < MIN_ADMINISTRATORS:
            raise Invalid(f"An account needs at least {MIN_ADMINISTRATORS} administrators who are still here.")
        fields |= {"status": AccountStatus.OPEN, "review_due": _today(now) + timedelta(days=clocks.review_days())}
    else:
        fields["status"] = AccountStatus.REFUSED
    if not OfficialAccount.objects.filter(pk=account.pk, status=AccountStatus.REQUESTED).update(**fields):
        raise Stale("This request has already been decided.")
    account.refresh_from_db()
    clocks.cancel(account, DeadlineKind.REQUEST_DECISION, now, state=DeadlineState.DONE)
    if approve:
        clocks.start(
            account,
            DeadlineKind.ACCOUNT_REVIEW,
            clocks.review_on(account.school, account.review_due),
            "yearly review of an official account",
            now,
        )
    _audit(user, account, "approved" if approve else "refused")
    if account.requested_by.is_active:
        _tell([account.requested_by], kind="approval_decided", target=account, key=f"decided:{account.label}")
    return account


@transaction.atomic
def account_reviewed(*, user, account: OfficialAccount, now=None) -> OfficialAccount:
    """The yearly review was done: the next one is due a year from today."""
    now = _now(now)
    if "approver" not in access.relations(user, account, access.ACCOUNT_RELATIONS):
        raise NotAllowed("Only an approver reviews an official account.")
    due = _today(now) + timedelta(days=clocks.review_days())
    if not OfficialAccount.objects.filter(pk=account.pk, status=AccountStatus.OPEN).update(
        review_due=due, last_reviewed_at=now
    ):
        raise WrongState("Only an open account is reviewed.")
    account.refresh_from_db()
    clocks.cancel(account, DeadlineKind.ACCOUNT_REVIEW, now, state=DeadlineState.DONE)
    clocks.start(
        account,
        DeadlineKind.ACCOUNT_REVIEW,
        clocks.review_on(account.school, due),
        "yearly review of an official account",
        now,
    )
    _audit(user, account, "reviewed")
    return account


@transaction.atomic
def account_close(*, user, account: OfficialAccount, reason: str, now=None) -> OfficialAccount:
    now = _now(now)
    if "approver" not in access.relations(user, account, access.ACCOUNT_RELATIONS):
        raise NotAllowed("Only an approver closes an official account.")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why the account is closed.")
    if not OfficialAccount.objects.filter(pk=account.pk, status=AccountStatus.OPEN).update(
        status=AccountStatus.CLOSED, closed_at=now, closed_by=user, close_reason=reason
    ):
        raise WrongState("Only an open account is closed.")
    account.refresh_from_db()
    clocks.cancel(account, DeadlineKind.ACCOUNT_REVIEW, now)
    _audit(user, account, "closed")
    return account


@transaction.atomic
def vacancy_fill(*, user, vacancy: AdministratorVacancy, replacement, now=None) -> AdministratorVacancy:
    """The head (or an approver) names who takes over from an administrator who left."""
    now = _now(now)
    account = vacancy.account
    if "approver" not in access.relations(user, account, access.ACCOUNT_RELATIONS):
        raise NotAllowed("Only the head or an approver names a replacement.")
    if account.status != AccountStatus.OPEN:
        raise WrongState("The account is not open.")
    if not active_members(account.school).filter(pk=replacement.pk).exists():
        raise Invalid("Name someone who works at the school.")
    if account.administrators.filter(user=replacement, ended_at__isnull=True).exists():
        raise Invalid("That person already runs this account.")
    if not AdministratorVacancy.objects.filter(pk=vacancy.pk, filled_at__isnull=True).update(
        filled_at=now, filled_by=user, replacement=replacement
    ):
        raise Stale("Someone has already named a replacement.")
    AccountAdministrator.objects.create(account=account, user=replacement, added_at=now)
    vacancy.refresh_from_db()
    _audit(user, account, "administrator replaced", vacancy=vacancy.pk, user=replacement.pk)
    return vacancy


def administrators_left(*, user_ids, school_id: int, now=None) -> list[AdministratorVacancy]:
    """administrator_left for many people at once (the staff import's leavers), in a fixed number
    of queries whatever their number, plus the per-person work for those who ran an account."""
    ids = set(user_ids)
    ids -= set(Membership.objects.filter(user_id__in=ids, school_id=school_id).values_list("user_id", flat=True))
    if not ids:
        return []
    Approver.objects.filter(user_id__in=ids, school_id=school_id).delete()
    running = AccountAdministrator.objects.filter(
        user_id__in=ids,
        ended_at__isnull=True,
        account__school_id=school_id,
        account__status__in=[AccountStatus.OPEN, AccountStatus.REQUESTED],
    )
    vacancies = []
    for user_id in sorted(set(running.values_list("user_id", flat=True))):
        vacancies += administrator_left(user_id=user_id, school_id=school_id, now=now)
    return vacancies


def administrator_left(*, user_id: int, school_id: int, now=None) -> list[AdministratorVacancy]:
    """A person no longer belongs to the school (their last membership there ended): they stop
    running its accounts, the head is asked to name replacements for open ones, and a named approver
    stops approving there. Called from the post_delete of Membership, inside the deleting transaction."""
    now = _now(now)
    if Membership.objects.filter(user_id=user_id, school_id=school_id).exists():
        return []  # one role ended, another remains: they still work there
    Approver.objects.filter(user_id=user_id, school_id=school_id).delete()
    rows = list(
        AccountAdministrator.objects.select_related("account", "account__school").filter(
            user_id=user_id,
            ended_at__isnull=True,
            account__school_id=school_id,
            account__status__in=[AccountStatus.OPEN, AccountStatus.REQUESTED],
        )
    )
    vacancies = []
    for row in rows:
        AccountAdministrator.objects.filter(pk=row.pk, ended_at__isnull=True).update(ended_at=now)
        account = row.account
        if account.status != AccountStatus.OPEN:
            continue  # a request not yet decided: the approver sees the named administrators have changed
        vacancy, created = AdministratorVacancy.objects.get_or_create(
            account=account, left_user_id=user_id, filled_at__isnull=True, defaults={"created_at": now}
        )
        if created:
            vacancies.append(vacancy)
            heads = [h for h in access.heads_of(account.school) if h.pk != user_id]
            _tell(heads, kind="account_admin_left", target=account, key=f"vacancy:{vacancy.pk}")
            record(
                AuditAction.CHANGE,
                object_type="officialaccount",
                object_id=account.pk,
                object_ref=account.label,
                school_id=account.school_id,
                detail={"op": "administrator left", "vacancy": vacancy.pk},
            )
    return vacancies


@transaction.atomic
def concern_link(*, user, incident: Incident, account: OfficialAccount, now=None) -> AccountConcern:
    """A case's owner says the case is about an official account: its administrators are told
    (content-free), never the case's subject."""
    now = _now(now)
    if not Incident.objects.owned_by(user).filter(pk=incident.pk).exists():
        raise NotAllowed("Only the case's owner links it to an official account.")
    if account.school_id != incident.school_id or account.status != AccountStatus.OPEN:
        raise Invalid("Choose an open official account of the case's school.")
    concern, created = AccountConcern.objects.get_or_create(
        incident=incident, account=account, defaults={"linked_by": user, "linked_at": now}
    )
    if created:
        admins = [
            a.user
            for a in account.administrators.select_related("user").filter(ended_at__isnull=True)
            if a.user.is_active and a.user_id != incident.subject_id
        ]
        _tell(admins, kind="account_concern", target=account, key=f"concern:{concern.pk}")
        record(
            AuditAction.CHANGE,
            actor=user,
            object_type="incident",
            object_id=incident.pk,
            object_ref=incident.reference,
            school_id=incident.school_id,
            detail={"op": "linked to official account", "incident": incident.pk, "account": account.pk},
        )
    return concern


# --- Authorisation requests -----------------------------------------------------------------------------


@transaction.atomic
def authorisation_request(
    *, user, school, kind: AuthorisationKind, details: str, images_of_pupils=False, account=None, now=None
) -> AuthorisationRequest:
    now = _now(now)
    if not active_members(school).filter(pk=user.pk).exists():
        raise NotAllowed("Only staff of the school ask for an authorisation.")
    if not kind.active:
        raise Invalid("That kind of request is no longer offered.")
    if kind.names_account:
        if account is None or account.school_id != school.pk or account.status != AccountStatus.OPEN:
            raise Invalid("Choose the open official account you want to post on.")
    else:
        account = None
    if images_of_pupils and not kind.consent_check:
        raise Invalid("Images of pupils are only asked for with a request to post on an official account.")
    if not (details or "").strip():
        raise Invalid("Say what you are asking for.")
    request = AuthorisationRequest.objects.create(
        school=school,
        kind=kind,
        account=account,
        details=details.strip(),
        images_of_pupils=images_of_pupils,
        requested_by=user,
        requested_at=now,
    )
    _started(request, user, now)
    return request


@transaction.atomic
def authorisation_decide(
    *,
    user,
    request: AuthorisationRequest,
    approve: bool,
    reason="",
    conditions="",
    expires_on=None,
    consent_checked=False,
    now=None,
) -> AuthorisationRequest:
    now = _now(now)
    _check_decider(user, request)
    reason, conditions = (reason or "").strip(), (conditions or "").strip()
    if not approve and not reason:
        raise Invalid("Give the reason for refusing.")
    fields = {"decided_by": user, "decided_at": now, "decision_reason": reason}
    if approve:
        if expires_on is not None and expires_on < _today(now):
            raise Invalid("The end date has passed.")
        if request.images_of_pupils and not consent_checked:
            raise Invalid("Check the pictured pupils against the do-not-publish list first, and say that you did.")
        fields |= {"status": AuthorisationStatus.APPROVED, "conditions": conditions, "expires_on": expires_on}
        if request.images_of_pupils:
            fields |= {"consent_checked_at": now, "consent_checked_by": user}
    else:
        fields["status"] = AuthorisationStatus.REFUSED
    if not AuthorisationRequest.objects.filter(pk=request.pk, status=AuthorisationStatus.REQUESTED).update(**fields):
        raise Stale("This request has already been decided.")
    request.refresh_from_db()
    clocks.cancel(request, DeadlineKind.REQUEST_DECISION, now, state=DeadlineState.DONE)
    if approve and expires_on is not None:
        clocks.start(
            request,
            DeadlineKind.APPROVAL_EXPIRY,
            clocks.end_of(expires_on),
            f"approved until {expires_on:%d %b %Y}",
            now,
        )
    _audit(user, request, "approved" if approve else "refused", consent_checked=bool(request.consent_checked_at))
    if request.requested_by.is_active:
        _tell([request.requested_by], kind="approval_decided", target=request, key=f"decided:{request.label}")
    return request


# --- The do-not-publish list ---------------------------------------------------------------------------


def _list_keeper(user, school):
    if not access.sees_list(user, school.pk):
        raise NotAllowed("Only approvers and the DSL keep the do-not-publish list.")


@transaction.atomic
def list_replace(*, user, school, rows: list[dict], now=None) -> int:
    """Replace the school's list with the rows of an import (already checked: nothing is saved
    when any line is wrong). The import is the whole current list, as the MIS exports it."""
    now = _now(now)
    _list_keeper(user, school)
    removed, _ = DoNotPublishEntry.objects.filter(school=school).delete()
    DoNotPublishEntry.objects.bulk_create(
        [
            DoNotPublishEntry(school=school, name=r["name"], class_name=r["class_name"], flags=r["flags"], added_at=now)
            for r in rows
        ]
    )
    record(
        AuditAction.CHANGE,
        actor=user,
        object_type="do_not_publish",
        school_id=school.pk,
        detail={"op": "imported", "entries": len(rows), "replaced": removed},
    )
    return len(rows)


@transaction.atomic
def list_add(*, user, school, name: str, class_name: str, flags: list[str], now=None) -> DoNotPublishEntry:
    _list_keeper(user, school)
    if not name.strip() or not class_name.strip():
        raise Invalid("Give the pupil's name and class.")
    entry = DoNotPublishEntry.objects.create(
        school=school, name=name.strip(), class_name=class_name.strip(), flags=flags, added_at=_now(now)
    )
    record(
        AuditAction.CREATE,
        actor=user,
        object_type="do_not_publish",
        object_id=entry.pk,
        school_id=school.pk,
        detail={"op": "added"},
    )
    return entry


@transaction.atomic
def list_remove(*, user, entry: DoNotPublishEntry) -> None:
    _list_keeper(user, entry.school)
    record(
        AuditAction.DELETE,
        actor=user,
        object_type="do_not_publish",
        object_id=entry.pk,
        school_id=entry.school_id,
        detail={"op": "removed"},
    )
    entry.delete()
