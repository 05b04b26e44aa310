"""Every state-changing view: success, anonymous redirect, wrong method, wrong role (403), other
school (404), wrong starting state (clear message, nothing changed) and a stale copy losing."""

from dataclasses import dataclass, field

import pytest
from django.contrib.messages import ERROR, get_messages
from django.test import Client
from django.urls import reverse

from incidents import services
from incidents.models import Evidence, Incident, Outcome, Route, Severity, Status, TimelineEntry
from tests.incidents.factories import advance, fast_passwords, fresh, policy_for, report, sign_in, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)


@dataclass
class Case:
    view: str
    start: str  # the state the case is put in first
    actor: str  # who succeeds
    data: dict = field(default_factory=dict)
    to: str | None = None  # the status afterwards (None: unchanged)
    wrong_role: str = "sam"  # can see the case but may not do this
    wrong_state: str | None = Status.CLOSED
    outcome: str | None = None
    triaged: bool = False  # record the triage first (start_investigation needs it)


CASES = [
    Case("acknowledge", Status.SUBMITTED, "helen", to=Status.TRIAGE, wrong_state=Status.INVESTIGATING),
    Case(
        "triage",
        Status.TRIAGE,
        "helen",
        {"triage-severity": Severity.HIGH, "triage-route": Route.BREACH},
        wrong_state=Status.SUBMITTED,
    ),
    Case(
        "start_investigation",
        Status.TRIAGE,
        "helen",
        to=Status.INVESTIGATING,
        wrong_state=Status.SUBMITTED,
        triaged=True,
    ),
    Case(
        "propose_outcome",
        Status.INVESTIGATING,
        "helen",
        {"propose_outcome-outcome": Outcome.PARENT_ASKED, "propose_outcome-reason": "Asked to remove it."},
        to=Status.OUTCOME_PROPOSED,
        wrong_state=Status.TRIAGE,
    ),
    Case(
        "close", Status.OUTCOME_PROPOSED, "helen", to=Status.CLOSED, wrong_state=Status.INVESTIGATING, outcome="advice"
    ),
    Case(
        "refer_to_governors",
        Status.OUTCOME_PROPOSED,
        "helen",
        {"refer_to_governors-summary": "A parent posted other children's photos."},
        to=Status.GOVERNOR_REVIEW,
        wrong_state=Status.INVESTIGATING,
    ),
    Case(
        "decide",
        Status.GOVERNOR_REVIEW,
        "gary",
        {"uphold-decision": "uphold"},
        to=Status.CLOSED,
        wrong_role="helen",
        wrong_state=Status.CLOSED,  # upheld already: governors still see it
    ),
    Case(
        "reopen",
        Status.CLOSED,
        "helen",
        {"reopen-reason": "New posts appeared."},
        to=Status.INVESTIGATING,
        wrong_state=Status.INVESTIGATING,
        outcome="advice",
    ),
    Case("add_note", Status.TRIAGE, "helen", {"add_note-note": "Called the parent."}, wrong_state=None),
    Case(
        "record_referral",
        Status.INVESTIGATING,
        "helen",
        {"record_referral-kind": "police", "record_referral-made_on": "2026-01-05", "record_referral-reference": "P1"},
    ),
]
IDS = [c.view for c in CASES]


def _case_at(cast, status, outcome=None, triaged=False):
    policy_for(cast.oakfield)
    incident = advance(report(cast.oakfield, cast.sam), status, cast, outcome=outcome)
    if triaged:
        services.incident_triage(incident=incident, actor=cast.helen, severity=Severity.LOW, route=Route.BREACH)
    return fresh(incident)


def _post(client, person, view, incident, data):
    sign_in(client, person)
    return client.post(reverse(f"incidents:{view}", args=[incident.reference]), data)


def _snapshot(incident):
    incident = fresh(incident)
    return (incident.status, incident.updated_at, TimelineEntry.objects.filter(incident=incident).count())


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_success(client, cast, case):
    incident = _case_at(cast, case.start, case.outcome, case.triaged)
    before = TimelineEntry.objects.filter(incident=incident).count()
    response = _post(client, getattr(cast, case.actor), case.view, incident, case.data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("incidents:detail", args=[incident.reference])
    assert fresh(incident).status == (case.to or case.start)
    assert TimelineEntry.objects.filter(incident=incident).count() > before
    assert not [m for m in get_messages(response.wsgi_request) if m.level >= ERROR]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_anonymous_is_sent_to_sign_in(client, cast, case):
    incident = _case_at(cast, case.start, case.outcome, case.triaged)
    response = client.post(reverse(f"incidents:{case.view}", args=[incident.reference]), case.data)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert fresh(incident).status == case.start


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_wrong_method_is_405(client, cast, case):
    incident = _case_at(cast, case.start, case.outcome, case.triaged)
    sign_in(client, getattr(cast, case.actor))
    assert client.get(reverse(f"incidents:{case.view}", args=[incident.reference])).status_code == 405
    assert client.put(reverse(f"incidents:{case.view}", args=[incident.reference])).status_code == 405


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_wrong_role_is_403_and_changes_nothing(client, cast, case):
    incident = _case_at(cast, case.start, case.outcome, case.triaged)
    before = _snapshot(incident)
    response = _post(client, getattr(cast, case.wrong_role), case.view, incident, case.data)
    assert response.status_code == 403
    assert _snapshot(incident) == before


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_other_school_is_404(client, cast, case):
    incident = _case_at(cast, case.start, case.outcome, case.triaged)
    before = _snapshot(incident)
    assert _post(client, cast.olive, case.view, incident, case.data).status_code == 404
    assert _snapshot(incident) == before


@pytest.mark.parametrize("case", [c for c in CASES if c.wrong_state], ids=[c.view for c in CASES if c.wrong_state])
def test_wrong_state_says_so_and_changes_nothing(client, cast, case):
    outcome = case.outcome
    if case.wrong_state == Status.CLOSED and case.view not in ("reopen", "decide"):
        outcome = outcome or "advice"
    incident = _case_at(cast, case.wrong_state, outcome)
    before = _snapshot(incident)
    response = _post(client, getattr(cast, case.actor), case.view, incident, case.data)
    assert response.status_code == 302
    notes = _messages(response)
    assert any(incident.reference in m or "no longer" in m for m in notes), notes
    assert _snapshot(incident) == before


@pytest.mark.parametrize("case", [c for c in CASES if c.to], ids=[c.view for c in CASES if c.to])
def test_of_two_sessions_submitting_the_same_change_one_wins(cast, case):
    incident = _case_at(cast, case.start, case.outcome, case.triaged)
    first, second = Client(), Client()
    actor = getattr(cast, case.actor)
    for c in (first, second):  # both have the page open
        sign_in(c, actor)
        assert c.get(reverse("incidents:detail", args=[incident.reference])).status_code == 200
    assert _post(first, actor, case.view, incident, case.data).status_code == 302
    after_first = _snapshot(incident)
    response = _post(second, actor, case.view, incident, case.data)
    assert response.status_code == 302
    assert any(incident.reference in m for m in _messages(response))
    assert _snapshot(incident) == after_first


def test_invalid_form_keeps_what_was_typed(client, cast):
    incident = _case_at(cast, Status.INVESTIGATING)
    response = _post(
        client, cast.helen, "propose_outcome", incident, {"propose_outcome-reason": "My long careful reasoning"}
    )
    assert response.status_code == 400
    assert "My long careful reasoning" in response.content.decode()
    assert fresh(incident).status == Status.INVESTIGATING


def test_refer_back_needs_a_comment_and_returns_the_case(client, cast):
    incident = _case_at(cast, Status.GOVERNOR_REVIEW)
    response = _post(client, cast.carol, "decide", incident, {"uphold-decision": "refer_back"})
    assert response.status_code == 400
    assert fresh(incident).status == Status.GOVERNOR_REVIEW
    response = _post(
        client, cast.carol, "decide", incident, {"uphold-decision": "refer_back", "uphold-comment": "Ask the parent."}
    )
    assert response.status_code == 302
    incident = fresh(incident)
    assert incident.status == Status.INVESTIGATING
    review = incident.governor_reviews.get()
    assert (review.decided_by, review.comment) == (cast.carol, "Ask the parent.")


# Evidence: add (reporter) and withdraw (owner).


def test_reporter_adds_evidence_while_the_case_is_open(client, cast):
    incident = _case_at(cast, Status.TRIAGE)
    response = sign_in(client, cast.sam) or client.post(
        reverse("incidents:add_evidence", args=[incident.reference]), {"add_evidence-files": [upload()]}
    )
    assert response.status_code == 302
    assert incident.evidence.count() == 1


def test_evidence_add_wrong_role_state_school(client, cast):
    review = _case_at(cast, Status.GOVERNOR_REVIEW)
    url = reverse("incidents:add_evidence", args=[review.reference])
    sign_in(client, cast.gary)  # sees the review, may not add evidence
    assert client.post(url, {"add_evidence-files": [upload()]}).status_code == 403
    sign_in(client, cast.olive)
    assert client.post(url, {"add_evidence-files": [upload()]}).status_code == 404
    closed = _case_at(cast, Status.CLOSED, "advice")
    sign_in(client, cast.sam)
    response = client.post(
        reverse("incidents:add_evidence", args=[closed.reference]), {"add_evidence-files": [upload()]}
    )
    assert response.status_code == 302 and closed.evidence.count() == 0
    assert any("Closed" in m for m in _messages(response))
    assert client.get(url).status_code == 405


def test_withdraw_evidence(client, cast):
    incident = report(cast.oakfield, cast.sam, files=[upload()])
    item = Evidence.objects.get(incident=incident)
    url = reverse("incidents:evidence_withdraw", args=[item.public_id])
    assert client.post(url, {"withdraw-reason": "x"}).status_code == 302  # anonymous → sign in
    sign_in(client, cast.sam)
    assert client.post(url, {"withdraw-reason": "Wrong file"}).status_code == 403
    sign_in(client, cast.olive)
    assert client.post(url, {"withdraw-reason": "Wrong file"}).status_code == 404
    sign_in(client, cast.helen)
    assert client.get(url).status_code == 405
    assert client.post(url, {"withdraw-reason": "Wrong file"}).status_code == 302
    item.refresh_from_db()
    assert item.withdrawn_by == cast.helen and item.withdrawn_reason == "Wrong file"
    response = client.post(url, {"withdraw-reason": "Again"})
    assert any("already been withdrawn" in m for m in _messages(response))
    item.refresh_from_db()
    assert item.withdrawn_reason == "Wrong file"
    assert Evidence.objects.filter(pk=item.pk).exists()  # never deleted


def test_buttons_shown_are_the_transitions_the_server_allows(client, cast):
    incident = _case_at(cast, Status.SUBMITTED)
    sign_in(client, cast.helen)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert reverse("incidents:acknowledge", args=[incident.reference]) in page
    assert reverse("incidents:start_investigation", args=[incident.reference]) not in page
    sign_in(client, cast.sam)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert reverse("incidents:acknowledge", args=[incident.reference]) not in page
    assert reverse("incidents:add_evidence", args=[incident.reference]) in page


def test_case_about_the_head_is_worked_by_the_chair(client, cast):
    from incidents.models import Category, Involved

    incident = report(
        cast.oakfield, cast.sam, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.helen
    )
    assert _post(client, cast.helen, "acknowledge", incident, {}).status_code == 404
    assert _post(client, cast.carol, "acknowledge", incident, {}).status_code == 302
    assert fresh(incident).acknowledged_by == cast.carol


def test_reporter_never_sees_internal_notes(client, cast):
    incident = _case_at(cast, Status.TRIAGE)
    _post(client, cast.helen, "add_note", incident, {"add_note-note": "Secret internal note"})
    sign_in(client, cast.sam)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert "Secret internal note" not in page
    assert "Acknowledged" in page or "In triage" in page
    assert Incident.objects.get(pk=incident.pk).status == Status.TRIAGE
