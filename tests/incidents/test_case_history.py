"""A case's access history (incidents/history_views.py) includes the downloads of its evidence:
accounts' audit middleware names the case through the lookup incidents registers at start-up."""

import pytest
from django.urls import reverse

from accounts import audit
from accounts.models import AuditAction, AuditEvent
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
    assert client.get(reverse("incidents:evidence_download", args=[item.pk])).status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.DOWNLOAD)
    assert (event.object_type, event.object_id, event.detail["incident"]) == ("evidence", str(item.pk), incident.pk)
    history = client.get(reverse("audit:case_history", args=[incident.pk]))
    assert history.status_code == 200
    assert event in history.context["page"].object_list


def test_a_refused_download_of_a_missing_file_names_no_case(client, cast, media):
    sign_in(client, cast.helen)
    assert client.get(reverse("incidents:evidence_download", args=[999999])).status_code == 404
    event = AuditEvent.objects.get(action=AuditAction.REFUSED)
    assert (event.object_type, event.detail["incident"]) == ("evidence", None)


def test_without_the_lookup_the_middleware_refuses_to_guess(client, cast, media, monkeypatch):
    incident = report(cast.oakfield, cast.sam, files=[upload()])
    monkeypatch.setattr(audit, "_case_of_evidence", None)
    sign_in(client, cast.helen)
    with pytest.raises(RuntimeError, match="incidents.apps"):
        client.get(reverse("incidents:evidence_download", args=[incident.evidence.get().pk]))


def test_the_history_is_the_same_address_and_name_as_before():
    assert reverse("audit:case_history", args=[7]) == "/audit/case/7/"
    assert reverse("audit:log") == "/audit/"
