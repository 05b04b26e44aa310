"""The approvals' deadlines, fired by the real sweep (incidents.clocks.deadlines_sweep), as Celery
beat runs it every minute: the decision reminder, the yearly review and the end of an approval.
Each fires once; a second sweep a minute later sends nothing; a decision made in time stops it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals import services
from approvals.models import AuthorisationRequest, AuthorisationStatus
from incidents.models import Deadline, DeadlineKind, DeadlineState, Notification
from tests.approvals.conftest import account_for, open_account

pytestmark = pytest.mark.django_db


def _to(kind):
    return sorted(n.recipient.full_name for n in Notification.objects.filter(kind=kind))


def _due(obj, kind):
    return Deadline.objects.get(target_id=obj.pk, kind=kind, state=DeadlineState.PENDING).due_at


def test_an_undecided_request_reminds_the_approvers_at_its_deadline_once(world, sweep):
    account = account_for(world)
    due = _due(account, DeadlineKind.REQUEST_DECISION)
    assert sweep(now=due - timedelta(minutes=1)) == 0
    assert _to("approval_overdue") == []
    assert sweep(now=due + timedelta(seconds=1)) == 1
    assert _to("approval_overdue") == ["Dev Mistry", "Helen Hart"]  # never Sam, who asked
    assert sweep(now=due + timedelta(minutes=1)) == 0  # the next sweep
    assert Notification.objects.filter(kind="approval_overdue").count() == 2
    # Deciding late is still possible, and the decided request has nothing left pending.
    services.account_decide(user=world.helen, account=account, approve=True, reason="")


def test_a_decision_in_time_stops_the_clock(world, sweep):
    request = services.authorisation_request(
        user=world.sam, school=world.oakfield, kind=world.media_kind, details="Local paper."
    )
    due = _due(request, DeadlineKind.REQUEST_DECISION)
    services.authorisation_decide(user=world.dev, request=request, approve=True)
    assert sweep(now=due + timedelta(days=1)) == 0
    assert _to("approval_overdue") == []


def test_a_decision_committed_just_before_the_sweep_wins(world, sweep):
    """The deadline row is still pending (e.g. the decision's service ran on another worker that
    did not yet cancel it): the effect re-reads the request and sends nothing."""
    account = account_for(world)
    deadline = Deadline.objects.get(target_id=account.pk, kind=DeadlineKind.REQUEST_DECISION)
    services.account_decide(user=world.helen, account=account, approve=True, reason="")
    Deadline.objects.filter(pk=deadline.pk).update(state=DeadlineState.PENDING)
    assert sweep(now=deadline.due_at + timedelta(seconds=1)) == 1
    assert _to("approval_overdue") == []


def test_the_yearly_review_tells_the_approvers_and_the_administrators(world, sweep):
    account = open_account(world)
    due = _due(account, DeadlineKind.ACCOUNT_REVIEW)
    assert due - timezone.now() > timedelta(days=360)
    assert sweep(now=due + timedelta(seconds=1)) == 1
    assert _to("account_review_due") == ["Dev Mistry", "Helen Hart", "Sam Taylor", "Tess Nolan"]
    assert sweep(now=due + timedelta(minutes=1)) == 0
    assert Notification.objects.filter(kind="account_review_due").count() == 4


def test_a_closed_account_is_not_reviewed(world, sweep):
    account = open_account(world)
    due = _due(account, DeadlineKind.ACCOUNT_REVIEW)
    services.account_close(user=world.helen, account=account, reason="Not used.")
    assert sweep(now=due + timedelta(seconds=1)) == 0
    assert _to("account_review_due") == []


def test_an_approval_expires_at_the_end_of_its_last_day(world, sweep):
    request = services.authorisation_request(
        user=world.sam, school=world.oakfield, kind=world.media_kind, details="Radio."
    )
    last_day = timezone.localdate() + timedelta(days=3)
    services.authorisation_decide(user=world.helen, request=request, approve=True, expires_on=last_day)
    due = _due(request, DeadlineKind.APPROVAL_EXPIRY)
    assert sweep(now=due - timedelta(minutes=1)) == 0
    assert AuthorisationRequest.objects.get(pk=request.pk).status == AuthorisationStatus.APPROVED
    assert sweep(now=due + timedelta(seconds=1)) == 1
    assert AuthorisationRequest.objects.get(pk=request.pk).status == AuthorisationStatus.EXPIRED
    assert _to("approval_expired") == ["Sam Taylor"]
    assert sweep(now=due + timedelta(minutes=1)) == 0
    assert Notification.objects.filter(kind="approval_expired").count() == 1


def test_the_decision_window_is_configurable(world, settings):
    settings.APPROVALS_DECISION_WORKING_DAYS = 1
    account = account_for(world)
    deadline = Deadline.objects.get(target_id=account.pk, kind=DeadlineKind.REQUEST_DECISION)
    assert "1 working days" in deadline.reason or "1 working day" in deadline.reason
    assert deadline.due_at - timezone.now() < timedelta(days=5)  # at most a weekend and a holiday away
