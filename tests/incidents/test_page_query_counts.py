"""The pages the list test (test_list_queries.py) does not cover keep a fixed number of queries too:
the case page and the sign-in page, at 10 and at 500 cases in the school ([12] Performance)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.models import Incident
from tests.incidents.factories import IncidentFactory, fast_passwords, sign_in

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
