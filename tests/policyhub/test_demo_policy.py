"""The demo policy: original, numbered like a real policy, in force at both demo schools, partly acknowledged."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from accounts.models import School
from incidents.services import incident_date
from policyhub import review
from policyhub.demo import seed
from policyhub.demo_policy import SECTIONS, demo_dates, demo_structure
from policyhub.models import Acknowledgement, Clause, Policy, PolicyAdoption, PolicyVersion
from policyhub.services import outstanding_acknowledgements
from policyhub.structure import validate_structure
from policyhub.topics import TOPIC_KEYS

pytestmark = pytest.mark.django_db


def test_demo_policy_is_numbered_like_a_real_policy_and_covers_every_topic():
    data = validate_structure(demo_structure())
    assert [s["number"] for s in data["sections"]] == [str(n) for n in range(1, 11)]
    refs = [c["ref"] for s in data["sections"] for c in s["clauses"]]
    assert "7.4.1" in refs and "1.1" in refs
    parents = {c["ref"]: c["parent"] for s in data["sections"] for c in s["clauses"]}
    assert parents["7.4.1"] == "7.4" and parents["7.4"] is None
    topics = {t for s in data["sections"] for c in s["clauses"] for t in c["topics"]}
    assert topics == set(TOPIC_KEYS), set(TOPIC_KEYS) - topics


def test_demo_policy_has_the_clauses_the_journeys_cite():
    texts = [text for _, _, clauses in SECTIONS for _, text in clauses]
    assert any("Parents and carers are asked not to post images of other people's children" in t for t in texts)
    assert any("within 24 hours" in t and "next working day" in t and "weekend" in t for t in texts)


def test_seed_publishes_adopts_and_partly_acknowledges_and_is_idempotent():
    seed()
    seed()
    policy = Policy.objects.get()
    version = PolicyVersion.objects.get(policy=policy)
    assert version.status == "active" and policy.trust is not None
    assert PolicyAdoption.objects.filter(policy=policy).count() == School.objects.count() == 2
    assert Clause.objects.filter(version=version).count() == sum(len(c) for _, _, c in SECTIONS)
    assert Acknowledgement.objects.filter(version=version).exists()
    outstanding = set(outstanding_acknowledgements(version).values_list("email", flat=True))
    assert {"staff.oakfield@example.org", "staff.brookside@example.org"} <= outstanding
    assert "head.oakfield@example.org" not in outstanding


@pytest.mark.parametrize(
    "today, effective, review",
    [
        (dt.date(2026, 12, 5), dt.date(2025, 9, 1), dt.date(2027, 9, 1)),
        (dt.date(2026, 9, 1), dt.date(2025, 9, 1), dt.date(2027, 9, 1)),  # the review day itself
        (dt.date(2026, 8, 31), dt.date(2024, 9, 1), dt.date(2026, 9, 1)),  # due tomorrow
        (dt.date(2027, 1, 15), dt.date(2025, 9, 1), dt.date(2027, 9, 1)),
        (dt.date(2028, 2, 29), dt.date(2026, 9, 1), dt.date(2028, 9, 1)),
    ],
)
def test_demo_dates_put_recent_cases_under_the_policy_and_its_review_ahead(today, effective, review):
    assert demo_dates(today) == (effective, review)


@pytest.mark.parametrize("day", ["2026-09-01 00:30", "2026-12-05 09:00", "2027-08-31 23:30", "2031-03-15 12:00"])
def test_a_demo_seeded_any_day_has_its_review_ahead_and_its_cases_under_the_policy(day, settings):
    """The demo used to carry a fixed review date: seeded after it, it opened with "Review overdue"
    and sent a policy_review_overdue email on every start."""
    from incidents.models import Incident

    with time_machine.travel(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC), tick=False):
        seed()
        version = PolicyVersion.objects.get()
        today = timezone.localdate()
        assert version.effective_date <= today - dt.timedelta(days=365) and version.next_review_date > today
        assert not review.state(version, today).overdue
        for incident in Incident.objects.all():
            assert PolicyVersion.objects.in_force_on(incident.school, incident_date(incident)) == version
