"""Each relation to a case gets its own page ([7] item 8): the owner's, the reporter's and the governors'
case pages, each built by its own context function and template. What each shows, and what it must not:
the reporter never sees internal notes, clauses, referrals or other people's files; governors see the
review only. The reporter's page and the confirmation say when a first response is due, once."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from incidents import clocks, services
from incidents.deadlines import format_local
from incidents.models import Involved, Outcome, ReferralKind, Status
from tests.incidents.factories import advance, fast_passwords, fresh, policy_for, report, sign_in, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

NOTE = "Internal: spoke to the parent by phone about the other photos."
REFERRAL = "LA-DATA-4471"
SUMMARY = "Photos of three pupils posted; parent asked to remove them."
REASON = "The parent agreed the photos breach clause 7.2."


def _text(response) -> str:
    """The page as a reader sees it: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _templates(response) -> set[str]:
    return {t.name for t in response.templates}


def _page(client, user, incident):
    sign_in(client, user)
    response = client.get(reverse("incidents:detail", args=[incident.reference]))
    assert response.status_code == 200
    return response


@pytest.fixture
def case_in_review(cast):
    """A case with everything a page might show: a reporter's file and the head's, an internal note,
    a referral, a clause, an outcome with reasons and a summary for the governors."""
    version = policy_for(cast.oakfield)
    clause = version.clauses.get(ref="7.2")
    incident = report(cast.oakfield, cast.sam, files=[upload("from-sam.png")])
    incident = advance(incident, Status.INVESTIGATING, cast, clauses=[clause])
    services.evidence_add(incident=fresh(incident), actor=cast.helen, files=[upload("from-helen.png")])
    services.incident_add_note(incident=fresh(incident), actor=cast.helen, note=NOTE)
    services.referral_record(
        incident=fresh(incident),
        actor=cast.helen,
        kind=ReferralKind.DPO,
        made_on=timezone.localdate(),
        reference=REFERRAL,
    )
    services.incident_propose_outcome(
        incident=fresh(incident), actor=cast.helen, outcome=Outcome.PARENT_ASKED, reason=REASON
    )
    services.incident_refer_to_governors(incident=fresh(incident), actor=cast.helen, summary=SUMMARY)
    return fresh(incident)


def test_the_owner_sees_everything(client, cast, case_in_review):
    response = _page(client, cast.helen, case_in_review)
    text = _text(response)
    assert "incidents/case_owner.html" in _templates(response)
    for shown in (
        "Reported by Sam Taylor",
        case_in_review.description,
        "from-sam.png",
        "from-helen.png",
        "SHA-256",
        NOTE,
        REFERRAL,
        "7.2",
        SUMMARY,
        REASON,
        "Access history",
        "Status changed: Outcome proposed → Governor review",
        "Who may decide this review",
    ):
        assert shown in text, shown
    assert "Add note" in text  # the owner's actions


def test_the_reporter_sees_their_report_and_its_progress_only(client, cast, case_in_review):
    response = _page(client, cast.sam, case_in_review)
    text = _text(response)
    assert "incidents/case_reporter.html" in _templates(response)
    assert {"incidents/case_owner.html", "incidents/case_governor.html"}.isdisjoint(_templates(response))
    for shown in ("What you reported", case_in_review.description, "from-sam.png", "Progress"):
        assert shown in text, shown
    assert "Status changed: Submitted → In triage" in text  # the public steps, with both statuses
    for hidden in (
        NOTE,  # internal notes
        REFERRAL,  # referrals
        "Referrals",
        "7.2",  # clauses
        "Clauses breached",
        SUMMARY,  # what the governors are told
        REASON,
        "from-helen.png",  # files the reporter did not upload
        "SHA-256",
        "Access history",
        "Helen Hart",  # who acted on the case
        "Gary Green",
        "Who may decide this review",
        "Add note",
    ):
        assert hidden not in text, hidden


def test_the_governor_sees_the_review_only(client, cast, case_in_review):
    response = _page(client, cast.gary, case_in_review)
    text = _text(response)
    assert "incidents/case_governor.html" in _templates(response)
    for shown in (SUMMARY, REASON, "7.2", "Who may decide this review", "Governors' decision", "Record decision"):
        assert shown in text, shown
    for hidden in (
        case_in_review.description,  # the report itself
        "Sam Taylor",  # who reported it
        "from-sam.png",
        "from-helen.png",
        NOTE,
        REFERRAL,
        "Status changed",  # no timeline
        "Access history",
        "Add note",
    ):
        assert hidden not in text, hidden


def test_a_head_who_is_also_a_governor_gets_the_owner_page(client, cast, case_in_review):
    Membership.objects.create(user=cast.helen, school=cast.oakfield, role=Role.GOVERNOR)
    response = _page(client, cast.helen, case_in_review)
    assert "incidents/case_owner.html" in _templates(response)
    assert "Record decision" not in _text(response)  # she owned the case: she does not decide its review


def test_a_reporter_who_is_also_a_governor_sees_the_review_and_cannot_decide_it(client, cast):
    policy_for(cast.oakfield)
    Membership.objects.create(user=cast.gary, school=cast.oakfield, role=Role.STAFF)
    incident = report(cast.oakfield, cast.gary)
    incident = advance(incident, Status.GOVERNOR_REVIEW, cast)
    response = _page(client, cast.gary, incident)
    text = _text(response)
    assert "incidents/case_governor.html" in _templates(response)
    assert "You may not decide it: you reported it." in text
    assert "Record decision" not in text


def test_the_subject_gets_no_page_at_all_whatever_their_roles(client, cast):
    policy_for(cast.oakfield)
    Membership.objects.create(user=cast.dina, school=cast.oakfield, role=Role.GOVERNOR)
    incident = report(cast.oakfield, cast.sam, involved=Involved.STAFF, subject=cast.dina)
    incident = advance(incident, Status.GOVERNOR_REVIEW, cast)
    sign_in(client, cast.dina)
    assert client.get(reverse("incidents:detail", args=[incident.reference])).status_code == 404


# --- When a response is due -----------------------------------------------------------------------


def test_the_reporter_page_says_when_a_first_response_is_due(client, cast):
    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam)
    due = format_local(incident.response_due_at)
    text = _text(_page(client, cast.sam, incident))
    assert f"A first response is due by {due}" in text
    assert text.count(due) == 1


def test_once_acknowledged_the_reporter_page_says_so_instead(client, cast):
    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam)
    due = format_local(incident.response_due_at)
    services.incident_acknowledge(incident=incident, actor=cast.helen)
    text = _text(_page(client, cast.sam, fresh(incident)))
    assert "Acknowledged" in text
    assert due not in text


def test_the_reporter_page_says_when_the_response_is_overdue_after_the_sweep(client, cast):
    """A minute past the deadline, after the sweep has escalated the case, the reporter is told it is
    late (not shown a due time in the past as if still to come), and not who it was escalated to."""
    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam)
    due = format_local(incident.response_due_at)
    later = incident.response_due_at + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        clocks.deadlines_sweep(now=later)
        assert fresh(incident).escalated_at is not None  # the sweep did escalate it
        text = _text(_page(client, cast.sam, fresh(incident)))
    assert f"A first response was due by {due}" in text
    assert "is due by" not in text
    assert "Carol Chambers" not in text  # nor to whom it went


def test_the_confirmation_says_the_due_time_once(client, cast):
    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam)
    due = format_local(incident.response_due_at)
    sign_in(client, cast.sam)
    text = _text(client.get(reverse("incidents:report_done", args=[incident.reference])))
    assert f"A first response is due by {due}" in text
    assert text.count(due) == 1, text


def test_the_owner_page_posts_each_form_to_its_rows_address(client, cast):
    """The triage form keeps its own partial (the clause filter), the evidence form sends files, and
    every form posts to the address its row of the table names."""
    policy_for(cast.oakfield)
    incident = advance(report(cast.oakfield, cast.sam), Status.TRIAGE, cast)
    page = _page(client, cast.helen, incident).content.decode()
    triage = re.search(r'<form[^>]*action="([^"]+)"[^>]*data-clause-filter', page)
    assert triage and triage.group(1) == reverse("incidents:triage", args=[incident.reference])
    evidence = re.search(r'<form[^>]*action="([^"]+)"[^>]*enctype="multipart/form-data"', page)
    assert evidence and evidence.group(1) == reverse("incidents:add_evidence", args=[incident.reference])
    assert 'name="triage-severity"' in page and 'name="add_note-note"' in page
