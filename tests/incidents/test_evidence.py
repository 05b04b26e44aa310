"""Evidence uploads are judged on their bytes, stored privately and re-encoded; downloads are
permission-checked and carry headers that stop a browser rendering them."""

import hashlib
import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from PIL import Image

from incidents import evidence
from incidents.models import Evidence, Incident
from tests.incidents.factories import fast_passwords, png_bytes, report, sign_in, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _report_with(client, cast, *files):
    sign_in(client, cast.sam)
    data = {
        "category": "parent_post",
        "platform": "facebook",
        "seen_at": "2026-01-05T10:00",
        "involved": "parent",
        "description": "Photos of other children on a public page.",
        "child_at_risk": "no",
        "files": list(files),
    }
    return client.post(reverse("incidents:report"), data)


def _stored(media):
    folder = Path(media) / "evidence"
    return sorted(p for p in folder.iterdir()) if folder.exists() else []


def test_a_screenshot_is_stored_under_a_random_name_with_its_hash(client, cast, media):
    response = _report_with(client, cast, upload("class trip.png"))
    assert response.status_code == 302
    item = Evidence.objects.get()
    assert item.original_name == "class trip.png"
    assert item.content_type == "image/png"
    path = evidence.path_of(item.stored_name)
    assert path.parent == media / "evidence" and "trip" not in item.stored_name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == item.sha256
    assert item.preview_name and evidence.path_of(item.preview_name).exists()


def test_oversize_file_is_refused_with_a_message_and_nothing_is_saved(client, cast, media):
    big = upload("huge.png", data=b"\x89PNG" + b"0" * (evidence.MAX_FILE_BYTES + 1))
    response = _report_with(client, cast, big)
    assert response.status_code == 400
    assert "larger than 10 MB" in response.content.decode()
    assert "Photos of other children on a public page." in response.content.decode()  # what they typed is kept
    assert not Incident.objects.exists() and not _stored(media)


def test_eleven_files_are_refused(client, cast, media):
    response = _report_with(client, cast, *[upload(f"s{i}.png") for i in range(evidence.MAX_FILES + 1)])
    assert response.status_code == 400
    assert "at most 10 files" in response.content.decode()
    assert not Incident.objects.exists()


def test_bytes_that_are_not_an_image_named_png_are_refused(client, cast, media):
    response = _report_with(client, cast, upload("photo.png", data=b"<html><script>alert(1)</script></html>"))
    assert response.status_code == 400
    assert "not a picture or PDF we can accept" in response.content.decode()
    assert not Incident.objects.exists() and not _stored(media)


def test_svg_with_script_is_refused(client, cast, media):
    response = _report_with(client, cast, upload("drawing.svg", data=SVG, content_type="image/svg+xml"))
    assert response.status_code == 400
    assert not Incident.objects.exists() and not _stored(media)


def test_svg_renamed_png_is_refused(client, cast, media):
    assert _report_with(client, cast, upload("drawing.png", data=SVG)).status_code == 400


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.png",
        "..\\..\\windows\\win.ini.png",
        "/etc/cron.d/x.png",
        "....//....//x.png",
        "%2e%2e%2fx.png",
    ],
)
def test_path_traversal_names_never_reach_the_file_system(client, cast, media, name):
    assert _report_with(client, cast, upload(name)).status_code == 302
    item = Evidence.objects.get()
    assert "/" not in item.original_name and "\\" not in item.original_name
    stored = _stored(media)
    assert all(p.parent == media / "evidence" for p in stored)
    assert {p.name for p in stored} == {item.stored_name, item.preview_name}


def test_png_with_appended_script_is_stored_without_it(client, cast, media):
    polyglot = png_bytes() + b"<html><script>alert('x')</script></html>"
    assert _report_with(client, cast, upload("trip.png", data=polyglot)).status_code == 302
    stored = evidence.path_of(Evidence.objects.get().stored_name).read_bytes()
    assert b"<script" not in stored and b"<html" not in stored
    Image.open(io.BytesIO(stored)).verify()


def test_gif_javascript_polyglot_is_neutralised(client, cast, media):
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, format="GIF", comment=b"*/=alert(1)/*<script>x</script>")
    assert _report_with(client, cast, upload("a.gif", data=out.getvalue())).status_code == 302
    stored = evidence.path_of(Evidence.objects.get().stored_name).read_bytes()
    assert b"alert" not in stored and b"<script" not in stored


def test_exif_gps_is_stripped(client, cast, media):
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPSInfo
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (10, 200, 10)).save(out, format="JPEG", exif=exif)
    assert Image.open(io.BytesIO(out.getvalue())).getexif().get(0x8825) is not None  # the test image has GPS
    assert (
        _report_with(client, cast, upload("phone.jpg", data=out.getvalue(), content_type="image/jpeg")).status_code
        == 302
    )
    stored = Image.open(evidence.path_of(Evidence.objects.get().stored_name))
    assert len(stored.getexif()) == 0
    assert "exif" not in stored.info


def test_pdf_is_accepted_by_its_magic_bytes_and_one_carrying_markup_is_refused(client, cast, media):
    import pikepdf

    out = io.BytesIO()
    blank = pikepdf.new()
    blank.add_blank_page()
    blank.save(out)
    pdf = out.getvalue()  # a real one-page PDF: PDFs are opened and rewritten (test_pdf_evidence.py)
    assert _report_with(client, cast, upload("page.pdf", data=pdf, content_type="application/pdf")).status_code == 302
    assert Evidence.objects.get().content_type == "application/pdf"
    bad = pdf + b"<html><script>alert(1)</script>"
    assert _report_with(client, cast, upload("bad.pdf", data=bad, content_type="application/pdf")).status_code == 400


def test_decompression_bomb_is_refused(client, cast, media):
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG")
    response = _report_with(client, cast, upload("bomb.png", data=out.getvalue()))
    assert response.status_code == 400
    assert not _stored(media)


def test_a_failed_save_leaves_no_file_and_no_row(client, cast, media, monkeypatch):
    real = os.fsync

    def disk_full(fd):
        real(fd)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(evidence.os, "fsync", disk_full)
    response = _report_with(client, cast, upload())
    assert response.status_code == 400
    assert "could not be saved" in response.content.decode()
    assert not Incident.objects.exists() and not Evidence.objects.exists()
    assert not _stored(media)


def test_files_written_before_a_later_failure_are_removed(cast, media, monkeypatch):
    from incidents import services

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.clocks, "clocks_start_response", broken)
    with pytest.raises(RuntimeError):
        report(cast.oakfield, cast.sam, files=[upload(), upload("b.png")])
    assert not _stored(media) and not Evidence.objects.exists()


def test_download_headers(client, cast, media):
    incident = report(cast.oakfield, cast.sam, files=[upload("trip.png")])
    item = incident.evidence.get()
    sign_in(client, cast.helen)
    response = client.get(reverse("incidents:evidence_download", args=[item.public_id]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="trip.png"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "image/png"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == item.sha256


def test_download_name_gets_the_real_extension(client, cast, media):
    incident = report(cast.oakfield, cast.sam, files=[upload("evil.html", data=png_bytes())])
    item = incident.evidence.get()
    sign_in(client, cast.helen)
    response = client.get(reverse("incidents:evidence_download", args=[item.public_id]))
    assert 'filename="evil.html.png"' in response["Content-Disposition"]


def test_download_by_someone_who_may_not_see_the_case_is_404(client, cast, media):
    incident = report(cast.oakfield, cast.sam, files=[upload()])
    item = incident.evidence.get()
    for person in (cast.olive, cast.gary, cast.dina, cast.tom, cast.priya, cast.bethan):
        sign_in(client, person)
        assert client.get(reverse("incidents:evidence_download", args=[item.public_id])).status_code == 404
        assert client.get(reverse("incidents:evidence_preview", args=[item.public_id])).status_code == 404


def test_evidence_is_never_under_a_public_url(client, cast, media):
    incident = report(cast.oakfield, cast.sam, files=[upload()])
    item = incident.evidence.get()
    sign_in(client, cast.helen)
    for prefix in ("/media/", "/media/evidence/", "/static/", "/evidence/"):
        assert client.get(prefix + item.stored_name).status_code == 404
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert item.stored_name not in page
    assert str(settings.MEDIA_ROOT) not in page
