"""Training records ([10] item 5): the head or trust admin records training; a compliance table with
a CSV like acknowledgements; a reminder 30 days before expiry, fired by the real sweep."""

import csv
import io
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from incidents import clocks
from incidents.models import Deadline, DeadlineKind, DeadlineState, Notification
from incidents.notify import notification_send
from obligations import services
from obligations.models import TrainingRecord, TrainingTopic
from tests.incidents.clock_helpers import received
from tests.policyhub.policy_data import sign_in

pytestmark = pytest.mark.django_db
NOW = received("2025-11-20 10:00")


def _record(cast, person=None, topic=TrainingTopic.POLICY, done=date(2025, 9, 1), expires=date(2026, 9, 1), by=None):
    return services.record_training(
        actor=by or cast.helen,
        school=cast.oakfield,
        person=person or cast.sam,
        topic=topic,
        completed_on=done,
        provider="Riverside CPD",
        expires_on=expires,
        now=NOW,
    )


def test_a_reminder_goes_30_days_before_expiry_once(cast):
    training = _record(cast)
    deadline = Deadline.objects.get(kind=DeadlineKind.TRAINING_EXPIRY, state=DeadlineState.PENDING)
    assert deadline.target == training
    assert deadline.due_at == received("2026-08-02 09:00")
    assert clocks.deadlines_sweep(now=deadline.due_at) == 1
    assert clocks.deadlines_sweep(now=deadline.due_at + timedelta(minutes=1)) == 0
    for n in Notification.objects.filter(sent_at__isnull=True):
        notification_send(notification_id=n.pk)
    assert [m.to[0] for m in mail.outbox] == [cast.sam.email]
    assert "1 September 2026" in mail.outbox[0].subject


def test_a_newer_record_replaces_the_older_ones_reminder(cast):
    _record(cast)
    newer = _record(cast, done=date(2025, 11, 1), expires=date(2027, 11, 1))
    pending = Deadline.objects.filter(kind=DeadlineKind.TRAINING_EXPIRY, state=DeadlineState.PENDING)
    assert [d.target for d in pending] == [newer]


@pytest.mark.parametrize(
    "done, expires, message",
    [(date(2025, 12, 1), None, "future"), (date(2025, 9, 1), date(2025, 9, 1), "after the date")],
)
def test_bad_dates_are_refused_and_nothing_is_saved(cast, done, expires, message):
    with pytest.raises(ValidationError, match=message):
        _record(cast, done=done, expires=expires)
    assert not TrainingRecord.objects.exists() and not Deadline.objects.exists()


def test_only_the_head_or_trust_admin_records_and_only_for_members(cast):
    with pytest.raises(PermissionDenied):
        _record(cast, by=cast.sam)
    with pytest.raises(PermissionDenied):
        _record(cast, by=cast.dina)
    _record(cast, by=cast.tom)
    with pytest.raises(ValidationError):
        _record(cast, person=cast.bethan)  # Brookside staff, not Oakfield's


@time_machine.travel(NOW, tick=False)  # "expired" and "current" are judged against today
def test_the_compliance_table_and_csv(cast, client):
    _record(cast)  # Sam: policy training current
    _record(cast, person=cast.dina, done=date(2023, 9, 1), expires=date(2024, 9, 1))  # expired
    sign_in(client, cast.helen)
    page = client.get(reverse("obligations:training")).content.decode()
    assert "None recorded" in page and "(expired)" in page
    response = client.get(reverse("obligations:training_csv"))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by = {(r["Email"], r["Training"]): r for r in rows}
    assert by[(cast.sam.email, "Staff social-media policy")]["State"] == "current"
    assert by[(cast.dina.email, "Staff social-media policy")]["State"] == "expired"
    assert by[(cast.gary.email, "Online safety")]["State"] == "none"
    assert cast.priya.email not in {r["Email"] for r in rows}  # the DPO is not covered by the policy's training
    assert cast.bethan.email not in {r["Email"] for r in rows}


@pytest.mark.parametrize("who, status", [("sam", 403), ("dina", 403), ("gary", 403), ("helen", 200), ("tom", 200)])
def test_who_opens_the_training_pages(cast, client, who, status):
    sign_in(client, getattr(cast, who))
    assert client.get(reverse("obligations:training")).status_code == status
    assert client.get(reverse("obligations:training_csv")).status_code == status
    assert client.get(reverse("obligations:my_training")).status_code == 200


def test_a_person_sees_only_their_own_training(cast, client):
    _record(cast, person=cast.dina)
    sign_in(client, cast.sam)
    assert "Riverside CPD" not in client.get(reverse("obligations:my_training")).content.decode()
    _record(cast)
    assert "Riverside CPD" in client.get(reverse("obligations:my_training")).content.decode()


def test_the_training_page_queries_do_not_grow(cast, client, django_assert_max_num_queries):
    from tests.factories import person

    sign_in(client, cast.helen)
    _record(cast)
    with django_assert_max_num_queries(20) as small:
        client.get(reverse("obligations:training"))
    for i in range(12):
        p = person(f"Extra Staff{i}", cast.oakfield, "staff", email=f"t{i}@oakfield.example.org")
        _record(cast, person=p)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("obligations:training"))
