"""A case's access history (incidents/history_views.py) includes the downloads of its evidence:
accounts' audit middleware names the case through the look-ups incidents registers at start-up
(accounts/case_lookups.py, incidents/audit_lookups.py)."""

import uuid

import pytest
from django.urls import reverse

from accounts import case_lookups
from accounts.audit_cases import concerning, hidden_from
from accounts.models import AuditAction, AuditEvent
from incidents.models import Category, Involved
from tests.incidents.factories import fast_passwords, report, sign_in, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_an_evidence_download_is_recorded_with_its_case_and_shows_in_its_history(client, cast, media):
    incident = report(cast.oakfield, cast.sam, files=[upload("trip.png")])
    item = incident.evidence.get()
    sign_in(client, cast.helen)
    assert client.get(reverse("incidents:evidence_download", args=[item.public_id])).status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.DOWNLOAD)
    assert (event.object_type, event.object_id, event.object_ref) == ("evidence", str(item.pk), str(item.public_id))
    assert event.detail["incident"] == incident.pk
    history = client.get(reverse("audit:case_history", args=[incident.reference]))
    assert history.status_code == 200
    shown = {e.pk: e for e in history.context["page"].object_list}
    assert shown[event.pk].file_name == "trip.png"


def test_a_case_page_is_recorded_with_the_database_id_of_its_reference(client, cast, media):
    incident = report(cast.oakfield, cast.sam)
    sign_in(client, cast.helen)
    assert client.get(reverse("incidents:detail", args=[incident.reference])).status_code == 200
    event = AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="incident").get()
    assert (event.object_id, event.object_ref, event.detail["incident"]) == (
        str(incident.pk),
        incident.reference,
        incident.pk,
    )


def test_a_refused_download_of_a_missing_file_names_no_case(client, cast, media):
    sign_in(client, cast.helen)
    missing = uuid.uuid4()
    assert client.get(reverse("incidents:evidence_download", args=[missing])).status_code == 404
    event = AuditEvent.objects.get(action=AuditAction.REFUSED)
    assert (event.object_type, event.object_ref) == ("evidence", str(missing))
    assert "incident" not in event.detail


def test_the_log_knows_the_rows_and_the_subject_of_a_case(cast, media):
    """A row change of a case's file names only the row: the case's history and the subject filter
    find it through the rows incidents says belong to the case."""
    incident = report(
        cast.oakfield,
        cast.dina,
        category=Category.STAFF_CONDUCT,
        involved=Involved.STAFF,
        subject=cast.sam,
        files=[upload()],
    )
    other = report(cast.oakfield, cast.dina, files=[upload()])
    row_change = AuditEvent.objects.create(
        action=AuditAction.DB_CHANGE, object_type="incidents_evidence", object_id=str(incident.evidence.get().pk)
    )
    assert AuditEvent.objects.filter(concerning([incident.pk]), pk=row_change.pk).exists()
    assert not AuditEvent.objects.filter(concerning([other.pk]), pk=row_change.pk).exists()
    assert AuditEvent.objects.filter(hidden_from(cast.sam), pk=row_change.pk).exists()
    assert not AuditEvent.objects.filter(hidden_from(cast.dina), pk=row_change.pk).exists()


def test_without_the_look_ups_the_audit_trail_refuses_to_guess(client, cast, media, monkeypatch):
    incident = report(cast.oakfield, cast.sam, files=[upload()])
    monkeypatch.setattr(case_lookups, "_registered", None)
    sign_in(client, cast.helen)
    with pytest.raises(RuntimeError, match="incidents.apps"):
        client.get(reverse("incidents:evidence_download", args=[incident.evidence.get().public_id]))
    # A case page the view refused (not Helen's school): the refusal must name the case, by look-up.
    elsewhere = report(cast.brookside, cast.bethan)
    with pytest.raises(RuntimeError, match="incidents.apps"):
        client.get(reverse("incidents:detail", args=[elsewhere.reference]))
    with pytest.raises(RuntimeError, match="incidents.apps"):
        hidden_from(cast.sam)
    # A case page the view fetched names the case by the id the view found: nothing is guessed.
    assert client.get(reverse("incidents:detail", args=[incident.reference])).status_code == 200


def test_the_history_is_the_same_address_and_name_as_before(cast):
    incident = report(cast.oakfield, cast.sam)
    assert reverse("audit:case_history", args=[incident.reference]) == f"/audit/case/{incident.reference}/"
    assert reverse("audit:log") == "/audit/"
