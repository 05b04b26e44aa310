"""Wording and order on the chair's/head's home and the governors' termly report ([12] phone and layout)."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from incidents.models import GovernorReview, Outcome, ReviewDecision, Status
from tests.incidents.factories import IncidentFactory, fast_passwords, policy_for, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)


def _home(client):
    return re.sub(r"\s+", " ", client.get(reverse("home")).content.decode())


def test_home_says_how_many_waiting_cases_are_already_overdue(client, cast):
    now = timezone.now()
    IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen, response_due_at=now + timedelta(hours=3))
    late = IncidentFactory.create_batch(
        2, school=cast.oakfield, reporter=cast.sam, owner=cast.helen, response_due_at=now - timedelta(minutes=5)
    )
    sign_in(client, cast.helen)
    html = _home(client)
    assert "3 waiting for a first response; 3 open in all." in html
    assert "2 of them are overdue" in html
    # Once the late ones are acknowledged, nothing is overdue and the warning goes.
    for incident in late:
        incident.status = Status.TRIAGE
        incident.save(update_fields=["status"])
    html = _home(client)
    assert "1 waiting for a first response; 3 open in all." in html and "overdue" not in html


def test_a_case_becomes_overdue_on_the_home_page_the_moment_its_deadline_passes(client, cast):
    due = timezone.now() + timedelta(minutes=1)
    IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen, response_due_at=due)
    sign_in(client, cast.helen)
    assert "overdue" not in _home(client)
    with time_machine.travel(due + timedelta(seconds=1)):  # before any sweep has run
        assert "It is overdue" in _home(client)


def test_termly_report_lists_terms_in_date_order_and_pluralises_clauses(client, cast):
    version = policy_for(cast.oakfield)
    one, two = version.clauses.order_by("order")[:2]
    cases = IncidentFactory.create_batch(
        2, school=cast.oakfield, reporter=cast.sam, status=Status.CLOSED, outcome=Outcome.PARENT_ASKED
    )
    cases[0].clauses.add(one)
    cases[1].clauses.add(one, two)
    for incident in cases:
        GovernorReview.objects.create(incident=incident, decision=ReviewDecision.UPHOLD, decided_by=cast.gary)
    sign_in(client, cast.gary)
    with time_machine.travel(date(2026, 10, 15)):
        html = re.sub(r"\s+", " ", client.get(reverse("incidents:termly_report")).content.decode())
    terms = re.findall(r'<option value="(\d{4})-(\w+)"', html)
    starts = [date(int(y), {"spring": 1, "summer": 4, "autumn": 9}[t], 1) for y, t in terms]
    assert starts == sorted(starts) and len(starts) == 6, terms
    assert f"clause {one.ref};" in html
    assert f"clauses {one.ref}, {two.ref};" in html
