"""Every report page is a fixed number of queries whatever the number of cases ([9] item 6): the
same count at two sizes, with cases in this term and the last, answered, overdue, reviewed,
referred and taken down."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from incidents.models import (
    Category,
    GovernorReview,
    Incident,
    Referral,
    ReferralKind,
    ReviewDecision,
    Route,
    TakedownRequest,
)
from tests.factories import member
from tests.incidents.factories import IncidentFactory, fast_passwords, policy_for, sign_in

from .fixtures import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)


def _make(cast, n):
    """n cases at each school, spread over spring 2026 and autumn 2025, a third never answered."""
    for school, reporter in ((cast.oakfield, cast.sam), (cast.brookside, cast.bethan)):
        made = IncidentFactory.create_batch(n, school=school, reporter=reporter, category=Category.PARENT_POST)
        for i, incident in enumerate(made):
            received = NOW - timedelta(days=8 + (i * 37) % 200, hours=i % 24)
            Incident.objects.filter(pk=incident.pk).update(
                received_at=received,
                response_due_at=received + timedelta(hours=24),
                acknowledged_at=received + timedelta(hours=i % 30) if i % 3 else None,
                overdue_at=None if i % 3 else received + timedelta(hours=24),
                route=[Route.BREACH, Route.LOW_LEVEL, Route.ALLEGATION, ""][i % 4],
            )
        GovernorReview.objects.bulk_create(
            GovernorReview(incident=i, decision=ReviewDecision.UPHOLD, decided_by=cast.gary) for i in made[::5]
        )
        Referral.objects.bulk_create(
            Referral(incident=i, kind=ReferralKind.LADO, made_on=NOW.date(), recorded_by=cast.helen) for i in made[::7]
        )
        TakedownRequest.objects.bulk_create(
            TakedownRequest(
                incident=i, platform="facebook", url="https://example.org/x", requested_on=NOW.date(),
                requested_by=cast.helen,
            )
            for i in made[::9]
        )  # fmt: skip


# Spring 2026 and, beside it, autumn 2025: both have cases at either size. The queries of each page
# (the same on SQLite and PostgreSQL: the audit actor's settings go with the statements that write,
# accounts/actor.py), worked out afresh and then from the cache (reporting/figures_cache.py); the
# session, the person, their memberships and the second factor they verified with are one query
# (accounts/backends.py, sessions.py). Afresh, the pack's figures are eight statements for both terms
# together (reporting/figures.terms_figures and per_month; fourteen when each term was counted on its
# own) and the school's stamp one; kept, only the stamp is read: it also keys the school's terms and
# the policy in force, and the governor's upheld list (its count and page afresh, and the cited
# clauses when it has rows: none here, the bulk reviews are decided today, not in spring 2026).
PAGES = [
    ("gary", "incidents:termly_report", "?term=2026-spring", 15, 3),
    ("tom", "incidents:termly_report", "?term=2026-spring", 14, 3),
    ("gary", "reporting:pack_csv", "?term=2026-spring", 14, 3),
    ("gary", "reporting:pack_pdf", "?term=2026-spring", 14, 3),
    ("tom", "reporting:trust", "?term=2026-spring", 7, 7),
    ("tom", "reporting:trust", "", 7, 7),
]


def _count(client, person, url) -> tuple[int, int]:
    """The page's queries worked out afresh, then from the cache."""
    sign_in(client, person)
    counts = []
    with time_machine.travel(NOW, tick=False):
        client.get(url)  # warm per-process caches (content types, sessions) out of the count
        for fresh in (True, False):
            if fresh:
                caches["kept"].clear()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, url
            counts.append(len(queries))
    return counts[0], counts[1]


@pytest.mark.parametrize(("who", "name", "query", "fresh", "kept"), PAGES)
def test_report_page_query_count_does_not_grow(client, cast, who, name, query, fresh, kept):
    member(cast.tom, cast.brookside, Role.TRUST_ADMIN)
    policy_for(cast.oakfield)
    url = reverse(name) + query
    person = getattr(cast, who)
    _make(cast, 10)
    small = _count(client, person, url)
    _make(cast, 290)
    assert Incident.objects.count() == 600
    large = _count(client, person, url)
    assert large == small, f"{url}: {small} queries at 20 cases, {large} at 600"
    assert small == (fresh, kept), small
