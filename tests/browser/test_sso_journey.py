"""Single sign-on in Chromium (issue [13]): the sign-in page's button takes the browser to the
provider and back. The provider is the fake one in tests/oidc_provider.py run as a SECOND PROCESS
(one per module, on 127.0.0.1); before each sign-in the test tells it who signs in next. Staff land
on the home page; a head whose provider used MFA is not asked for the code, without the claim is;
each refusal (wrong Entra tenant, unverified email, unknown person, replayed state, tampered and
expired ID tokens) ends on the refusal page, not
signed in, with a refused sign-in in the audit trail giving the reason."""

import time

import pytest

from accounts.models import AuditAction, AuditEvent, ProviderKind
from tests.auth import authenticator
from tests.oidc_provider import CLIENT_SECRET, ProviderProcess, provider_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TENANT = "3f0b2c4e-1111-4222-8333-444455556666"
OTHER_TENANT = "9f9f9f9f-aaaa-4bbb-8ccc-dddddddddddd"


@pytest.fixture(scope="module")
def idp():
    provider = ProviderProcess()
    try:
        yield provider
    finally:
        provider.close()


@pytest.fixture
def sso(cast, idp, live_server, settings, monkeypatch):
    settings.SITE_URL = live_server.url  # the redirect URI the provider sends the browser back to
    monkeypatch.setenv("SSO_TEST_SECRET", CLIENT_SECRET)
    return provider_for(
        idp,
        cast.trust,
        allowed_domains="oakfield.example.org",
        trust_provider_mfa=True,
    )


def sso_sign_in(page, label="Riverside accounts"):
    page.goto("/accounts/login/")
    with page.expect_navigation():
        page.get_by_role("link", name=f"Sign in with {label}").click()


def assert_signed_out(page, live_server):
    page.goto("/accounts/security/")
    assert page.url.startswith(live_server.url + "/accounts/login/")


def assert_refused(page, live_server, reason, message, sign_ins_before=0):
    assert page.get_by_role("heading", name="You are not signed in").is_visible()
    assert page.get_by_role("alert").filter(has_text=message).is_visible()
    event = AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED).latest("pk")
    assert event.detail["method"] == "sso"
    assert event.detail["reason"] == reason
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_IN).count() == sign_ins_before
    assert_signed_out(page, live_server)


def test_staff_sign_in_with_the_school_account(page, cast, sso, idp, live_server):
    idp.sign_in_next(email=cast.sam.email)
    sso_sign_in(page)
    assert page.url == live_server.url + "/"
    page.goto("/accounts/security/")
    assert page.url == live_server.url + "/accounts/security/"  # signed in: not sent to the sign-in page
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_IN, actor=cast.sam, detail__method="sso").exists()


def test_a_head_with_the_mfa_claim_is_not_asked_for_the_code_and_without_it_is(page, cast, sso, idp):
    authenticator(cast.helen)
    idp.sign_in_next(email=cast.helen.email, amr=["pwd", "mfa"])
    sso_sign_in(page)
    assert "/two-factor/" not in page.url
    page.context.clear_cookies()
    idp.sign_in_next(email=cast.helen.email, amr=["pwd"])
    sso_sign_in(page)
    assert "/accounts/two-factor/verify/" in page.url
    assert page.get_by_label("Code").is_visible()


def test_an_unknown_person_is_refused(page, cast, sso, idp, live_server):
    idp.sign_in_next(email="stranger@oakfield.example.org")
    sso_sign_in(page)
    assert_refused(page, live_server, "unknown_user", "There is no PolicyHub account for that email address")


def test_an_unverified_email_is_refused(page, cast, sso, idp, live_server):
    idp.sign_in_next(email=cast.sam.email, email_verified=False)
    sso_sign_in(page)
    assert_refused(page, live_server, "email_unverified", "has not confirmed the email address of that account")


def test_an_entra_token_from_another_tenant_is_refused(page, cast, sso, idp, live_server):
    # The trust's Entra provider (endpoints stored: the local provider stands in for Microsoft);
    # the person is a real member of staff with a verified address in the trust's domain, but the
    # token comes from another organisation's tenant.
    sso.kind = ProviderKind.ENTRA
    sso.tenant_id = TENANT
    sso.save()
    idp.sign_in_next(email=cast.sam.email, tid=OTHER_TENANT, xms_edov=True)
    sso_sign_in(page)
    assert_refused(page, live_server, "tenant", "different Microsoft 365 organisation")


def test_the_right_entra_tenant_signs_in(page, cast, sso, idp, live_server):
    # The counterpart of the refusal above: only the tenant differs.
    sso.kind = ProviderKind.ENTRA
    sso.tenant_id = TENANT
    sso.save()
    idp.sign_in_next(email=cast.sam.email, tid=TENANT, xms_edov=True)
    sso_sign_in(page)
    assert page.url == live_server.url + "/"
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_IN, actor=cast.sam, detail__method="sso").exists()


def test_a_replayed_state_is_refused(page, cast, sso, idp, live_server):
    # Sam signs in and out; someone replays the callback address (code and state) from the history.
    callbacks = []
    page.on(
        "request", lambda request: callbacks.append(request.url) if "/accounts/sso/callback/" in request.url else None
    )
    idp.sign_in_next(email=cast.sam.email)
    sso_sign_in(page)
    assert page.url == live_server.url + "/"
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    page.goto(callbacks[0])
    assert_refused(page, live_server, "state", "another browser", sign_ins_before=1)


def test_a_tampered_id_token_is_refused(page, cast, sso, idp, live_server):
    # Signed by the provider for Sam, then the email changed to the head's: the signature fails.
    idp.sign_in_next(email=cast.sam.email, tampered_with={"email": cast.helen.email})
    sso_sign_in(page)
    assert_refused(page, live_server, "token_signature", "could not confirm this sign-in")


def test_an_expired_id_token_is_refused(page, cast, sso, idp, live_server):
    now = int(time.time())
    idp.sign_in_next(email=cast.sam.email, iat=now - 900, exp=now - 300)
    sso_sign_in(page)
    assert_refused(page, live_server, "token_expired", "could not confirm this sign-in")
