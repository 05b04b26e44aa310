"""Single sign-on in Chromium against a real OpenID Connect provider (issue [13] item 5):
django-oauth-toolkit in OpenID Connect mode, run as a second process (tests/dot_provider). The
person signs in on the provider's own page; PolicyHub exchanges the code with PKCE and checks the
ID token the provider signed. Staff land on the home page; a head who used the provider's one-time
code is not asked for PolicyHub's, without it is; wrong Entra tenant, unverified email, unknown
person and a replayed state are refused, audited, and leave the browser signed out.

(Tokens no honest provider issues, tampered or expired, are in test_sso_journey.py.)"""

import pytest

from accounts.models import AuditAction, AuditEvent, ProviderKind
from tests.auth import authenticator
from tests.dot_provider import CLIENT_SECRET, PASSWORD, DotProvider, provider_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TENANT = "3f0b2c4e-1111-4222-8333-444455556666"
OTHER_TENANT = "9f9f9f9f-aaaa-4bbb-8ccc-dddddddddddd"
CODE = "246810"


@pytest.fixture(scope="module")
def dot():
    provider = DotProvider()
    try:
        yield provider
    finally:
        provider.close()


@pytest.fixture
def sso(cast, dot, live_server, settings, monkeypatch):
    settings.SITE_URL = live_server.url  # the redirect URI the provider sends the browser back to
    monkeypatch.setenv("SSO_DOT_SECRET", CLIENT_SECRET)
    dot.register_client(live_server.url + "/accounts/sso/callback/")
    return provider_for(dot, cast.trust, allowed_domains="oakfield.example.org", trust_provider_mfa=True)


def sign_in_at_provider(page, dot, username, code=""):
    """From PolicyHub's sign-in page through the provider's own page and back."""
    page.goto("/accounts/login/")
    with page.expect_navigation():
        page.get_by_role("link", name="Sign in with Riverside accounts").click()
    assert page.url.startswith(dot.url + "/login/"), page.url  # the provider asks who this is
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    if code:
        page.get_by_label("One-time code").fill(code)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in at the provider").click()


def assert_signed_out(page, live_server):
    page.goto(live_server.url + "/accounts/security/")
    assert page.url.startswith(live_server.url + "/accounts/login/")


def assert_refused(page, live_server, reason, message, sign_ins_before=0):
    assert page.url.startswith(live_server.url), page.url
    assert page.get_by_role("heading", name="You are not signed in").is_visible()
    assert page.get_by_role("alert").filter(has_text=message).is_visible()
    event = AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED).latest("pk")
    assert event.detail["method"] == "sso"
    assert event.detail["reason"] == reason
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_IN).count() == sign_ins_before
    assert_signed_out(page, live_server)


def test_staff_sign_in_at_the_provider(page, cast, sso, dot, live_server):
    dot.add_person("sam", cast.sam.email)
    sign_in_at_provider(page, dot, "sam")
    assert page.url == live_server.url + "/"
    page.goto("/accounts/security/")
    assert page.url == live_server.url + "/accounts/security/"
    event = AuditEvent.objects.get(action=AuditAction.SIGN_IN, actor=cast.sam)
    assert event.detail["method"] == "sso"


def test_a_head_who_used_the_providers_code_is_not_asked_again_and_without_it_is(page, cast, sso, dot, live_server):
    authenticator(cast.helen)
    dot.add_person("helen", cast.helen.email, one_time_code=CODE)
    sign_in_at_provider(page, dot, "helen", code=CODE)
    assert page.url == live_server.url + "/"  # the home page: no code asked for
    page.context.clear_cookies()  # both sessions, PolicyHub's and the provider's, end
    sign_in_at_provider(page, dot, "helen")
    assert "/accounts/two-factor/verify/" in page.url
    assert page.get_by_label("Code").is_visible()


def test_an_unknown_person_is_refused(page, cast, sso, dot, live_server):
    dot.add_person("stranger", "stranger@oakfield.example.org")
    sign_in_at_provider(page, dot, "stranger")
    assert_refused(page, live_server, "unknown_user", "There is no PolicyHub account for that email address")


def test_an_unverified_email_is_refused(page, cast, sso, dot, live_server):
    dot.add_person("sam", cast.sam.email, email_verified=False)
    sign_in_at_provider(page, dot, "sam")
    assert_refused(page, live_server, "email_unverified", "has not confirmed the email address of that account")


@pytest.mark.parametrize("tenant, signed_in", [(OTHER_TENANT, False), (TENANT, True)])
def test_an_entra_tenant_must_be_the_trusts(page, cast, sso, dot, live_server, tenant, signed_in):
    # The trust's provider is Entra with its tenant; the provider stands in for Microsoft and says
    # which tenant the person belongs to (`tid`). Only the tenant differs between the two runs.
    sso.kind = ProviderKind.ENTRA
    sso.tenant_id = TENANT
    sso.save()
    dot.add_person("sam", cast.sam.email, tenant=tenant)
    sign_in_at_provider(page, dot, "sam")
    if signed_in:
        assert page.url == live_server.url + "/"
        assert AuditEvent.objects.filter(action=AuditAction.SIGN_IN, actor=cast.sam).exists()
    else:
        assert_refused(page, live_server, "tenant", "different Microsoft 365 organisation")


def test_a_replayed_state_is_refused(page, cast, sso, dot, live_server):
    callbacks = []
    page.on("request", lambda r: callbacks.append(r.url) if "/accounts/sso/callback/" in r.url else None)
    dot.add_person("sam", cast.sam.email)
    sign_in_at_provider(page, dot, "sam")
    assert page.url == live_server.url + "/"
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    page.goto(callbacks[0])
    assert_refused(page, live_server, "state", "another browser", sign_ins_before=1)
