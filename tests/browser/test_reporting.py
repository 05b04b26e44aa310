"""The governors' pack and the trust view in Chromium ([9]): the governor opens the pack and
downloads its PDF (read back with pypdf), axe finds nothing on the pack or the trust view, and the
pack fits a 390 px phone without scrolling sideways (screenshot kept with the test's files)."""

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.models import School, User
from incidents.models import Incident
from policyhub.demo import DEFAULT_DEMO_PASSWORD, seed
from tests.auth import login_verified
from tests.browser.test_accessibility import _no_sideways_scroll, _violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(browser, live_server, email):
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    login_verified(page, User.objects.get(email=email), DEFAULT_DEMO_PASSWORD)
    return context, page


def test_a_governor_reads_prints_and_downloads_the_pack(browser, live_server, tmp_path):
    seed()
    context, page = _signed_in(browser, live_server, "governor.oakfield@example.org")
    page.goto("/")
    page.get_by_role("link", name="Termly report").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Governors' pack: Oakfield Primary School")
    expect(page.locator("svg[role=img]")).to_have_count(3)
    assert _violations(page) == []
    assert _no_sideways_scroll(page) == []
    page.screenshot(path=tmp_path / "pack-390.png", full_page=True)
    assert (tmp_path / "pack-390.png").stat().st_size > 0
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the pack (PDF)").click()
    download = info.value
    assert re.fullmatch(r"governors-pack-oakfield-\d{4}-(autumn|spring|summer)\.pdf", download.suggested_filename)
    pdf = PdfReader(io.BytesIO(download.path().read_bytes()))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pdf.pages))
    assert "Governors' pack: Oakfield Primary School" in text
    assert "First responses" in text and "Breaches upheld" in text
    assert not any(ref in text for ref in Incident.objects.values_list("reference", flat=True))
    # Print: the choices and the download buttons are left off the printed page.
    page.emulate_media(media="print")
    expect(page.get_by_role("link", name="Download the pack (PDF)")).to_be_hidden()
    context.close()


def test_the_trust_admin_compares_schools_and_opens_one_pack(browser, live_server):
    seed()
    context, page = _signed_in(browser, live_server, "trust-admin@example.org")
    page.get_by_role("link", name="Trust figures").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Trust figures")
    table = page.get_by_role("table")
    expect(table).to_contain_text("Oakfield Primary School")
    expect(table).to_contain_text("Brookside Academy")
    assert _violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Brookside Academy").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Governors' pack: Brookside Academy")
    assert School.objects.get(slug="brookside").nation == "wales"
    assert _violations(page) == []
    html = page.content()
    assert not any(ref in html for ref in Incident.objects.values_list("reference", flat=True))
    context.close()
