"""Official accounts and authorisations through their services: what each refuses (and then
changes nothing), who may decide, the decision's record, its emails (content-free)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from approvals import services
from approvals.models import (
    AccountAdministrator,
    AccountStatus,
    AuthorisationRequest,
    AuthorisationStatus,
    OfficialAccount,
)
from incidents.emails import build
from incidents.errors import Invalid, NotAllowed, Stale
from incidents.models import Deadline, DeadlineKind, DeadlineState, Notification
from tests.approvals.conftest import account_for, open_account

pytestmark = pytest.mark.django_db


def _sent(kind):
    return sorted(n.recipient.full_name for n in Notification.objects.filter(kind=kind))


def test_a_request_names_two_staff_of_the_school_and_waits_for_the_approvers(world):
    account = account_for(world)
    assert account.status == AccountStatus.REQUESTED
    assert {a.user for a in account.administrators.all()} == {world.sam, world.tess}
    deadline = Deadline.objects.get(target_id=account.pk, kind=DeadlineKind.REQUEST_DECISION)
    assert deadline.state == DeadlineState.PENDING and "5 working days" in deadline.reason
    # The head and the named deputy are asked; not the requester, not the DSL, not the chair.
    assert _sent("approval_request") == ["Dev Mistry", "Helen Hart"]
    assert AuditEvent.objects.filter(object_type="officialaccount", object_id=str(account.pk), action="create").exists()


@pytest.mark.parametrize(
    "admins",
    [
        pytest.param(lambda w: [w.sam], id="one administrator"),
        pytest.param(lambda w: [w.sam, w.sam], id="the same person twice"),
        pytest.param(lambda w: [w.sam, w.bethan], id="staff of another school"),
        pytest.param(lambda w: [w.sam, w.gary], id="a governor, not staff"),
    ],
)
def test_a_request_without_two_administrators_on_the_staff_is_refused_and_saves_nothing(world, admins):
    with pytest.raises(Invalid):
        account_for(world, admins=admins(world))
    assert not OfficialAccount.objects.exists() and not Deadline.objects.exists()


def test_an_inactive_administrator_cannot_be_named(world):
    world.tess.is_active = False
    world.tess.save()
    with pytest.raises(Invalid):
        account_for(world)


def test_the_head_approves_and_the_account_goes_on_the_register_with_a_yearly_review(world):
    account = account_for(world)
    services.account_decide(user=world.helen, account=account, approve=True, reason="")
    account.refresh_from_db()
    assert account.status == AccountStatus.OPEN and account.decided_by == world.helen
    assert account.review_due == timezone.localdate() + timedelta(days=365)
    decision = Deadline.objects.get(target_id=account.pk, kind=DeadlineKind.REQUEST_DECISION)
    assert decision.state == DeadlineState.DONE
    review = Deadline.objects.get(target_id=account.pk, kind=DeadlineKind.ACCOUNT_REVIEW)
    assert review.state == DeadlineState.PENDING
    assert _sent("approval_decided") == ["Sam Taylor"]


def test_a_named_approver_decides_and_a_refusal_needs_a_reason(world):
    account = account_for(world)
    with pytest.raises(Invalid):
        services.account_decide(user=world.dev, account=account, approve=False, reason="  ")
    assert OfficialAccount.objects.get(pk=account.pk).status == AccountStatus.REQUESTED
    services.account_decide(user=world.dev, account=account, approve=False, reason="Use the school's page.")
    assert OfficialAccount.objects.get(pk=account.pk).status == AccountStatus.REFUSED


@pytest.mark.parametrize("who", ["sam", "tess", "dina", "carol", "olive", "tom"])
def test_nobody_but_an_approver_of_the_school_decides(world, who):
    account = account_for(world)
    with pytest.raises(NotAllowed):
        services.account_decide(user=getattr(world, who), account=account, approve=True, reason="")
    assert OfficialAccount.objects.get(pk=account.pk).status == AccountStatus.REQUESTED


def test_an_approver_never_decides_their_own_request(world):
    account = account_for(world, by=world.helen, admins=[world.helen, world.sam])
    with pytest.raises(NotAllowed, match="your own request"):
        services.account_decide(user=world.helen, account=account, approve=True, reason="")
    services.account_decide(user=world.dev, account=account, approve=True, reason="")


def test_two_approvers_deciding_the_same_copy_only_one_wins(world):
    account = account_for(world)
    copy = OfficialAccount.objects.get(pk=account.pk)
    services.account_decide(user=world.helen, account=account, approve=True, reason="")
    with pytest.raises(Stale):
        services.account_decide(user=world.dev, account=copy, approve=False, reason="No.")
    assert OfficialAccount.objects.get(pk=account.pk).decided_by == world.helen


def test_a_named_approver_who_left_the_school_no_longer_decides(world):
    account = account_for(world)
    world.dev.memberships.all().delete()
    with pytest.raises(NotAllowed):
        services.account_decide(user=world.dev, account=account, approve=True, reason="")


def test_review_and_close(world):
    account = open_account(world)
    later = timezone.now() + timedelta(days=300)
    services.account_reviewed(user=world.helen, account=account, now=later)
    account.refresh_from_db()
    assert account.review_due == (later + timedelta(days=365)).astimezone(timezone.get_current_timezone()).date()
    reviews = Deadline.objects.filter(target_id=account.pk, kind=DeadlineKind.ACCOUNT_REVIEW)
    assert sorted(reviews.values_list("state", flat=True)) == [DeadlineState.DONE, DeadlineState.PENDING]
    with pytest.raises(NotAllowed):
        services.account_close(user=world.sam, account=account, reason="Done.")
    with pytest.raises(Invalid):
        services.account_close(user=world.helen, account=account, reason="")
    services.account_close(user=world.helen, account=account, reason="The class moved on.")
    account.refresh_from_db()
    assert account.status == AccountStatus.CLOSED and account.closed_by == world.helen
    assert not reviews.filter(state=DeadlineState.PENDING).exists()


def test_every_email_is_content_free(world):
    account = open_account(world, name="@secret_handle", purpose="PURPOSE-CANARY")
    request = services.authorisation_request(
        user=world.sam,
        school=world.oakfield,
        kind=world.post_kind,
        account=account,
        details="DETAILS-CANARY",
        images_of_pupils=True,
    )
    services.authorisation_decide(user=world.helen, request=request, approve=False, reason="REASON-CANARY")
    notifications = list(Notification.objects.all())
    assert {n.kind for n in notifications} == {"approval_request", "approval_decided"}
    for n in notifications:
        subject, body = build(n)
        text = subject + body
        for canary in ("secret_handle", "PURPOSE-CANARY", "DETAILS-CANARY", "REASON-CANARY", "Instagram", "Sam"):
            assert canary not in text, (n.kind, canary)
        assert "/approvals/" in body


# --- Authorisations -------------------------------------------------------------------------------------


def test_posting_images_of_pupils_needs_the_consent_check_before_approval(world):
    account = open_account(world)
    request = services.authorisation_request(
        user=world.sam,
        school=world.oakfield,
        kind=world.post_kind,
        account=account,
        details="Photos of the Year 6 trip.",
        images_of_pupils=True,
    )
    with pytest.raises(Invalid, match="do-not-publish"):
        services.authorisation_decide(user=world.helen, request=request, approve=True)
    assert AuthorisationRequest.objects.get(pk=request.pk).status == AuthorisationStatus.REQUESTED
    expires = timezone.localdate() + timedelta(days=30)
    services.authorisation_decide(
        user=world.helen,
        request=request,
        approve=True,
        conditions="No faces of Class 6B.",
        expires_on=expires,
        consent_checked=True,
    )
    request.refresh_from_db()
    assert request.status == AuthorisationStatus.APPROVED
    assert request.consent_checked_by == world.helen and request.consent_checked_at is not None
    assert Deadline.objects.get(target_id=request.pk, kind=DeadlineKind.APPROVAL_EXPIRY).state == DeadlineState.PENDING


def test_the_database_refuses_an_approval_of_images_without_the_check(world):
    from django.db import IntegrityError, transaction

    account = open_account(world)
    request = services.authorisation_request(
        user=world.sam,
        school=world.oakfield,
        kind=world.post_kind,
        account=account,
        details="Photos.",
        images_of_pupils=True,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        AuthorisationRequest.objects.filter(pk=request.pk).update(status=AuthorisationStatus.APPROVED)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"kind": "post_kind"}, "official account"),
        ({"kind": "media_kind", "images_of_pupils": True}, "Images of pupils"),
        ({"kind": "media_kind", "details": "  "}, "Say what"),
    ],
)
def test_a_bad_authorisation_request_is_refused_and_saves_nothing(world, fields, message):
    values = {"details": "Radio interview about the fair."} | fields
    values["kind"] = getattr(world, values["kind"])
    with pytest.raises(Invalid, match=message):
        services.authorisation_request(user=world.sam, school=world.oakfield, **values)
    assert not AuthorisationRequest.objects.exists()


def test_an_account_of_another_school_or_a_closed_one_cannot_be_named(world):
    other = account_for(world, by=world.bethan, admins=[world.bethan, world.olive], school=world.brookside)
    with pytest.raises(NotAllowed):  # Helen is head of Oakfield, nobody at Brookside
        services.account_decide(user=world.helen, account=other, approve=True, reason="")
    services.account_decide(user=world.olive, account=other, approve=True, reason="")
    closed = open_account(world)
    services.account_close(user=world.helen, account=closed, reason="Not used.")
    for account in (other, closed):
        with pytest.raises(Invalid):
            services.authorisation_request(
                user=world.sam, school=world.oakfield, kind=world.post_kind, account=account, details="x"
            )
    assert not AuthorisationRequest.objects.exists()


def test_a_refusal_and_an_own_request(world):
    request = services.authorisation_request(
        user=world.dev, school=world.oakfield, kind=world.media_kind, details="BBC Radio Kent."
    )
    with pytest.raises(NotAllowed):
        services.authorisation_decide(user=world.dev, request=request, approve=True)
    with pytest.raises(Invalid):
        services.authorisation_decide(user=world.helen, request=request, approve=False, reason="")
    services.authorisation_decide(user=world.helen, request=request, approve=False, reason="Press office only.")
    assert AuthorisationRequest.objects.get(pk=request.pk).status == AuthorisationStatus.REFUSED
    event = AuditEvent.objects.filter(object_type="authorisationrequest", object_id=str(request.pk)).first()
    assert event.detail["op"] == "refused" and "Press office" not in str(event.detail)


def test_approver_designation_is_the_heads(world):
    with pytest.raises(NotAllowed):
        services.approver_name(actor=world.dev, school=world.oakfield, user=world.una)
    with pytest.raises(Invalid):
        services.approver_name(actor=world.helen, school=world.oakfield, user=world.bethan)
    assert AccountAdministrator.objects.count() == 0
