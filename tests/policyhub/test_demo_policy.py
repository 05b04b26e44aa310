"""The demo policy: original, numbered like a real policy, in force at both demo schools, partly acknowledged."""

import pytest

from accounts.models import School
from policyhub.demo import seed
from policyhub.demo_policy import SECTIONS, demo_structure
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
