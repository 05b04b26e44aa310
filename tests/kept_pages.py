"""Helpers of the tests of pages kept between views (tests/incidents/test_*_kept.py,
tests/policyhub/test_breaches_kept.py): a page's main content as a person sees it, a change made at a
database prompt, the kept page against the page worked out afresh, and what a kept view reads."""

import re

from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

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


def kept_then_fresh(fetch, viewers, change) -> bool:
    """Each viewer's page viewed (so kept), then `change()`; after it, for each viewer, the page served
    (kept or not) must equal the page worked out afresh. True when the change moved someone's page."""
    before = {user.pk: fetch(user) for user in viewers}
    change()
    moved = False
    for user in viewers:
        kept = fetch(user)
        caches["kept"].clear()
        fresh = fetch(user)
        assert kept == fresh, user
        moved |= fresh != before[user.pk]
        fetch(user)  # kept again for the next viewer's turn
    return moved


def assert_a_kept_view_reads_only_the_stamp(fetch, *, stamp_reads_cases: bool) -> None:
    """Viewed twice: the second view runs one stamp query and reads no case table besides it (a
    person's stamp reads their reports' schools, `stamp_reads_cases`; a schools' stamp reads none)."""
    fetch()
    with CaptureQueriesContext(connection) as queries:
        fetch()
    statements = [q["sql"] for q in queries.captured_queries]
    stamp = [sql for sql in statements if "reporting_figureschange" in sql]
    assert len(stamp) == 1, statements
    others = statements if not stamp_reads_cases else [sql for sql in statements if sql not in stamp]
    assert not [sql for sql in others if "incidents_incident" in sql], statements
