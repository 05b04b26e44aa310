"""The three look-ups every signed-in request makes before any page work (the session, the person,
the second-factor device) run SQL written once (accounts/prepared.py) and give what Django's and
django-otp's own look-ups give, including every way they can find nothing."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.backends import PersonBackend
from accounts.sessions import SessionStore
from accounts.two_factor import OTPMiddleware
from tests.auth import authenticator, verified_login

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


# --- the session -----------------------------------------------------------------------------------


def _stored(data: dict, expires_in=timedelta(hours=1)) -> str:
    store = DjangoSessionStore()
    store.update(data)
    store.create()
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() + expires_in)
    return store.session_key


def test_a_live_session_loads_as_djangos_store_loads_it_in_one_query():
    key = _stored({"a": 1, "school": "Oakfield", "when": "2026-12-03"})
    ours = SessionStore(session_key=key)
    with CaptureQueriesContext(connection) as queries:
        loaded = dict(ours.items())
    assert len(queries) == 1
    assert (
        loaded
        == dict(DjangoSessionStore(session_key=key).items())
        == {
            "a": 1,
            "school": "Oakfield",
            "when": "2026-12-03",
        }
    )
    assert ours.session_key == key


@pytest.mark.parametrize("expires_in", [timedelta(seconds=-1), timedelta(0)], ids=["expired", "expiring now"])
def test_an_expired_session_is_no_session_and_gets_a_new_key(expires_in):
    key = _stored({"a": 1}, expires_in=expires_in)
    ours, django = SessionStore(session_key=key), DjangoSessionStore(session_key=key)
    assert dict(ours.items()) == dict(django.items()) == {}
    assert ours.session_key is None and django.session_key is None
    ours["b"] = 2
    ours.save()
    assert ours.session_key != key  # a fresh session, never the old row brought back


def test_an_unknown_key_is_no_session():
    _stored({"a": 1})
    ours = SessionStore(session_key="x" * 32)
    assert dict(ours.items()) == {}
    assert ours.session_key is None


def test_the_query_is_run_with_each_key():
    first, second = _stored({"n": 1}), _stored({"n": 2})
    assert SessionStore(session_key=first)["n"] == 1
    assert SessionStore(session_key=second)["n"] == 2
    assert SessionStore(session_key=first)["n"] == 1


def test_settings_use_this_store():
    assert settings.SESSION_ENGINE == "accounts.sessions"


def test_a_session_signed_in_through_djangos_model_backend_stays_signed_in(client, cast):
    """Sessions from before PersonBackend name django.contrib.auth.backends.ModelBackend: same
    password check, so the person is still signed in, and the session now names PersonBackend."""
    client.force_login(cast.sam, backend="accounts.backends.PersonBackend")
    session = client.session
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response.wsgi_request.user == cast.sam
    assert SessionStore(session_key=session.session_key)[BACKEND_SESSION_KEY] == "accounts.backends.PersonBackend"


def test_a_session_naming_a_backend_not_in_settings_is_signed_out(client, cast):
    client.force_login(cast.sam)
    session = client.session
    session[BACKEND_SESSION_KEY] = "accounts.security.NoSuchBackend"
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- the person ------------------------------------------------------------------------------------


def test_the_person_is_the_one_modelbackend_gives_in_one_query(cast):
    for user in (cast.helen, cast.sam, cast.olive):
        with CaptureQueriesContext(connection) as queries:
            ours = PersonBackend().get_user(user.pk)
        assert len(queries) == 1
        assert _fields(ours) == _fields(ModelBackend().get_user(user.pk))
        assert ours._state.adding is False and ours._state.db == "default"


def test_the_persons_memberships_come_with_them_as_for_user_gives_them(cast):
    """One query for the person and their memberships (school and trust loaded, Membership's order);
    memberships_of() then asks nothing more. A person with no membership, or at a school without a
    trust, too."""
    from accounts.middleware import memberships_of
    from accounts.models import Membership, Role, User
    from tests.factories import SchoolFactory

    lone = SchoolFactory(trust=None, name="Aardvark Lone School", slug="lone", code="LON", urn="100009")
    Membership.objects.create(user=cast.helen, school=lone, role=Role.GOVERNOR)
    Membership.objects.create(user=cast.helen, school=cast.brookside, role=Role.DSL)
    nobody = User.objects.create_user(email="nobody@example.org", password="a long passphrase for nobody 1")
    for user in (cast.helen, cast.sam, cast.olive, nobody):
        expected = list(Membership.objects.for_user(user))
        with CaptureQueriesContext(connection) as queries:
            person = PersonBackend().get_user(user.pk)
            found = memberships_of(person)
            seen = [(m.school.name, m.school.trust.name if m.school.trust_id else None) for m in found]
        assert len(queries) == 1
        assert _fields(person) == _fields(ModelBackend().get_user(user.pk))
        assert [_fields(m) for m in found] == [_fields(m) for m in expected]
        assert [_fields(m.school) for m in found] == [_fields(m.school) for m in expected]
        assert seen == [(m.school.name, m.school.trust.name if m.school.trust_id else None) for m in expected]
        assert len(found) == Membership.objects.filter(user=user).count()
    assert len(memberships_of(PersonBackend().get_user(cast.helen.pk))) >= 3
    assert memberships_of(PersonBackend().get_user(nobody.pk)) == []


def test_an_inactive_or_missing_person_is_nobody(cast):
    cast.sam.is_active = False
    cast.sam.save()
    assert PersonBackend().get_user(cast.sam.pk) is None is ModelBackend().get_user(cast.sam.pk)
    missing = max(type(cast.sam).objects.values_list("pk", flat=True)) + 1
    assert PersonBackend().get_user(missing) is None is ModelBackend().get_user(missing)


def test_a_changed_password_signs_the_session_out(client, cast):
    """The session hash check (Django's get_user) still runs on what PersonBackend returns."""
    client.force_login(cast.sam)
    assert client.get(reverse("home")).status_code == 200
    cast.sam.set_password("a different long passphrase 2026")
    cast.sam.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_deactivated_person_is_signed_out_at_the_next_request(client, cast):
    client.force_login(cast.sam)
    assert client.get(reverse("home")).status_code == 200
    type(cast.sam).objects.filter(pk=cast.sam.pk).update(is_active=False)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- the second-factor device ----------------------------------------------------------------------


def _verified_user(cast, persistent_id, user=None, middlewares=(OTPMiddleware, DjangoOTPMiddleware)):
    """request.user as both middlewares leave it, for a session holding `persistent_id`: the person
    read by the ORM and as accounts.backends.PersonBackend reads them (with their first authenticator
    app's id, which our middleware uses without a query when the session names that app)."""
    user = user or cast.helen
    results = []
    for middleware in middlewares:
        for read in (lambda pk: type(user).objects.get(pk=pk), PersonBackend().get_user):
            request = RequestFactory().get("/")
            request.session = SessionStore()
            request.session[DEVICE_ID_SESSION_KEY] = persistent_id
            request.user = read(user.pk)
            middleware(lambda r: None)._install_lazy_accessors(request)
            verified = request.user.is_verified()
            device = request.user.otp_device
            results.append((verified, device and _fields(device), DEVICE_ID_SESSION_KEY in request.session))
    assert all(result == results[0] for result in results)  # the same answer as django-otp's own look-up
    return results[0]


def _device_queries(queries) -> list[str]:
    """The queries that read the device table itself (not the person's, which looks into it)."""
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "otp_totp_totpdevice"')]


def test_a_session_verified_with_the_persons_app_reads_no_device(client, cast):
    """The app's id comes with the person (accounts/backends.py): the second factor costs no query."""
    device = verified_login(client, cast.helen)
    client.get(reverse("incidents:queue"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("incidents:queue"))
    assert response.status_code == 200  # verified: not sent to the two-factor pages
    assert _device_queries(queries) == []
    user = response.wsgi_request.user
    assert user.is_verified() and user.otp_device.persistent_id == device.persistent_id
    assert _fields(user.otp_device) == _fields(device)  # the rest of the device, read when asked for


def test_the_app_named_with_the_person_is_their_first_confirmed_one(cast):
    pending = TOTPDevice.objects.create(user=cast.helen, name="pending", confirmed=False)
    assert PersonBackend().get_user(cast.helen.pk).authenticator_id_fetched is None
    first, second = (TOTPDevice.objects.create(user=cast.helen, name=name, confirmed=True) for name in "AB")
    authenticator(cast.olive)
    assert PersonBackend().get_user(cast.helen.pk).authenticator_id_fetched == first.pk
    assert pending.pk < first.pk < second.pk
    # A session verified with the second app is verified as django-otp says, by a query of its own.
    assert _verified_user(cast, second.persistent_id) == (True, _fields(second), True)
    assert _verified_user(cast, first.persistent_id) == (True, _fields(first), True)
    first.confirmed = False
    first.save()
    assert PersonBackend().get_user(cast.helen.pk).authenticator_id_fetched == second.pk
    assert _verified_user(cast, first.persistent_id) == (False, None, False)


def test_the_verified_device_is_django_otps_in_one_query(cast):
    device = authenticator(cast.helen)
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    request.user = cast.helen
    OTPMiddleware(lambda r: None)._install_lazy_accessors(request)
    with CaptureQueriesContext(connection) as queries:
        assert request.user.is_verified()
    assert len(queries) == 1
    assert _fields(request.user.otp_device) == _fields(device)
    assert type(request.user.otp_device) is TOTPDevice
    assert _verified_user(cast, device.persistent_id) == (True, _fields(device), True)


def test_recovery_codes_are_a_device_too(cast):
    codes = StaticDevice.objects.create(user=cast.helen, name="Recovery codes", confirmed=True)
    verified, fields, kept = _verified_user(cast, codes.persistent_id)
    assert verified and fields == _fields(codes) and kept


def test_someone_elses_device_is_no_device_and_leaves_the_session(cast):
    olives = authenticator(cast.olive)
    assert _verified_user(cast, olives.persistent_id) == (False, None, False)
    authenticator(cast.helen)  # the person has an app of their own, named with them: not this one
    assert _verified_user(cast, olives.persistent_id) == (False, None, False)


def test_an_unconfirmed_or_deleted_device_is_no_device(cast):
    pending = TOTPDevice.objects.create(user=cast.helen, name="pending", confirmed=False)
    assert _verified_user(cast, pending.persistent_id) == (False, None, False)
    gone = authenticator(cast.helen)
    persistent_id = gone.persistent_id
    gone.delete()
    assert _verified_user(cast, persistent_id) == (False, None, False)


@pytest.mark.parametrize(
    "persistent_id",
    ["nonsense", "otp_totp.totpdevice/abc", "otp_totp.totpdevice/", "nosuchapp.device/1", "a.b.c/1"],
)
def test_a_malformed_or_foreign_id_is_no_device(cast, persistent_id):
    assert _verified_user(cast, persistent_id) == (False, None, False)


def test_a_model_that_is_not_a_device_is_no_device(cast):
    """django-otp's own look-up fails here (AttributeError on None.first()); ours finds no device."""
    assert _verified_user(cast, f"accounts.user/{cast.helen.pk}", middlewares=(OTPMiddleware,)) == (False, None, False)


def test_the_legacy_full_path_form_still_finds_the_device(cast):
    device = authenticator(cast.helen)
    legacy = f"django_otp.plugins.otp_totp.models.TOTPDevice/{device.pk}"
    assert _verified_user(cast, legacy) == (True, _fields(device), True)


def test_a_verified_session_opens_pages_and_a_removed_device_closes_them(client, cast):
    device = verified_login(client, cast.helen)
    assert client.get(reverse("incidents:queue")).status_code == 200
    device.delete()
    response = client.get(reverse("incidents:queue"))
    assert response.status_code == 302  # back to the two-factor pages


def test_whether_the_person_has_an_authenticator_comes_with_them(client, cast):
    """accounts/backends.py answers has_authenticator() in the person's query; the two-factor check
    before each view reads it: a staff member without an app costs no query of the device table."""
    from accounts.two_factor import has_authenticator

    TOTPDevice.objects.create(user=cast.sam, name="pending", confirmed=False)
    for user in (cast.sam, cast.dina):
        assert PersonBackend().get_user(user.pk).authenticator_id_fetched is None
        assert has_authenticator(user) is False
    TOTPDevice.objects.create(user=cast.dina, name="Authenticator app", confirmed=True)
    assert PersonBackend().get_user(cast.dina.pk).authenticator_id_fetched is not None
    assert has_authenticator(cast.dina) is True

    client.force_login(cast.sam)
    client.get(reverse("incidents:mine"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("incidents:mine")).status_code == 200
    assert _device_queries(queries) == []
