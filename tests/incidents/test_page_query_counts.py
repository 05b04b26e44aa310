"""The pages the list test (test_list_queries.py) does not cover keep a fixed number of queries too:
the case page and the sign-in page, at 10 and at 500 cases in the school ([12] Performance)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import reporter_channel
from incidents.models import Incident, Outcome, Status
from tests.incidents.factories import (
    IncidentFactory,
    advance,
    facebook_takedown,
    fast_passwords,
    fresh,
    policy_for,
    report,
    sign_in,
    upload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)


def _count(client, url):
    client.get(url)  # warm per-process caches (content types) out of the count
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_the_case_page_and_the_sign_in_page_do_not_grow_with_the_school(cast):
    case = IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    head, anonymous = Client(), Client()
    sign_in(head, cast.helen)
    pages = [(head, reverse("incidents:detail", args=[case.reference])), (anonymous, reverse("login"))]
    counts = []
    for size in (10, 500):
        IncidentFactory.create_batch(size - Incident.objects.count(), school=cast.oakfield, reporter=cast.sam)
        counts.append([_count(client, url) for client, url in pages])
    assert counts[0] == counts[1], counts
    # No query at all for a new visitor: the provider buttons are kept per process (accounts/sso_buttons.py).
    assert counts[0][1] == 0, "the sign-in page runs no query"


# The case page's queries, at most, on SQLite and PostgreSQL alike (the audit actor's settings go
# with the statements that write, accounts/actor.py; until December 2026 PostgreSQL ran two more).
# Before [12]'s case-page work: 36, 16, 17 and 29 (and one more each for the audit's look-up of the
# case by reference, gone since 62932b7). The head's page asked whether a take-down
# was waiting three times and read the requests once per take-down form (three), read the evidence
# twice, the referrals twice, the task form's people through a server-side cursor; the review
# panel was worked out twice in review; the reporter's timeline fetched the author of each entry
# only to write nothing (`entry.actor and detailed`). The bounds were 28, 11, 13 and 24 until the
# 17th session set them to the counts (a verified person's device no longer a query of its own: one
# fewer for the head and the governor); the 18th, one fewer on each (the session read with the
# person). What is left on the head's page of an open case: the request plumbing (the session with
# the person, their memberships, the policy banner's answers and their authenticator app's id; the
# audit row), the case with its lists' flags, one query per list or section it has, the duplicate
# search (this case cites a link), the triage form's clauses and the forms' choices (on PostgreSQL
# the task form's people come with the case).
CASE_PAGE_QUERIES = {
    "head, open case with a take-down, a file and a message": 15,
    "reporter, the same case": 6,
    "governor, case in review": 9,
    "head, case in review": 8,
}


def test_each_case_page_runs_a_fixed_and_lowered_number_of_queries(cast):
    policy_for(cast.oakfield)
    case = report(cast.oakfield, cast.sam, files=[upload()], links="https://www.facebook.com/groups/x/posts/1")
    case = advance(case, Status.INVESTIGATING, cast)
    facebook_takedown(case, cast.helen)
    reporter_channel.message_reporter(incident=fresh(case), actor=cast.helen, body="Thank you: we are on it.")
    in_review = advance(report(cast.oakfield, cast.sam), Status.GOVERNOR_REVIEW, cast, outcome=Outcome.PARENT_ASKED)
    clients = {}
    for who in (cast.helen, cast.sam, cast.gary):
        clients[who.pk] = Client()
        sign_in(clients[who.pk], who)
    pages = {
        "head, open case with a take-down, a file and a message": (cast.helen, case),
        "reporter, the same case": (cast.sam, case),
        "governor, case in review": (cast.gary, in_review),
        "head, case in review": (cast.helen, in_review),
    }
    counts = []
    for size in (10, 500):
        IncidentFactory.create_batch(size - Incident.objects.count(), school=cast.oakfield, reporter=cast.sam)
        counts.append(
            {
                name: _count(clients[who.pk], reverse("incidents:detail", args=[incident.reference]))
                for name, (who, incident) in pages.items()
            }
        )
    assert counts[0] == counts[1], counts
    for name, most in CASE_PAGE_QUERIES.items():
        assert counts[0][name] <= most, (name, counts[0])
