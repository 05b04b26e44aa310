"""A session this web process knows the person of comes in one query with that person and their
memberships (accounts/sessions.py, backends.read_with_session), and the person is the one the session,
as read, names: never the one remembered, if they differ."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import sessions
from accounts.backends import PersonBackend
from accounts.sessions import SessionStore
from tests.auth import verified_login

pytestmark = pytest.mark.django_db


def _signed_in(user) -> str:
    """A session naming `user`, saved by this process's store (as sign-in saves it)."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store["backend"] = "mine"
    store.save(must_create=True)
    return store.session_key


def _person(user) -> tuple:
    """What get_user gives of `user`: their columns, memberships and what comes with them."""
    return (
        {f.attname: getattr(user, f.attname) for f in user._meta.concrete_fields},
        [(m.pk, m.school_id, m.role, m.school.name) for m in user.memberships_fetched],
        user.per_school_fetched,
        user.authenticator_id_fetched,
    )


def test_a_known_session_and_its_person_are_one_query_and_what_two_would_give(cast):
    for user in (cast.helen, cast.sam, cast.olive):
        key = _signed_in(user)
        store = SessionStore(session_key=key)
        with CaptureQueriesContext(connection) as queries:
            assert store[SESSION_KEY] == str(user.pk)
            person = PersonBackend().get_user(user.pk)
        assert len(queries) == 1, queries.captured_queries
        assert "django_session" in queries[0]["sql"] and "accounts_membership" in queries[0]["sql"]
        assert _person(person) == _person(PersonBackend().get_user(user.pk))  # asked afresh
        assert store.get_expiry_date() > timezone.now()


def test_a_session_the_process_does_not_know_is_read_alone_then_known(cast):
    key = _signed_in(cast.helen)
    sessions._KNOWN.clear()  # as in another web process
    with CaptureQueriesContext(connection) as queries:
        assert SessionStore(session_key=key)[SESSION_KEY] == str(cast.helen.pk)
        PersonBackend().get_user(cast.helen.pk)
    assert len(queries) == 2
    with CaptureQueriesContext(connection) as queries:
        assert SessionStore(session_key=key)[SESSION_KEY] == str(cast.helen.pk)
        PersonBackend().get_user(cast.helen.pk)
    assert len(queries) == 1


def test_a_session_that_names_someone_else_now_gets_that_person_not_the_remembered_one(cast):
    """The process remembers the session as Helen's; its row has since come to name Sam (a key
    reused, a row rewritten). Sam's page must be Sam's: Helen's rows, read with it, are not used."""
    key = _signed_in(cast.helen)
    store = SessionStore(session_key=key)
    store[SESSION_KEY] = str(cast.sam.pk)
    Session.objects.filter(session_key=key).update(session_data=store.encode(store._session))
    assert sessions._KNOWN[sessions._digest(key)] == cast.helen.pk  # still remembered as Helen's
    again = SessionStore(session_key=key)
    assert again[SESSION_KEY] == str(cast.sam.pk)
    with CaptureQueriesContext(connection) as queries:
        assert PersonBackend().get_user(cast.helen.pk) == cast.helen  # asked: Helen's rows were dropped
        assert PersonBackend().get_user(cast.sam.pk) == cast.sam
    assert len(queries) == 2
    assert sessions._KNOWN[sessions._digest(key)] == cast.sam.pk  # remembered as read


def test_rows_read_with_the_session_serve_one_look_up_of_that_person_in_that_request(cast):
    key = _signed_in(cast.helen)
    SessionStore(session_key=key).load()
    with CaptureQueriesContext(connection) as queries:
        assert PersonBackend().get_user(cast.sam.pk) == cast.sam  # someone else: asked
        assert PersonBackend().get_user(cast.helen.pk) == cast.helen  # the rows were dropped: asked
    assert len(queries) == 2
    SessionStore(session_key=key).load()
    request_finished.disconnect(close_old_connections)  # as Django's test client does: keep the test's
    try:
        request_finished.send(sender=None)  # the request ends before anyone asked
    finally:
        request_finished.connect(close_old_connections)
    with CaptureQueriesContext(connection) as queries:
        PersonBackend().get_user(cast.helen.pk)
    assert len(queries) == 1


@pytest.mark.parametrize("change", ["signed out everywhere", "expired", "person deleted"])
def test_a_known_session_that_is_gone_or_expired_or_whose_person_is_gone_is_no_session(cast, change):
    key = _signed_in(cast.olive)
    if change == "signed out everywhere":
        Session.objects.filter(session_key=key).delete()
    elif change == "expired":
        Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    else:
        type(cast.olive).objects.filter(pk=cast.olive.pk).delete()
    store = SessionStore(session_key=key)
    if change == "person deleted":
        assert store[SESSION_KEY] == str(cast.olive.pk)  # the session is there; its person is not
        assert PersonBackend().get_user(cast.olive.pk) is None
    else:
        assert dict(store.items()) == {} and store.session_key is None


def test_through_pages_a_signed_in_person_costs_one_query_and_signing_out_anywhere_ends_it(client, cast):
    verified_login(client, cast.helen)
    assert client.get(reverse("home")).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200 and response.wsgi_request.user == cast.helen
    assert not [q for q in queries.captured_queries if q["sql"].startswith('SELECT "django_session"')]
    Session.objects.all().delete()  # signed out everywhere, from another process
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_no_session_key_is_kept(cast):
    key = _signed_in(cast.helen)
    assert all(len(digest) == 16 and key.encode() not in digest for digest in sessions._KNOWN)
    SessionStore(session_key=key).delete()
    assert sessions._digest(key) not in sessions._KNOWN
