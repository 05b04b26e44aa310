"""What every request costs besides its page ([12] Performance): the session is saved at most once
a minute (the idle timeout kept), a plain GET writes nothing but its audit row, and the person's
memberships are fetched once per request however many rules read them, and the views read the person
itself, not through lazy wrappers."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident
from policyhub.postgresql.base import as_written
from tests.auth import verified_login
from tests.incidents.factories import IncidentFactory, fast_passwords, policy_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

AUDIT_TABLES = ("accounts_auditevent", "accounts_auditseal")


def writes(queries) -> list[str]:
    # Without the audit actor's settings sent in front of each write on PostgreSQL.
    statements = [as_written(q["sql"]) for q in queries.captured_queries]
    return [sql for sql in statements if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def expiry(client):
    return Session.objects.get(session_key=client.cookies["sessionid"].value).expire_date


def test_the_session_is_saved_at_most_once_a_minute_and_the_idle_limit_still_holds(client, cast, settings):
    assert settings.SESSION_TOUCH_SECONDS == 60
    with time_machine.travel(timezone.now(), tick=False) as clock:
        verified_login(client, cast.helen)
        client.get(reverse("home"))  # the first page after sign-in stamps the touch
        first = expiry(client)
        for _ in range(5):
            clock.shift(timedelta(seconds=10))
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse("incidents:queue")).status_code == 200
            assert not [sql for sql in writes(queries) if "django_session" in sql], "session saved within the minute"
        assert expiry(client) == first
        clock.shift(timedelta(seconds=11))  # 61 s since the last save
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("incidents:queue"))
        assert [sql for sql in writes(queries) if "django_session" in sql]
        assert expiry(client) > first
        # Idle: 7 h 59 later still signed in (the touch a minute ago pushed the expiry on) ...
        clock.shift(timedelta(hours=7, minutes=59))
        assert client.get(reverse("home")).status_code == 200
        # ... and 8 h 01 after that last click, signed out.
        clock.shift(timedelta(hours=8, minutes=1))
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("who", "name"),
    [
        ("helen", "home"),
        ("helen", "incidents:queue"),
        ("sam", "incidents:mine"),
        ("gary", "incidents:reviews"),
        ("gary", "incidents:termly_report"),
        ("sam", "policy:page"),
        ("helen", "incidents:detail"),
    ],
)
def test_a_plain_get_writes_nothing_but_its_audit_row(client, cast, who, name):
    policy_for(cast.oakfield, effective=timezone.localdate().replace(year=2020))
    incident = IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    url = reverse(name, args=[incident.reference]) if name == "incidents:detail" else reverse(name)
    verified_login(client, getattr(cast, who))
    client.get(url)  # the first page after sign-in may stamp the session
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    stray = [sql for sql in writes(queries) if not any(table in sql for table in AUDIT_TABLES)]
    assert stray == []


def test_memberships_are_fetched_once_per_request(client, cast):
    for _ in range(3):
        IncidentFactory(school=cast.oakfield, reporter=cast.helen, owner=cast.helen)
    assert Incident.objects.exists()
    verified_login(client, cast.helen)  # head and staff: every card of the home page, and the queue
    for url in (reverse("home"), reverse("incidents:queue"), reverse("incidents:mine")):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        # One fetch, with the person (accounts/backends.py); the visibility rules reuse it
        # (subqueries about a case's subject are not fetches).
        fetches = [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].startswith('SELECT "accounts_membership".')
            or (q["sql"].startswith('SELECT "accounts_user".') and 'JOIN "accounts_membership"' in q["sql"])
        ]
        assert len(fetches) == 1, (url, fetches)
        assert not any(q["sql"].startswith('SELECT "accounts_membership".') for q in queries.captured_queries)


def test_the_views_get_the_person_and_their_verified_device_not_a_lazy_wrapper(client, cast):
    """accounts/middleware.resolved: below CurrentSchoolMiddleware `request.user` is the person
    looked up, with django-otp's verified device on them; an anonymous request gets AnonymousUser."""
    from django.contrib.auth.models import AnonymousUser
    from django.test.signals import template_rendered

    from accounts.models import User

    seen = []

    def keep(sender, template, context, **kwargs):
        if "request" in context:
            seen.append(context["request"].user)

    template_rendered.connect(keep, dispatch_uid="plumbing-user")
    try:
        client.get(reverse("login"))
        anonymous = list(seen)
        verified_login(client, cast.helen)
        seen.clear()
        client.get(reverse("home"))
    finally:
        template_rendered.disconnect(dispatch_uid="plumbing-user")
    assert anonymous and all(type(user) is AnonymousUser for user in anonymous)
    assert seen and all(type(user) is User and user.pk == cast.helen.pk for user in seen)
    assert seen[0].is_verified() and seen[0].otp_device is not None
