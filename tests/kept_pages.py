"""Helpers of the tests of pages kept between views (tests/incidents/test_*_kept.py,
tests/policyhub/test_breaches_kept.py): a page's main content as a person sees it, and a change made
at a database prompt."""

import re

from django.db import connection

from tests.incidents.factories import sign_in


def main_of(client, person, url) -> str:
    """The <main> of `url` as `person` sees it, without its CSRF tokens (new on every view)."""
    sign_in(client, person)
    response = client.get(url)
    assert response.status_code == 200
    found = re.search(r"<main.*</main>", response.content.decode(), re.S)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", found.group(0))


def raw(sql, params):
    """A change written in raw SQL, as a database prompt makes it (no model method, no signal)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
