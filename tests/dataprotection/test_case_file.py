"""The case file (dataprotection/casefile.py, docs/case-file.md): a PDF of the case for the LADO, HR or a
disciplinary panel, read back with pypdf; who may download it; what is redacted; what is recorded."""

import hashlib
import io
import logging
import re
import zipfile
from datetime import date, timedelta

import pytest
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import AuditAction, AuditEvent, Role
from incidents import services
from incidents.models import Category, Involved, Outcome, Status, TimelineEntry, TimelineKind
from policyhub import services as policy_services
from tests.factories import person
from tests.incidents.factories import advance, fast_passwords, fresh, policy_for, report, sign_in, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords", "media")]
_fixtures = (fast_passwords,)

ZOE = "Zoë Ó'Brien"
PUPIL = "Tilly Mason"
DESCRIPTION = f"{ZOE} posted a photo of {PUPIL} — Sam Taylor saw it and Helen Hart was told."
ALL_REDACTIONS = {"purpose": "lado", "redact": ["reporter", "staff"], "also_redact": PUPIL}
NO_REDACTION = {"purpose": "hr"}


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def zoe(cast):
    return person(ZOE, cast.oakfield, Role.STAFF)


def _case(cast, zoe, *, files=1, to=Status.CLOSED):
    """Sam reports Zoë (staff); Helen triages it citing 7.2, proposes a breach outcome; Gary upholds."""
    version = policy_for(cast.oakfield)
    incident = report(
        cast.oakfield,
        cast.sam,
        category=Category.STAFF_CONDUCT,
        involved=Involved.STAFF,
        subject=zoe,
        description=DESCRIPTION,
        files=[upload(f"shot-{n}.png") for n in range(files)],
    )
    return advance(incident, to, cast, outcome=Outcome.INFORMAL_ACTION, clauses=[version.clauses.get(ref="7.2")])


def _download(client, incident, data):
    return client.post(reverse("casefile:download", args=[incident.reference]), data)


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_the_owner_downloads_a_pdf_with_every_section(client, cast, zoe):
    incident = _case(cast, zoe)
    sign_in(client, cast.helen)
    response = _download(client, incident, NO_REDACTION)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert f'filename="case-file-{incident.reference}-' in response["Content-Disposition"]
    text = _pdf_text(response.content)
    for heading in ["Summary", "Timeline", "Decisions and reasons", "Policy clauses cited", "Evidence", "Redactions"]:
        assert heading in text
    for fact in [incident.reference, "Oakfield Primary", "Concern about a member of staff", "Policy breach", "Closed"]:
        assert fact in text, fact
    # Decisions with their reasons: the triage's harm reason, the outcome's, the governors' decision.
    assert "No risk to children." in text and "Because." in text and "Uphold the outcome" in text
    assert "Informal action" in text
    # Timeline entries with who and when, in UK time (GMT or BST written out).
    assert "Triaged: Medium severity" in text
    assert re.search(r"\d\d [A-Z][a-z]{2} \d{4}, \d\d:\d\d (GMT|BST) · Helen Hart · Triaged", text)


def test_unicode_names_and_dashes_render(client, cast, zoe):
    incident = _case(cast, zoe)
    sign_in(client, cast.helen)
    text = _pdf_text(_download(client, incident, NO_REDACTION).content)
    assert ZOE in text
    assert f"{PUPIL} — Sam Taylor" in text


def test_the_clause_shows_its_text_as_in_force_when_cited(client, cast, zoe):
    incident = _case(cast, zoe)
    v1 = fresh(incident).policy_version
    old = v1.clauses.get(ref="7.2").text
    # The policy changes after the case cited 7.2: a new version, with 7.2 reworded, in force now.
    draft = policy_services.policy_version_new_draft(actor=cast.helen, from_version=v1)
    structure = policy_services.version_structure(draft)
    for section in structure["sections"]:
        for clause in section["clauses"]:
            if clause["ref"] == "7.2":
                clause["text"] = "Parents may post any images they like."
    policy_services.policy_version_update_draft(actor=cast.helen, version=draft, structure=structure)
    policy_services.policy_version_publish(actor=cast.helen, version=draft, effective_date=date(2026, 1, 1))

    sign_in(client, cast.helen)
    text = _pdf_text(_download(client, incident, NO_REDACTION).content)
    assert old in text
    assert "Parents may post any images they like." not in text
    assert f"version {v1.number}, in force from 01 Sep 2025" in text


def test_the_evidence_list_carries_each_files_sha256_and_capture_data(client, cast, zoe):
    incident = _case(cast, zoe, files=2)
    sign_in(client, cast.helen)
    text = _pdf_text(_download(client, incident, NO_REDACTION).content)
    items = list(incident.evidence.all())
    assert len(items) == 2
    for item in items:
        assert item.sha256 in text
        assert item.original_name in text
    assert "Captured" in text and "Uploaded" in text


def test_chosen_redactions_are_absent_from_the_pdf_and_the_zip(client, cast, zoe):
    incident = _case(cast, zoe)
    sign_in(client, cast.helen)
    plain = _pdf_text(_download(client, incident, NO_REDACTION).content)
    # Without redaction the names are there: the assertions below can fail.
    for name in ["Sam Taylor", "Helen Hart", PUPIL, "Gary Green"]:
        assert name in plain

    response = _download(client, incident, {**ALL_REDACTIONS, "include_files": "on"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    text = _pdf_text(archive.read(pdfs[0]))
    for name in ["Sam", "Taylor", "Helen", "Hart", "Tilly", "Mason", "Gary Green"]:
        assert name not in text, name
        assert name.lower() not in " ".join(archive.namelist()).lower()
    assert "[the reporter]" in text and "[redacted]" in text and "[third party 1]" in text
    assert ZOE in text  # the subject: the file is about her
    # What was chosen is recorded on the case, without the names.
    entry = TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.CASE_FILE).last()
    assert entry.data["redacted"] == ["reporter", "staff"] and entry.data["names_listed"] == 1
    assert PUPIL not in str(entry.data) and PUPIL not in entry.note


def test_the_zip_holds_the_pdf_and_the_files(client, cast, zoe):
    incident = _case(cast, zoe, files=2)
    withdrawn = incident.evidence.last()
    services.evidence_withdraw(item=withdrawn, actor=cast.helen, reason="Wrong screenshot.")
    sign_in(client, cast.helen)
    response = _download(client, incident, {**NO_REDACTION, "include_files": "on"})

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert response["Content-Disposition"].endswith('.zip"')
    assert len(names) == 2
    assert names[0].startswith(f"case-file-{incident.reference}-") and names[0].endswith(".pdf")
    assert names[1] == "evidence/file-1.png"  # the withdrawn file is listed in the PDF, not included
    first = incident.evidence.first()
    assert hashlib.sha256(archive.read("evidence/file-1.png")).hexdigest() == first.sha256
    text = _pdf_text(archive.read(names[0]))
    assert "evidence/file-1.png" in text and "Not included: withdrawn" in text


def test_every_download_is_audited_and_on_the_timeline(client, cast, zoe, caplog):
    incident = _case(cast, zoe)
    sign_in(client, cast.helen)
    assert client.get(reverse("casefile:form", args=[incident.reference])).status_code == 200
    with caplog.at_level(logging.INFO):
        assert _download(client, incident, ALL_REDACTIONS).status_code == 200
        assert _download(client, incident, NO_REDACTION).status_code == 200

    downloads = AuditEvent.objects.filter(action=AuditAction.DOWNLOAD, object_ref=incident.reference)
    assert downloads.count() == 2
    assert {e.object_type for e in downloads} == {"incident"}
    assert all(e.actor_id == cast.helen.pk and e.detail["incident"] == incident.pk for e in downloads)
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_ref=incident.reference, detail__view="casefile:form"
    ).exists()
    entries = TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.CASE_FILE)
    assert entries.count() == 2
    assert all(e.internal and e.actor_id == cast.helen.pk for e in entries)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert incident.reference in logged
    for content in [ZOE, PUPIL, "Sam Taylor", "photo"]:
        assert content not in logged
    # The reporter sees none of it.
    sign_in(client, cast.sam)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert "Case file" not in page


def test_bad_choices_get_a_message_and_change_nothing(client, cast, zoe):
    incident = _case(cast, zoe, files=0)
    sign_in(client, cast.helen)
    for data, message in [
        ({"purpose": "the press"}, "Select a valid choice"),
        ({"purpose": "lado", "redact": ["everyone"]}, "Select a valid choice"),
        ({"purpose": "lado", "include_files": "on"}, "no evidence files to include"),
        ({"purpose": "lado", "also_redact": "x"}, "at least two letters"),
        ({"purpose": "lado", "also_redact": "y" * 2001}, "at most 2000"),
    ]:
        response = _download(client, incident, data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
    assert not TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.CASE_FILE).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.DOWNLOAD).exists()


# --- Who may download it ---------------------------------------------------------------------------


def _codes(client, user, incident):
    sign_in(client, user)
    get = client.get(reverse("casefile:form", args=[incident.reference])).status_code
    post = _download(client, incident, NO_REDACTION).status_code
    return get, post


def test_owners_and_the_schools_dpo_may_download(client, cast, zoe):
    incident = _case(cast, zoe, to=Status.GOVERNOR_REVIEW)
    assert _codes(client, cast.helen, incident) == (200, 200)
    assert _codes(client, cast.priya, incident) == (200, 200)  # the DPO of the school


def test_the_dsl_owns_a_safeguarding_case_and_may_download(client, cast, zoe):
    incident = report(cast.oakfield, cast.sam, category=Category.SAFEGUARDING, description="A worry.")
    assert _codes(client, cast.dina, incident) == (200, 200)


@pytest.mark.parametrize("who", ["sam", "gary", "olive", "bethan", "tom"])
def test_anyone_else_gets_404(client, cast, zoe, who):
    """The reporter, a governor reviewing it, another school's head and staff, the trust admin."""
    incident = _case(cast, zoe, to=Status.GOVERNOR_REVIEW)
    sign_in(client, cast.gary)
    assert client.get(reverse("incidents:detail", args=[incident.reference])).status_code == 200  # sees the review
    assert _codes(client, getattr(cast, who), incident) == (404, 404)
    assert not TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.CASE_FILE).exists()
    assert AuditEvent.objects.filter(action=AuditAction.REFUSED, detail__view="casefile:form").exists()


def test_the_subject_never_even_as_head_or_dpo(client, cast, zoe):
    incident = _case(cast, zoe, to=Status.GOVERNOR_REVIEW)
    assert _codes(client, zoe, incident) == (404, 404)
    # The subject holds the head and DPO roles too: still nothing.
    person_roles = [Role.HEAD, Role.DPO]
    for role in person_roles:
        zoe.memberships.create(school=cast.oakfield, role=role)
    assert _codes(client, zoe, incident) == (404, 404)


def test_a_dpo_who_is_the_subject_gets_404(client, cast):
    cast.priya.memberships.create(school=cast.oakfield, role=Role.STAFF)
    about_priya = report(
        cast.oakfield, cast.sam, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.priya
    )
    assert _codes(client, cast.priya, about_priya) == (404, 404)
    assert _codes(client, cast.helen, about_priya) == (200, 200)


def test_anonymous_visitors_are_sent_to_sign_in(client, cast, zoe):
    incident = _case(cast, zoe, to=Status.TRIAGE)
    response = client.get(reverse("casefile:form", args=[incident.reference]))
    assert response.status_code == 302 and "login" in response["Location"]


# --- The "Case files" page -----------------------------------------------------------------------------


def test_the_case_files_page_finds_a_case_by_reference(client, cast, zoe):
    incident = _case(cast, zoe, to=Status.TRIAGE)
    hidden = report(cast.brookside, cast.bethan)
    url = reverse("casefile:find")
    sign_in(client, cast.priya)
    assert client.get(url).status_code == 200
    found = client.get(url, {"reference": incident.reference.lower()})
    assert found.status_code == 302 and found["Location"] == reverse("casefile:form", args=[incident.reference])
    for typed in [hidden.reference, "OAK-0000-0000", "nonsense!"]:
        response = client.get(url, {"reference": typed})
        assert response.status_code == 400
        assert "There is a problem" in response.content.decode()
    # A case that exists but is not theirs reads exactly as one that does not exist.
    hidden_page = client.get(url, {"reference": hidden.reference}).content.decode()
    assert "There is no case with that reference that you can make a case file for." in hidden_page
    assert hidden.reference not in hidden_page.replace(f'value="{hidden.reference}"', "")
    sign_in(client, cast.sam)
    assert client.get(url).status_code == 403  # not a page for staff


def test_the_owners_case_page_links_to_the_case_file(client, cast, zoe):
    incident = _case(cast, zoe, to=Status.TRIAGE)
    sign_in(client, cast.helen)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert reverse("casefile:form", args=[incident.reference]) in page


# --- Queries do not grow with the case ----------------------------------------------------------------


def _case_work(cast, incident, n):
    """n tasks, messages with the reporter and take-down requests on the case."""
    from incidents import assignments, reporter_channel, takedowns
    from incidents.clocks import school_calendar

    # A working day about a year ahead (a year to the day falls on a weekend one day in seven).
    calendar, due = school_calendar(incident.school), date.today() + timedelta(days=365)
    while calendar.non_working_reason(due):
        due += timedelta(days=1)
    for k in range(n):
        assignments.task_assign(
            incident=fresh(incident), actor=cast.helen, assignee=cast.dina, title=f"Task {k}", due_on=due
        )
        reporter_channel.message_reporter(incident=fresh(incident), actor=cast.helen, body=f"Message {k}")
        takedowns.takedown_request(
            incident=fresh(incident),
            actor=cast.helen,
            platform="facebook",
            url=f"https://www.facebook.com/posts/{k}",
            requested_on=date.today(),
        )


def test_tasks_messages_and_takedowns_are_in_the_file_with_their_people_redacted(client, cast, zoe):
    incident = _case(cast, zoe, to=Status.INVESTIGATING)
    _case_work(cast, incident, 1)
    sign_in(client, cast.helen)
    text = _pdf_text(_download(client, incident, NO_REDACTION).content)
    for expected in ["Tasks", "Task 0", "Dina Shah", "Messages with the reporter", "Message 0"]:
        assert expected in text
    assert "Take-down requests" in text and "facebook.com/posts/0" in text
    redacted = _pdf_text(_download(client, incident, ALL_REDACTIONS).content)
    assert "Task 0" in redacted and "Dina Shah" not in redacted


@pytest.mark.parametrize("notes,files,work", [(1, 1, 1), (25, 6, 5)])
def test_queries_do_not_grow_with_the_timeline_or_the_evidence(
    client, cast, zoe, notes, files, work, django_assert_max_num_queries
):
    incident = _case(cast, zoe, files=files, to=Status.INVESTIGATING)
    for n in range(notes):
        services.incident_add_note(incident=fresh(incident), actor=cast.helen, note=f"Note {n} about Sam Taylor.")
    _case_work(cast, incident, work)
    sign_in(client, cast.helen)
    client.get(reverse("home"))  # the session's first request does its one-off work
    with django_assert_max_num_queries(QUERIES):
        response = _download(client, incident, {**ALL_REDACTIONS, "include_files": "on"})
    assert response.status_code == 200


# Measured: 31 on SQLite at both sizes (whose audit rows are written by the app, not triggers),
# with tasks, messages and take-downs each one prefetch. An N+1 on the timeline, the files or the
# case work would add 25 or more at the larger size.
QUERIES = 32


def test_the_service_checks_the_person_again(cast, zoe):
    """No other path makes a case file: the service refuses someone outside the rule and records nothing."""
    from dataprotection import casefile
    from incidents.models import Incident

    incident = _case(cast, zoe, to=Status.TRIAGE)
    for outsider in [cast.sam, zoe, cast.olive, cast.gary]:
        with pytest.raises(Incident.DoesNotExist):
            casefile.case_file_download(incident=incident, actor=outsider, choices=casefile.Choices())
    assert not TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.CASE_FILE).exists()
    built = casefile.case_file_download(incident=incident, actor=cast.priya, choices=casefile.Choices())
    assert built.content.startswith(b"%PDF")
