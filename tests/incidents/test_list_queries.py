"""List pages keep the same number of queries at 10 and at 500 incidents."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.models import Category, GovernorReview, Incident, Involved, Outcome, ReviewDecision, Status
from tests.incidents.factories import IncidentFactory, fast_passwords, policy_for, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)


def _make(cast, n, clause):
    """n cases of each kind the pages list: open ones reported by Sam, some about Sam (never shown
    to him), ones in review, upheld ones, all citing `clause`."""
    made = IncidentFactory.create_batch(n, school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    made += IncidentFactory.create_batch(
        n // 5 or 1,
        school=cast.oakfield,
        reporter=cast.dina,
        involved=Involved.STAFF,
        subject=cast.sam,
        category=Category.STAFF_CONDUCT,
    )
    review = IncidentFactory.create_batch(
        n // 5 or 1,
        school=cast.oakfield,
        reporter=cast.sam,
        status=Status.GOVERNOR_REVIEW,
        outcome=Outcome.PARENT_ASKED,
    )
    upheld = IncidentFactory.create_batch(
        n // 5 or 1, school=cast.oakfield, reporter=cast.sam, status=Status.CLOSED, outcome=Outcome.PARENT_ASKED
    )
    GovernorReview.objects.bulk_create(
        GovernorReview(incident=i, decision=ReviewDecision.UPHOLD, decided_by=cast.gary) for i in upheld
    )
    # Reports of Sam's merged into other cases (one still handled, one closed): "My reports" shows
    # each with its survivor's progress, which must not cost a query per row.
    survivors = [
        IncidentFactory(school=cast.oakfield, reporter=cast.dina, owner=cast.helen),
        IncidentFactory(school=cast.oakfield, reporter=cast.dina, owner=cast.helen, status=Status.CLOSED),
    ]
    for i in range(n // 5 or 2):
        IncidentFactory(
            school=cast.oakfield,
            reporter=cast.sam,
            owner=cast.helen,
            status=Status.MERGED,
            merged_into=survivors[i % 2],
        )
    for incident in made + review + upheld:
        incident.clauses.add(clause)
    return made


PAGES = [
    ("sam", "incidents:mine", None),
    ("helen", "incidents:queue", None),
    ("helen", "incidents:queue", "?status=submitted&category=parent_post"),
    ("gary", "incidents:reviews", None),
    ("gary", "incidents:termly_report", None),
    ("helen", "home", None),
    ("sam", "home", None),
    ("helen", "policy:clause", None),
    ("sam", "policy:clause", None),
    ("helen", "policy:page", None),
]


def _count(client, person, url):
    sign_in(client, person)
    client.get(url)  # warm per-process caches (content types, sessions) out of the count
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), response


@pytest.mark.parametrize(("who", "name", "query"), PAGES)
def test_list_page_query_count_does_not_grow(client, cast, who, name, query):
    version = policy_for(cast.oakfield, effective=timezone.localdate().replace(year=2020))
    clause = version.clauses.first()
    url = reverse(name, args=[clause.pk]) if name == "policy:clause" else reverse(name)
    url += query or ""
    person = getattr(cast, who)
    _make(cast, 10, clause)
    small, _ = _count(client, person, url)
    _make(cast, 490, clause)
    assert Incident.objects.count() > 500
    large, response = _count(client, person, url)
    assert large == small, f"{url}: {small} queries at 10, {large} at 500"
