"""Upload limits enforced before any view reads the body (SECURITY-TEST-PLAN item 8)."""

import io

import pytest
from django.conf import settings
from django.urls import reverse

from incidents.models import Evidence, Incident

pytestmark = pytest.mark.django_db


def _report_data(files):
    return {
        "category": "parent_post",
        "platform": "facebook",
        "seen_at": "2025-11-19T10:30",
        "involved": "parent",
        "description": "A parent posted photos of other children.",
        "child_at_risk": "no",
        "files": files,
    }


def test_a_body_over_the_cap_is_refused_with_413_and_nothing_saved(client, cast):
    client.force_login(cast.sam)
    response = client.post(
        reverse("incidents:report"),
        data=b"x",
        content_type="application/octet-stream",
        CONTENT_LENGTH=str(settings.MAX_REQUEST_BYTES + 1),
    )
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not Incident.objects.exists()


def test_a_flood_of_files_is_refused_before_the_form_and_nothing_saved(client, cast):
    client.force_login(cast.sam)
    files = [io.BytesIO(b"%PDF-1.4\n%%EOF\n") for _ in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    for i, f in enumerate(files):
        f.name = f"page{i}.pdf"
    response = client.post(reverse("incidents:report"), _report_data(files))
    assert response.status_code == 400
    assert not Incident.objects.exists() and not Evidence.objects.exists()
