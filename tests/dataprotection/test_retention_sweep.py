"""The retention lifecycle, in the style of GlobaLeaks' test_cleaning (SECURITY-TEST-PLAN item 27):
a case and its evidence survive the nightly sweep before expiry; after expiry they are gone with no
file left and one non-identifying audit event; a legal hold blocks it; a malicious allegation enters
removal; a second sweep deletes nothing more."""

import json
import threading
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent
from dataprotection import retention, tasks
from dataprotection.models import RetentionRule
from dataprotection.retention import add_years
from incidents import services
from incidents.models import (
    AllegationOutcome,
    Category,
    Deadline,
    Evidence,
    GovernorReview,
    Incident,
    Notification,
    Referral,
    Status,
    TimelineEntry,
)
from tests.dataprotection.retention_cases import (
    CANARY,
    allegation_case,
    closed_at,
    closed_case,
    evidence_files_on_disk,
    files_of,
)
from tests.incidents.factories import fresh

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RETENTION_DEFAULT_YEARS = 6
    return settings.MEDIA_ROOT


def sweep(now, capture):
    with capture(execute=True):
        return retention.retention_sweep(now=now)


def delete_events():
    return list(AuditEvent.objects.filter(action=AuditAction.DELETE, object_type="incident"))


def rows_of(pk) -> dict[str, int]:
    return {
        "incident": Incident.objects.filter(pk=pk).count(),
        "evidence": Evidence.objects.filter(incident_id=pk).count(),
        "timeline": TimelineEntry.objects.filter(incident_id=pk).count(),
        "referrals": Referral.objects.filter(incident_id=pk).count(),
        "reviews": GovernorReview.objects.filter(incident_id=pk).count(),
        "deadlines": Deadline.objects.filter(incident_id=pk).count(),
        "notifications": Notification.objects.filter(incident_id=pk).count(),
    }


def test_a_case_and_its_evidence_survive_the_sweep_before_expiry(cast, django_capture_on_commit_callbacks):
    incident = closed_case(cast, files=2)
    files = files_of(incident)
    assert len(files) == 4  # two originals, two previews
    expiry = add_years(closed_at(incident), 6)

    assert sweep(expiry - timedelta(minutes=1), django_capture_on_commit_callbacks) == []

    assert Incident.objects.filter(pk=incident.pk).exists()
    assert Evidence.objects.filter(incident=incident).count() == 2
    assert all(f.exists() for f in files)
    assert delete_events() == []


def test_after_expiry_the_case_and_everything_on_it_are_deleted_with_no_file_left(
    cast, django_capture_on_commit_callbacks
):
    incident = closed_case(cast, files=2)
    survivor = closed_case(cast, files=1, description="Another case, closed later and kept.")
    kept_files = files_of(survivor)
    assert rows_of(incident.pk)["timeline"] > 0 and rows_of(incident.pk)["deadlines"] > 0
    assert rows_of(incident.pk)["notifications"] > 0
    expiry = add_years(closed_at(incident), 6)
    assert closed_at(survivor) > closed_at(incident)
    RetentionRule.objects.create(category=Category.PUPIL_POST, years_after_closure=1)  # another category

    deleted = sweep(expiry, django_capture_on_commit_callbacks)

    assert deleted == [incident.reference]
    assert rows_of(incident.pk) == dict.fromkeys(rows_of(incident.pk), 0)
    assert evidence_files_on_disk() == sorted(kept_files)  # 0 files of the deleted case left on disk
    assert Incident.objects.filter(pk=survivor.pk).exists()


def test_a_governor_reviewed_case_goes_with_its_review_and_referrals(cast, django_capture_on_commit_callbacks):
    from tests.incidents.factories import advance, report, upload

    incident = report(cast.oakfield, cast.sam, files=[upload()])
    incident = advance(incident, Status.INVESTIGATING, cast)
    services.referral_record(incident=incident, actor=cast.helen, kind="police", made_on=timezone.localdate())
    incident = advance(fresh(incident), Status.CLOSED, cast)  # breach: governors uphold it
    counts = rows_of(incident.pk)
    assert counts["reviews"] == 1 and counts["referrals"] == 1

    sweep(add_years(closed_at(incident), 6), django_capture_on_commit_callbacks)

    assert rows_of(incident.pk) == dict.fromkeys(counts, 0)
    assert evidence_files_on_disk() == []


def test_deletion_leaves_exactly_one_audit_event_that_names_no_one(cast, django_capture_on_commit_callbacks):
    incident = closed_case(cast)
    before = AuditEvent.objects.count()

    sweep(add_years(closed_at(incident), 6), django_capture_on_commit_callbacks)

    [event] = delete_events()
    assert (event.object_type, event.object_id, event.object_ref) == ("incident", str(incident.pk), incident.reference)
    assert event.actor_id is None and event.school_id == incident.school_id
    assert event.detail["rule"] == retention.Rule.DEFAULT and event.detail["category"] == Category.PARENT_POST
    text = json.dumps([event.actor_email, event.path, event.detail, event.object_ref])
    for secret in (CANARY, "Wendy", "Canary", cast.sam.full_name, cast.sam.email, cast.helen.full_name, "photos"):
        assert secret.lower() not in text.lower()
    # Nothing else the app records for the deletion names the case's content either.
    later = AuditEvent.objects.filter(pk__gt=0).order_by("id")[before:]
    assert CANARY not in json.dumps([e.detail for e in later])


def test_legal_hold_blocks_deletion_whatever_the_date(cast, django_capture_on_commit_callbacks):
    incident = closed_case(cast)
    retention.legal_hold_place(incident=incident, actor=cast.priya, reason="Employment tribunal claim")
    files = files_of(incident)

    assert sweep(add_years(closed_at(incident), 60), django_capture_on_commit_callbacks) == []

    assert Incident.objects.filter(pk=incident.pk).exists() and all(f.exists() for f in files)
    assert delete_events() == []


def test_a_released_hold_lets_the_next_run_delete_a_case_past_its_date(cast, django_capture_on_commit_callbacks):
    incident = closed_case(cast)
    retention.legal_hold_place(incident=incident, actor=cast.helen, reason="Claim expected")
    expiry = add_years(closed_at(incident), 6)
    assert sweep(expiry, django_capture_on_commit_callbacks) == []

    retention.legal_hold_release(incident=fresh(incident), actor=cast.priya, reason="Claim settled")

    assert sweep(expiry, django_capture_on_commit_callbacks) == [incident.reference]


def test_a_hold_placed_after_the_sweep_planned_still_wins(cast, django_capture_on_commit_callbacks):
    incident = closed_case(cast)
    expiry = add_years(closed_at(incident), 6)
    planned = [
        p.incident.pk
        for p in retention.schedule(Incident.objects.all())
        if retention.is_due(p.incident, p.decision, expiry)
    ]
    assert planned == [incident.pk]
    retention.legal_hold_place(incident=incident, actor=cast.priya, reason="Subject access request in progress")

    with django_capture_on_commit_callbacks(execute=True):
        assert retention.retention_delete(incident_id=incident.pk, now=expiry) == ""
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_a_malicious_allegation_enters_removal_at_the_next_run_after_closing(cast, django_capture_on_commit_callbacks):
    malicious = allegation_case(cast, allegation_outcome=AllegationOutcome.MALICIOUS)
    substantiated = allegation_case(cast, allegation_outcome=AllegationOutcome.SUBSTANTIATED)
    files = files_of(malicious)

    deleted = sweep(timezone.now(), django_capture_on_commit_callbacks)

    assert deleted == [malicious.reference]
    assert not Incident.objects.filter(pk=malicious.pk).exists()
    assert not any(f.exists() for f in files)
    assert Incident.objects.filter(pk=substantiated.pk).exists()  # kept 10 years or to pension age
    [event] = delete_events()
    assert event.detail["rule"] == retention.Rule.REMOVAL
    assert "Sam" not in json.dumps(event.detail) and CANARY not in json.dumps(event.detail)


def test_a_malicious_allegation_still_open_is_not_removed(cast, django_capture_on_commit_callbacks):
    pending = allegation_case(cast, allegation_outcome=AllegationOutcome.FALSE, close=False)
    assert pending.status == Status.OUTCOME_PROPOSED

    assert sweep(timezone.now() + timedelta(days=3650), django_capture_on_commit_callbacks) == []
    assert Incident.objects.filter(pk=pending.pk).exists()


def test_a_malicious_allegation_on_hold_is_not_removed(cast, django_capture_on_commit_callbacks):
    malicious = allegation_case(cast, allegation_outcome=AllegationOutcome.MALICIOUS)
    retention.legal_hold_place(incident=malicious, actor=cast.priya, reason="Police investigation")

    assert sweep(timezone.now(), django_capture_on_commit_callbacks) == []


def test_open_cases_are_never_deleted(cast, django_capture_on_commit_callbacks):
    from tests.incidents.factories import report

    incident = report(cast.oakfield, cast.sam)
    assert sweep(timezone.now() + timedelta(days=365 * 80), django_capture_on_commit_callbacks) == []
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_a_reopened_and_reclosed_case_counts_from_its_latest_closing(cast, django_capture_on_commit_callbacks):
    incident = closed_case(cast)
    first_close = closed_at(incident)
    services.incident_reopen(incident=fresh(incident), actor=cast.helen, reason="New evidence")
    services.incident_propose_outcome(
        incident=fresh(incident), actor=cast.helen, outcome="no_breach", reason="Still none."
    )
    services.incident_close(incident=fresh(incident), actor=cast.helen)
    second_close = closed_at(incident)
    assert second_close > first_close

    assert sweep(add_years(first_close, 6) + (second_close - first_close) / 2, django_capture_on_commit_callbacks) == []
    assert sweep(add_years(second_close, 6), django_capture_on_commit_callbacks) == [incident.reference]


def test_the_sweep_run_twice_deletes_once(cast, django_capture_on_commit_callbacks):
    incident = closed_case(cast)
    expiry = add_years(closed_at(incident), 6)

    first = sweep(expiry, django_capture_on_commit_callbacks)
    second = sweep(expiry, django_capture_on_commit_callbacks)

    assert (first, second) == ([incident.reference], [])
    assert len(delete_events()) == 1


def test_files_are_removed_only_once_the_deletion_commits(cast, django_capture_on_commit_callbacks):
    incident = closed_case(cast)
    files = files_of(incident)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        retention.retention_sweep(now=add_years(closed_at(incident), 6))
    assert all(f.exists() for f in files)  # not committed yet: a rollback must find its files

    for callback in callbacks:
        callback()
    assert not any(f.exists() for f in files)


def test_a_failed_deletion_keeps_the_case_its_files_and_writes_no_audit_event(
    cast, django_capture_on_commit_callbacks, monkeypatch
):
    incident = closed_case(cast)
    files = files_of(incident)

    def broken(*args, **kwargs):
        raise IntegrityError("simulated failure while writing the audit event")

    monkeypatch.setattr(retention, "record", broken)
    with pytest.raises(IntegrityError), django_capture_on_commit_callbacks(execute=True):
        retention.retention_sweep(now=add_years(closed_at(incident), 6))

    assert Incident.objects.filter(pk=incident.pk).exists()
    assert Evidence.objects.filter(incident=incident).count() == 1
    assert all(f.exists() for f in files)
    assert delete_events() == []


def test_a_category_rule_from_the_admin_shortens_or_lengthens_retention(cast, django_capture_on_commit_callbacks):
    incident = closed_case(cast)
    RetentionRule.objects.create(category=Category.PARENT_POST, years_after_closure=2)
    assert sweep(add_years(closed_at(incident), 2), django_capture_on_commit_callbacks) == [incident.reference]


def test_child_protection_categories_cannot_be_given_a_shorter_rule(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        RetentionRule.objects.create(category=Category.SAFEGUARDING, years_after_closure=1)


def test_the_nightly_task_runs_the_sweep_and_is_scheduled_at_0230_utc(cast, django_capture_on_commit_callbacks):
    incident = allegation_case(cast, allegation_outcome=AllegationOutcome.FALSE)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_retention() == 1
    assert not Incident.objects.filter(pk=incident.pk).exists()

    entry = django_settings.CELERY_BEAT_SCHEDULE["retention-sweep"]
    assert entry["task"] == tasks.sweep_retention.name
    schedule = entry["schedule"]
    assert (schedule.hour, schedule.minute) == ({2}, {30})
    assert django_settings.CELERY_TIMEZONE == "UTC"


# --- PostgreSQL: the timeline trigger and row locks are real only there ------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_timeline_can_be_deleted_only_inside_the_retention_job(cast):
    from django.db.utils import DatabaseError

    incident = closed_case(cast)
    expiry = add_years(closed_at(incident), 6)

    # Outside the job (no SET LOCAL), the trigger refuses: deleting the case fails as a whole.
    with pytest.raises(DatabaseError, match="deletion only by the retention job"), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).delete()
    assert TimelineEntry.objects.filter(incident=incident).exists()

    assert retention.retention_delete(incident_id=incident.pk, now=expiry) == incident.reference
    assert not TimelineEntry.objects.filter(incident_id=incident.pk).exists()

    # SET LOCAL ended with the job's transaction: the next transaction is guarded again.
    other = closed_case(cast, description="A second case, not due.")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TimelineEntry.objects.filter(incident=other).delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('policyhub.retention', true)")
        assert cursor.fetchone()[0] in (None, "", "off")
    assert not any(f.exists() for f in files_of(incident))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_sweep_skips_a_case_another_transaction_holds(cast):
    """Two sweeps at once: the one that finds the case locked skips it instead of deleting it too
    (or waiting); the next run deletes it once."""
    from django.db import connections

    incident = closed_case(cast)
    expiry = add_years(closed_at(incident), 6)
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                list(Incident.objects.select_for_update().filter(pk=incident.pk))
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    other = threading.Thread(target=hold_lock)
    other.start()
    assert locked.wait(10)
    try:
        assert retention.retention_sweep(now=expiry) == []
        assert Incident.objects.filter(pk=incident.pk).exists()
    finally:
        release.set()
        other.join(10)

    assert retention.retention_sweep(now=expiry) == [incident.reference]
    assert retention.retention_sweep(now=expiry) == []
    assert len(delete_events()) == 1
