"""List pages run the same number of queries at 10 and at 200 rows (clauses, staff, results)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policyhub import services
from policyhub.models import Policy, PolicyAdoption
from policyhub.views import IMPORT_SESSION_KEY
from tests.factories import Role, UserFactory, member
from tests.policyhub.policy_data import published, sign_in, structure, trust_policy

pytestmark = pytest.mark.django_db


def count(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(queries)


def big(n_clauses: int) -> dict:
    """About n clauses: sections of ten, each with a sub-clause, every clause mentioning pupils."""
    return structure(sections=max(1, n_clauses // 10), per_section=9)


@pytest.mark.parametrize(
    ("name", "params", "who"),
    [
        ("policy:page", {}, "sam"),
        ("policy:search", {"q": "clause"}, "sam"),
        ("policy:diff", {}, "sam"),
        ("policy:manage", {}, "tom"),
    ],
)
def test_policy_pages_do_not_grow_with_the_number_of_clauses(client, cast, name, params, who):
    sign_in(client, getattr(cast, who))
    counts = []
    for size in (10, 200):
        adopt_new_policy(cast, size)  # two published versions of `size` clauses each
        counts.append(count(client, reverse(name), params))
    assert counts[0] == counts[1], counts


def adopt_new_policy(cast, size):
    PolicyAdoption.objects.all().delete()
    policy = Policy.objects.create(trust=cast.trust, title=f"Policy of {size} clauses")
    published(policy, big(size), by=cast.tom)
    version = published(policy, big(size), by=cast.tom, day=dt.date(2026, 1, 1))
    for school in (cast.oakfield, cast.brookside):
        PolicyAdoption.objects.create(school=school, policy=policy)
    return version


def test_version_and_clause_pages_have_a_fixed_query_count(client, cast):
    sign_in(client, cast.sam)
    counts = []
    for size in (10, 200):
        version = adopt_new_policy(cast, size)
        clause = version.clauses.get(ref="1.2")
        counts.append(
            (
                count(client, reverse("policy:version", args=[version.pk])),
                count(client, reverse("policy:clause", args=[clause.pk])),
            )
        )
    assert counts[0] == counts[1], counts


def test_compliance_table_does_not_grow_with_the_number_of_staff(client, cast):
    version = trust_policy(cast)
    sign_in(client, cast.helen)
    counts = []
    for target in (10, 200):
        while (
            version.policy.adoptions.get(school=cast.oakfield).school.memberships.filter(role=Role.STAFF).count()
            < target
        ):
            user = member(UserFactory(), cast.oakfield, Role.STAFF)
            if user.pk % 2:
                services.acknowledgement_record(user=user, version=version)
        counts.append((count(client, reverse("policy:compliance")), count(client, reverse("policy:compliance_csv"))))
    assert counts[0] == counts[1], counts


def test_import_preview_does_not_grow_with_the_document(client, cast):
    sign_in(client, cast.helen)
    counts = []
    for size in (10, 200):
        session = client.session
        session[IMPORT_SESSION_KEY] = {
            "school_id": cast.oakfield.pk,
            "owner": "school",
            "title": "t",
            "source_name": "s.txt",
            "structure": big(size),
        }
        session.save()
        counts.append(count(client, reverse("policy:import_preview")))
    assert counts[0] == counts[1], counts
