"""Single sign-on in Chromium (issue [13]): the sign-in page's button takes the browser to the
provider (the fake one in tests/oidc_provider.py, on 127.0.0.1) and back; staff land on the home
page; a head whose provider used MFA is not asked for the code, without the claim is; a refusal is
a clear page and an audit event."""

import pytest

from accounts.models import AuditAction, AuditEvent
from tests.auth import authenticator
from tests.oidc_provider import CLIENT_SECRET, FakeProvider, provider_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def idp():
    provider = FakeProvider()
    yield provider
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


def sso_sign_in(page):
    page.goto("/accounts/login/")
    with page.expect_navigation():
        page.get_by_role("link", name="Sign in with Riverside accounts").click()


def test_staff_sign_in_with_the_school_account(page, cast, sso, idp, live_server):
    idp.browser_claims = {"email": cast.sam.email}
    sso_sign_in(page)
    assert page.url == live_server.url + "/"
    page.goto("/accounts/security/")
    assert page.url == live_server.url + "/accounts/security/"  # signed in: not sent to the sign-in page
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_IN, actor=cast.sam, detail__method="sso").exists()


def test_a_head_with_the_mfa_claim_is_not_asked_for_the_code_and_without_it_is(page, cast, sso, idp):
    authenticator(cast.helen)
    idp.browser_claims = {"email": cast.helen.email, "amr": ["pwd", "mfa"]}
    sso_sign_in(page)
    assert "/two-factor/" not in page.url
    page.context.clear_cookies()
    idp.browser_claims = {"email": cast.helen.email, "amr": ["pwd"]}
    sso_sign_in(page)
    assert "/accounts/two-factor/verify/" in page.url
    assert page.get_by_label("Code").is_visible()


def test_an_unknown_person_sees_a_clear_refusal(page, cast, sso, idp):
    idp.browser_claims = {"email": "stranger@oakfield.example.org"}
    sso_sign_in(page)
    assert page.get_by_role("heading", name="You are not signed in").is_visible()
    assert page.get_by_text("There is no PolicyHub account for that email address").is_visible()
    event = AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED).latest("pk")
    assert event.detail["reason"] == "unknown_user"
