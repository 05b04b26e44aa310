"""The pack's page, its CSV and PDF downloads (audited), the trust view and its drill-down ([9])."""

import csv
import io
import re

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import AuditAction, AuditEvent, Role
from incidents.models import Incident
from tests.factories import member
from tests.incidents.factories import fast_passwords, policy_for, sign_in

from .fixtures import NOW, pack_cases

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords, pack_cases)

PACK = reverse("incidents:termly_report")
SPRING = {"term": "2026-spring"}


def _get(client, person, url, data=None):
    sign_in(client, person)
    with time_machine.travel(NOW, tick=False):
        return client.get(url, data or {})


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_governor_opens_the_pack_with_charts_tables_and_the_upheld_list(client, cast, pack_cases):
    response = _get(client, cast.gary, PACK, SPRING)
    assert response.status_code == 200
    html = _text(response)
    assert "Governors' pack: Oakfield Primary, Spring term 2026" in html
    assert 'data-testid="received-total">3<' in html
    assert 'data-testid="upheld-total">2<' in html
    assert html.count("<svg") == 3 and "24-hour deadline" in html
    assert '<title id="chart-months-title">' in html and "style=" not in html.split("<svg", 1)[1].split("</svg>")[0]
    # Gary may read the upheld cases as a governor: listed by reference. c3 (about him) never appears.
    assert pack_cases["c1"].reference in html and pack_cases["c2"].reference in html
    assert pack_cases["c3"].reference not in html
    # The previous term sits beside each figure.
    assert "Autumn term 2025" in html


def test_the_page_is_for_governors_and_trust_admins_only(client, cast, pack_cases):
    assert _get(client, cast.sam, PACK).status_code == 403
    assert _get(client, cast.helen, PACK).status_code == 403
    # A school the person may not report on is a 404, as a school that does not exist.
    assert _get(client, cast.gary, PACK, {"school": cast.brookside.pk}).status_code == 404
    assert _get(client, cast.gary, PACK, {"school": "999999"}).status_code == 404
    # A term that is not understood: the current term, with a message.
    response = _get(client, cast.gary, PACK, {"term": "2026-winter"})
    assert response.status_code == 200 and "That term was not recognised" in _text(response)
    assert "Summer term 2026" in _text(response)


def test_the_trust_admin_drills_down_to_a_pack_without_case_content(client, cast, pack_cases):
    member(cast.tom, cast.brookside, Role.TRUST_ADMIN)
    response = _get(client, cast.tom, reverse("reporting:trust"), SPRING)
    assert response.status_code == 200
    html = _text(response)
    assert "Oakfield Primary" in html and "Brookside Academy" in html
    assert 'data-testid="below-target-row"' in html and "50 % <strong>below target</strong>" in html
    assert not any(i.reference in html for i in Incident.objects.all())
    drill = f"{PACK}?school={cast.oakfield.pk}&amp;term=2026-spring"
    assert drill in html
    pack = _get(client, cast.tom, PACK, {"school": cast.oakfield.pk, "term": "2026-spring"})
    assert pack.status_code == 200
    page = _text(pack)
    assert 'data-testid="received-total">4<' in page  # c3 counts for the trust admin
    assert not any(i.reference in page for i in Incident.objects.all())  # no case content
    # Governors do not get the trust view.
    assert _get(client, cast.gary, reverse("reporting:trust")).status_code == 403


def test_the_csv_download_is_audited_and_has_no_case_content(client, cast, pack_cases):
    response = _get(client, cast.gary, reverse("reporting:pack_csv"), {"school": cast.oakfield.pk, **SPRING})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="governors-pack-oakfield-2026-spring.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["School", "Section", "Figure", "Spring term 2026", "Autumn term 2025"]
    assert ["Oakfield Primary", "Cases received", "All cases", "3", "3"] in rows
    assert ["Oakfield Primary", "First responses", "Longest time to first response", "8 h", "10.5 h"] in rows
    body = response.content.decode()
    assert not any(i.reference in body for i in Incident.objects.all())
    event = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="governors_pack")
    assert (event.actor_id, event.school_id, event.detail) == (
        cast.gary.pk,
        cast.oakfield.pk,
        {"format": "csv", "term": "2026-spring"},
    )


def test_csv_cells_cannot_run_as_formulas(client, cast, pack_cases):
    cast.oakfield.name = '=HYPERLINK("http://evil")'
    cast.oakfield.save()
    response = _get(client, cast.gary, reverse("reporting:pack_csv"), SPRING)
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'


def test_the_pdf_download_is_audited_and_reads_as_the_page(client, cast, pack_cases):
    version = policy_for(cast.oakfield)
    version.next_review_date = NOW.date().replace(month=1)
    version.save()
    response = _get(client, cast.carol, reverse("reporting:pack_pdf"), SPRING)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages))
    assert "Governors' pack: Oakfield Primary, Spring term 2026" in text
    assert "Breaches upheld 3 0" in text
    assert "Escalated to the chair 2 0" in text
    assert "(overdue)" in text  # the policy's review date has passed
    assert not any(i.reference in text for i in Incident.objects.all())
    assert AuditEvent.objects.filter(
        action=AuditAction.EXPORT, object_type="governors_pack", actor_id=cast.carol.pk, detail__format="pdf"
    ).exists()


def test_a_refused_download_writes_no_export(client, cast, pack_cases):
    assert _get(client, cast.sam, reverse("reporting:pack_pdf")).status_code == 403
    assert _get(client, cast.gary, reverse("reporting:pack_csv"), {"school": cast.brookside.pk}).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
