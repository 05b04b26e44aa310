"""The import page: upload or paste, preview, correct, save a draft; bad files change nothing."""

import io
import zipfile
from pathlib import Path
from unittest.mock import patch

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from policyhub.models import Clause, Policy, PolicyVersion
from policyhub.views import IMPORT_SESSION_KEY
from tests.policyhub.policy_data import sign_in

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent / "fixtures"
POLICY_TEXT = """Staff social media policy

1. Purpose
1.1 This policy explains how staff use social media.
1.2 It applies to all staff and volunteers.

2. Contact with pupils
2.1 Staff must not befriend pupils on personal accounts.
2.2 Staff must report any contact from a pupil to the safeguarding lead.
2.2.1 The report is made on the same day.
"""


def head(client, cast):
    sign_in(client, cast.helen)
    return client


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def start(client, **fields):
    data = {"owner": "school", "title": "Oakfield policy", **fields}
    return client.post(reverse("policy:import"), data)


def docx_bytes(lines):
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_pasted_text_goes_to_a_preview_of_sections_and_clauses(client, cast):
    client = head(client, cast)
    response = start(client, text=POLICY_TEXT)
    assert response.status_code == 302 and response["Location"] == reverse("policy:import_preview")
    preview = client.get(response["Location"])
    html = preview.content.decode()
    assert "2.2.1" in html and "Contact with pupils" in html and "Contact with pupils" in html
    assert "Contact with pupils" in [s["heading"] for s in preview.context["sections"]]
    assert not Policy.objects.exists()  # nothing is saved before the user chooses to


def test_a_docx_upload_is_previewed(client, cast):
    client = head(client, cast)
    data = docx_bytes(POLICY_TEXT.splitlines())
    response = start(client, document=upload("policy.docx", data))
    assert response.status_code == 302
    assert client.session[IMPORT_SESSION_KEY]["source_name"] == "policy.docx"


def test_a_text_fixture_file_is_previewed(client, cast):
    client = head(client, cast)
    path = FIXTURES / "decimal_numbered_with_furniture.txt"
    response = start(client, document=upload(path.name, path.read_bytes(), "text/plain"))
    assert response.status_code == 302
    refs = [c["ref"] for s in client.session[IMPORT_SESSION_KEY]["structure"]["sections"] for c in s["clauses"]]
    assert refs[:3] == ["1.1", "1.2", "2.1"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"document": upload("empty.txt", b"")}, "The submitted file is empty."),
        ({"document": upload("note.txt", b"Just a shopping list: milk.")}, "does not look like a policy"),
        ({"document": upload("broken.docx", b"PK\x03\x04 this is not really a zip")}, "docx"),
        ({"document": upload("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100)}, "can't be imported"),
        ({"document": upload("policy.exe", b"MZ" + b"0" * 100)}, "can't be imported"),
        ({"text": "   "}, "Upload a policy document or paste its text."),
        ({}, "Upload a policy document or paste its text."),
        ({"text": POLICY_TEXT, "document": upload("p.txt", POLICY_TEXT.encode())}, "not both"),
    ],
    ids=["empty", "not-a-policy", "corrupt-docx", "image", "exe", "blank-text", "nothing", "both"],
)
def test_bad_input_gets_a_clear_message_and_saves_nothing(client, cast, fields, message):
    client = head(client, cast)
    response = start(client, **fields)
    assert response.status_code == 400
    errors = " ".join(
        response.context["form"].errors.get("__all__", []) + response.context["form"].errors.get("document", [])
    )
    assert errors and message in errors
    assert IMPORT_SESSION_KEY not in client.session
    assert not Policy.objects.exists() and not PolicyVersion.objects.exists()


def test_a_corrupt_pdf_is_refused(client, cast):
    client = head(client, cast)
    response = start(client, document=upload("policy.pdf", b"%PDF-1.4\n garbage garbage"))
    assert response.status_code == 400 and response.context["form"].errors["__all__"]


def test_a_zip_that_is_not_a_word_document_is_refused(client, cast):
    client = head(client, cast)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    response = start(client, document=upload("policy.docx", buffer.getvalue()))
    assert response.status_code == 400 and response.context["form"].errors["__all__"]


def test_a_file_that_is_too_large_is_refused_before_it_is_read(client, cast):
    client = head(client, cast)
    with patch("policyhub.forms.DEFAULT_MAX_BYTES", 100):
        response = start(client, document=upload("big.txt", POLICY_TEXT.encode()))
    assert response.status_code == 400
    assert "too large" in " ".join(response.context["form"].errors["__all__"])
    assert not Policy.objects.exists()


@pytest.mark.parametrize("who", ["sam", "gary", "priya"])
def test_import_page_is_403_for_other_roles(client, cast, who):
    sign_in(client, getattr(cast, who))
    assert client.get(reverse("policy:import")).status_code == 403
    assert start(client, text=POLICY_TEXT).status_code == 403


def test_trust_admin_may_import_only_as_the_trust_policy(client, cast):
    sign_in(client, cast.tom)
    response = start(client, text=POLICY_TEXT)
    assert response.status_code == 400 and "owner" in response.context["form"].errors
    assert start(client, text=POLICY_TEXT, owner="trust").status_code == 302
    client.post(reverse("policy:import_preview"), {"action": "save"})
    assert Policy.objects.get().trust == cast.trust


def section_data(section, action="done", **changes):
    data = {
        "s-TOTAL_FORMS": "1",
        "s-INITIAL_FORMS": "1",
        "s-MIN_NUM_FORMS": "1",
        "s-MAX_NUM_FORMS": "1",
        "s-0-number": section["number"],
        "s-0-heading": section["heading"],
        "c-TOTAL_FORMS": str(len(section["clauses"])),
        "c-INITIAL_FORMS": str(len(section["clauses"])),
        "c-MIN_NUM_FORMS": "0",
        "c-MAX_NUM_FORMS": "500",
        "action": action,
    }
    for i, clause in enumerate(section["clauses"]):
        data.update(
            {
                f"c-{i}-orig_ref": clause["ref"],
                f"c-{i}-ref": clause["ref"],
                f"c-{i}-parent": clause["parent"] or "",
                f"c-{i}-text": clause["text"],
                f"c-{i}-topics": clause["topics"],
            }
        )
    data.update(changes)
    return data


def working(client):
    return client.session[IMPORT_SESSION_KEY]["structure"]["sections"]


def test_head_corrects_heading_merges_splits_renumbers_and_saves_a_draft(client, cast):
    client = head(client, cast)
    start(client, text=POLICY_TEXT)
    url = reverse("policy:import_section", args=[1])
    section = working(client)[1]
    assert client.get(url).status_code == 200
    # Rename the heading and give 2.1 a topic, staying on the page.
    response = client.post(
        url, section_data(section, **{"s-0-heading": "Pupils", "c-0-topics": ["contact_pupils"]}, action="done")
    )
    assert response.status_code == 302 and response["Location"].endswith("#section-1")
    section = working(client)[1]
    assert section["heading"] == "Pupils" and section["clauses"][0]["topics"] == ["contact_pupils"]
    # Merge 2.2.1 into 2.2.
    client.post(url, section_data(section, action="merge-2"))
    section = working(client)[1]
    assert [c["ref"] for c in section["clauses"]] == ["2.1", "2.2"]
    assert section["clauses"][1]["text"].endswith("safeguarding lead. The report is made on the same day.")
    # Split 2.1 at a line break the user typed.
    client.post(
        url,
        section_data(section, action="split-0", **{"c-0-text": "Staff must not befriend pupils.\nNor follow them."}),
    )
    section = working(client)[1]
    assert [c["ref"] for c in section["clauses"]] == ["2.1", "2.1-2", "2.2"]
    # Re-number.
    client.post(url, section_data(section, action="renumber"))
    section = working(client)[1]
    assert [c["ref"] for c in section["clauses"]] == ["2.1", "2.2", "2.3"]
    assert section["clauses"][1]["text"] == "Nor follow them."
    # Save.
    response = client.post(reverse("policy:import_preview"), {"action": "save"})
    version = PolicyVersion.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("policy:version", args=[version.pk])
    assert version.status == "draft" and version.policy.school == cast.oakfield
    assert version.sections.get(order=2).heading == "Pupils"
    assert list(Clause.objects.filter(section__order=2).values_list("ref", flat=True)) == ["2.1", "2.2", "2.3"]
    assert IMPORT_SESSION_KEY not in client.session


def test_renaming_a_clause_takes_its_sub_clauses_along(client, cast):
    client = head(client, cast)
    start(client, text=POLICY_TEXT)
    section = working(client)[1]
    client.post(reverse("policy:import_section", args=[1]), section_data(section, **{"c-1-ref": "2.5"}))
    section = working(client)[1]
    assert [(c["ref"], c["parent"]) for c in section["clauses"]] == [("2.1", None), ("2.5", None), ("2.2.1", "2.5")]


def test_invalid_edits_are_shown_with_errors_and_not_kept(client, cast):
    client = head(client, cast)
    start(client, text=POLICY_TEXT)
    section = working(client)[1]
    response = client.post(
        reverse("policy:import_section", args=[1]), section_data(section, **{"s-0-heading": "", "c-0-ref": "a b"})
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "is-invalid" in html and "This field is required." in html
    assert working(client)[1]["heading"] == "Contact with pupils"


def test_saving_with_a_repeated_reference_says_so_and_saves_nothing(client, cast):
    client = head(client, cast)
    start(client, text=POLICY_TEXT)
    section = working(client)[1]
    client.post(reverse("policy:import_section", args=[1]), section_data(section, **{"c-1-ref": "2.1"}))
    response = client.post(reverse("policy:import_preview"), {"action": "save"}, follow=True)
    assert "Two clauses have the reference 2.1" in response.content.decode()
    assert not PolicyVersion.objects.exists()
    assert IMPORT_SESSION_KEY in client.session  # the corrections are not lost


def test_tampered_session_structure_is_not_trusted(client, cast):
    client = head(client, cast)
    start(client, text=POLICY_TEXT)
    session = client.session
    session[IMPORT_SESSION_KEY]["structure"] = {"sections": [{"heading": 5, "clauses": "x"}]}
    session.save()
    response = client.get(reverse("policy:import_preview"))
    assert response.status_code == 302 and response["Location"] == reverse("policy:import")


def test_another_schools_import_in_the_session_is_not_shown(client, cast):
    client = head(client, cast)
    start(client, text=POLICY_TEXT)
    session = client.session
    session[IMPORT_SESSION_KEY]["school_id"] = cast.brookside.pk
    session.save()
    assert client.get(reverse("policy:import_preview")).status_code == 302


def test_preview_with_nothing_imported_sends_you_to_the_import_page(client, cast):
    response = head(client, cast).get(reverse("policy:import_preview"))
    assert response.status_code == 302 and response["Location"] == reverse("policy:import")


def test_unknown_section_is_404_and_unknown_action_is_400(client, cast):
    client = head(client, cast)
    start(client, text=POLICY_TEXT)
    assert client.get(reverse("policy:import_section", args=[9])).status_code == 404
    section = working(client)[1]
    assert (
        client.post(reverse("policy:import_section", args=[1]), section_data(section, action="explode")).status_code
        == 400
    )
    assert client.post(reverse("policy:import_preview"), {"action": "explode"}).status_code == 400


def test_cancel_discards_the_preview(client, cast):
    client = head(client, cast)
    start(client, text=POLICY_TEXT)
    client.post(reverse("policy:import_preview"), {"action": "cancel"})
    assert IMPORT_SESSION_KEY not in client.session and not PolicyVersion.objects.exists()


def test_the_preview_round_trip_keeps_every_word(client, cast):
    client = head(client, cast)
    path = FIXTURES / "decimal_numbered_with_furniture.txt"
    start(client, document=upload(path.name, path.read_bytes(), "text/plain"))
    before = working(client)
    for index, section in enumerate(before):
        client.post(reverse("policy:import_section", args=[index]), section_data(section))
    assert working(client) == before
    client.post(reverse("policy:import_preview"), {"action": "save"})
    from policyhub.services import version_structure

    assert version_structure(PolicyVersion.objects.get())["sections"] == before


UNSURE_TEXT = """Staff social media policy

Approved by: Governing Board
1. Purpose
1.1 This policy explains how staff use social media.
1.2 It applies to all staff and volunteers.
1.5 Staff report concerns to the safeguarding lead.
"""


def test_preview_shows_confidence_and_puts_the_unsure_places_first(client, cast):
    client = head(client, cast)
    response = start(client, text=UNSURE_TEXT)
    assert response.status_code == 302
    preview = client.get(response["Location"])
    review = preview.context["review"]
    assert review["unsure_count"] == 1 and review["confidence_percent"] == 67
    assert [d["ref"] for d in review["doubts"]] == ["1.5"]
    assert review["doubts"][0]["edit_url"] == reverse("policy:import_section", args=[0])
    assert review["metadata"] == ["Approved by: Governing Board"]
    html = preview.content.decode()
    assert "How sure the importer is: 67%" in html
    assert "The numbering jumps from 1.2 to 1.5" in html
    # the doubts come before the sections, and the clause itself is marked
    assert html.index("The numbering jumps") < html.index('id="section-0"')
    assert html.count("Check: the importer was unsure") == 1
    assert "Approved by: Governing Board" in html


def test_preview_of_a_clean_import_says_nothing_was_in_doubt(client, cast):
    client = head(client, cast)
    preview = client.get(start(client, text=POLICY_TEXT)["Location"])
    assert preview.context["review"]["unsure_count"] == 0
    assert "found no place where the document could be read two ways" in preview.content.decode()


def test_a_tampered_review_in_the_session_is_ignored_not_trusted(client, cast):
    client = head(client, cast)
    start(client, text=UNSURE_TEXT)
    session = client.session
    session[IMPORT_SESSION_KEY]["review"] = {"confidence": "lots", "doubts": "<script>"}
    session.save()
    preview = client.get(reverse("policy:import_preview"))
    assert preview.status_code == 200 and preview.context["review"] is None
    session = client.session
    session[IMPORT_SESSION_KEY]["review"] = {
        "confidence": 0.5,
        "unsure_count": 1,
        "doubts": [{"ref": "1.1", "line": "<script>alert(1)</script>", "reason": "x"}, "junk"],
        "metadata": ["ok", 3],
    }
    session.save()
    preview = client.get(reverse("policy:import_preview"))
    html = preview.content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert preview.context["review"]["metadata"] == ["ok"]


def test_preview_with_unsure_places_and_metadata_passes_the_accessibility_checks(client, cast):
    from tests.policyhub.test_policy_accessibility import check

    client = head(client, cast)
    preview = client.get(start(client, text=UNSURE_TEXT)["Location"])
    html = preview.content.decode()
    assert "Left out of the clauses" in html
    check(html, "import preview with doubts")
