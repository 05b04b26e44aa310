"""The policy review clock ([9].5): a version's next review date is a deadline. Reminders before it and
an "overdue" message after it go to the heads of the schools under the policy (and the trust admins of a
model policy), fired by the real sweep as beat runs it; a review recorded, or a new version published,
moves the clock, and the old date's reminders never fire."""

import datetime as dt
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Role
from incidents.models import Deadline, DeadlineKind, DeadlineState, Notification
from incidents.notify import notification_send
from policyhub import review, services, tasks
from policyhub.env import env_days
from policyhub.models import PolicyVersion, VersionStatus
from tests.factories import SchoolFactory, member, person
from tests.policyhub.policy_data import draft, sign_in, structure, trust_policy

pytestmark = pytest.mark.django_db

REVIEW_ON = dt.date(2027, 3, 1)
# The end of 1 March 2027 in London (GMT): overdue from midnight.
OVERDUE_AT = dt.datetime(2027, 3, 2, 0, 0, tzinfo=dt.UTC)


def _publish(cast, *, on=REVIEW_ON, policy=None):
    policy = policy or trust_policy(cast).policy
    version = draft(policy, structure(salt=" next"))
    return services.policy_version_publish(
        actor=cast.tom, version=version, effective_date=dt.date(2026, 9, 1), next_review_date=on
    )


def _pending(version=None):
    rows = Deadline.objects.filter(kind=DeadlineKind.POLICY_REVIEW, state=DeadlineState.PENDING)
    if version is not None:
        rows = rows.filter(target_id=version.pk)
    return sorted(rows.values_list("due_at", "data__stage"))


def _told(kind):
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__full_name", flat=True))


def _send_all():
    for pk in Notification.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
        notification_send(notification_id=pk)


def test_publishing_with_a_review_date_starts_reminders_and_the_overdue_clock(cast):
    version = _publish(cast)
    assert _pending(version) == [
        (OVERDUE_AT - timedelta(days=30), "reminder"),
        (OVERDUE_AT - timedelta(days=7), "reminder"),
        (OVERDUE_AT, "overdue"),
    ]


def test_the_sweep_reminds_the_heads_and_trust_admin_once_then_says_overdue(cast, sweep):
    _publish(cast)
    first = OVERDUE_AT - timedelta(days=30)
    assert sweep(now=first - timedelta(minutes=1)) == 0
    assert sweep(now=first + timedelta(seconds=1)) == 1
    # Both schools' heads work under the trust's model policy; Tom manages it. Nobody else.
    assert _told(review.DUE_SOON) == ["Helen Hart", "Olive Owen", "Tom Reed"]
    assert sweep(now=first + timedelta(minutes=1)) == 0  # the next minute's sweep
    assert sweep(now=OVERDUE_AT + timedelta(seconds=1)) == 2  # the 7-day one, then overdue
    assert _told(review.OVERDUE) == ["Helen Hart", "Olive Owen", "Tom Reed"]
    assert sweep(now=OVERDUE_AT + timedelta(minutes=1)) == 0
    assert Notification.objects.filter(kind=review.DUE_SOON).count() == 6
    _send_all()
    overdue = [m for m in mail.outbox if "overdue" in m.subject]
    assert len(overdue) == 3
    for message in mail.outbox:
        assert reverse("policy:version", args=[PolicyVersion.objects.get(status="active").pk]) in message.body
        assert "Riverside" not in message.subject + message.body  # a link, not the policy's name


def test_a_head_who_is_also_trust_admin_is_told_once(cast, sweep):
    member(cast.helen, cast.oakfield, Role.TRUST_ADMIN)
    _publish(cast)
    sweep(now=OVERDUE_AT + timedelta(seconds=1))
    assert _told(review.OVERDUE) == ["Helen Hart", "Olive Owen", "Tom Reed"]


def test_recording_a_review_moves_the_clock_and_the_old_date_never_fires(cast, sweep):
    version = _publish(cast)
    today = dt.date(2027, 2, 20)  # inside the 30-day window
    services.policy_review_record(actor=cast.tom, version=version, next_review_date=dt.date(2028, 3, 1), today=today)
    version.refresh_from_db()
    assert version.next_review_date == dt.date(2028, 3, 1)
    assert [stage for _due, stage in _pending(version)] == ["reminder", "reminder", "overdue"]
    assert sweep(now=OVERDUE_AT + timedelta(days=1)) == 0
    assert _told(review.OVERDUE) == []
    event = AuditEvent.objects.get(object_type="policy_version", object_id=str(version.pk))
    assert event.actor_id == cast.tom.pk and event.detail["next_review_date"] == "2028-03-01"


def test_a_new_version_stops_the_old_versions_clock(cast, sweep):
    old = _publish(cast)
    new = _publish(cast, on=dt.date(2028, 9, 1), policy=old.policy)
    old.refresh_from_db()
    assert old.status == VersionStatus.ARCHIVED
    assert _pending(old) == []
    assert [stage for _due, stage in _pending(new)] == ["reminder", "reminder", "overdue"]
    # Published with no review date: no clock at all.
    services.policy_version_publish(
        actor=cast.tom, version=draft(old.policy, structure(salt=" v4")), effective_date=dt.date(2027, 1, 1)
    )
    assert _pending() == []
    assert sweep(now=dt.datetime(2029, 1, 1, tzinfo=dt.UTC)) == 0


def test_review_dates_are_checked_and_only_a_manager_records_one(cast):
    version = _publish(cast)
    with pytest.raises(services.PolicyStateError, match="future"):
        services.policy_review_record(actor=cast.tom, version=version, next_review_date=dt.date(2026, 1, 1))
    with pytest.raises(PermissionDenied):
        services.policy_review_record(actor=cast.helen, version=version, next_review_date=dt.date(2030, 1, 1))
    archived = PolicyVersion.objects.get(policy=version.policy, status=VersionStatus.ARCHIVED)
    with pytest.raises(services.PolicyStateError, match="in force"):
        services.policy_review_record(actor=cast.tom, version=archived, next_review_date=dt.date(2030, 1, 1))
    version.refresh_from_db()
    assert version.next_review_date == REVIEW_ON
    assert not AuditEvent.objects.filter(object_type="policy_version").exists()


def test_a_date_set_behind_the_services_back_gets_its_clock_from_the_hourly_beat(cast, sweep):
    version = trust_policy(cast)  # published without a date: no clock
    assert _pending() == []
    PolicyVersion.objects.filter(pk=version.pk).update(next_review_date=REVIEW_ON)  # e.g. the Django admin
    tasks.send_acknowledgement_reminders()
    assert [stage for _due, stage in _pending(version)][-1] == "overdue"
    tasks.send_acknowledgement_reminders()  # idempotent
    assert len(_pending(version)) == 3
    PolicyVersion.objects.filter(pk=version.pk).update(next_review_date=dt.date(2027, 6, 1))
    tasks.send_acknowledgement_reminders()
    assert max(_pending(version))[0] == review.due_at(dt.date(2027, 6, 1))
    assert sweep(now=OVERDUE_AT + timedelta(seconds=1)) == 0  # March's clock went with March's date
    assert sweep(now=review.due_at(dt.date(2027, 6, 1)) + timedelta(seconds=1)) == 3
    assert _told(review.OVERDUE) == ["Helen Hart", "Olive Owen", "Tom Reed"]


def test_the_policy_page_says_overdue_and_a_manager_records_the_review(cast, client):
    version = _publish(cast, on=timezone.localdate() - timedelta(days=3))
    sign_in(client, cast.sam)
    page = client.get(reverse("policy:page")).content.decode()
    assert "Review overdue" in page and "3 days ago" in page
    assert "Record the review" not in page  # staff read it; only managers record
    assert client.post(reverse("policy:record_review", args=[version.pk]), {}).status_code == 403

    sign_in(client, cast.tom)
    url = reverse("policy:record_review", args=[version.pk])
    page = client.get(reverse("policy:version", args=[version.pk])).content.decode()
    assert "Record the review" in page
    refused = client.post(url, {"review-next_review_date": "not a date"}, follow=True)
    assert "Nothing was changed" in refused.content.decode()
    version.refresh_from_db()
    assert version.next_review_date == timezone.localdate() - timedelta(days=3)
    next_year = timezone.localdate() + timedelta(days=365)
    done = client.post(url, {"review-next_review_date": next_year.isoformat()}, follow=True).content.decode()
    assert "Review recorded" in done and "Review overdue" not in done
    version.refresh_from_db()
    assert version.next_review_date == next_year


def test_a_stranger_to_the_policy_gets_a_404(cast, client):
    version = _publish(cast)
    elsewhere = SchoolFactory(name="Far Away", slug="faraway", code="FAR", urn="100099")
    stranger = person("Sid Stone", elsewhere, Role.HEAD, Role.STAFF)
    sign_in(client, stranger)
    assert client.post(reverse("policy:record_review", args=[version.pk]), {}).status_code == 404


def test_reminder_days_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("POLICY_REVIEW_REMINDER_DAYS", "60, 14,1")
    assert env_days("POLICY_REVIEW_REMINDER_DAYS", [30, 7]) == [60, 14, 1]
    for bad in ("thirty", "30,-1", "0"):
        monkeypatch.setenv("POLICY_REVIEW_REMINDER_DAYS", bad)
        with pytest.raises(ImproperlyConfigured, match="whole numbers of days"):
            env_days("POLICY_REVIEW_REMINDER_DAYS", [30, 7])
