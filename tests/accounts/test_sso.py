"""Single sign-on with a trust's OpenID Connect provider (accounts.sso, issue [13]).

A fake provider (tests/oidc_provider.py) runs on 127.0.0.1 with its own RSA keys; each attack test
drives the real callback with a token an attacker could bring and checks that the sign-in is
refused with a clear message, nobody is signed in, and the refusal is audited with its reason.
"""

import base64
import hashlib
import html
import http.client
import json
import time
import urllib.parse
from datetime import timedelta

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.audit import seal, verify
from accounts.models import (
    AuditAction,
    AuditEvent,
    Membership,
    ProviderKind,
    Role,
    SingleSignOnGroupRole,
    SingleSignOnProvider,
    User,
)
from accounts.sso import verify_id_token
from tests.auth import authenticator, current_code
from tests.factories import SchoolFactory, TrustFactory, person
from tests.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    FakeProvider,
    ProviderProcess,
    b64,
    hs256_with,
    provider_for,
    unsigned,
)

pytestmark = pytest.mark.django_db

TENANT = "0e4c1d2a-1111-4222-8333-944455556666"
OTHER_TENANT = "9f9f9f9f-aaaa-4bbb-8ccc-dddddddddddd"


@pytest.fixture(scope="module")
def idp():
    provider = FakeProvider()
    yield provider
    provider.close()


@pytest.fixture(autouse=True)
def _fresh(idp, monkeypatch, settings):
    cache.clear()  # the JWKS cache
    idp.key = idp.published[0]
    idp.published = [idp.key]
    monkeypatch.setenv("SSO_TEST_SECRET", CLIENT_SECRET)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sso(cast, idp):
    """Riverside's provider: generic OpenID Connect, the fake provider's endpoints."""
    return provider_for(
        idp,
        cast.trust,
        allowed_domains="oakfield.example.org, brookside.example.org",
    )


def entra(sso, **fields):
    sso.kind = ProviderKind.ENTRA
    sso.tenant_id = TENANT
    for name, value in fields.items():
        setattr(sso, name, value)
    sso.save()
    return sso


def begin(client, sso, next_url=""):
    response = client.get(reverse("sso_start", args=[sso.slug]), {"next": next_url} if next_url else {})
    assert response.status_code == 302
    return response["Location"]


def sign_in(client, sso, idp, id_token=None, **claims):
    code, state = idp.authorize(begin(client, sso), id_token=id_token, **claims)
    return client.get(reverse("sso_callback"), {"code": code, "state": state})


def signed_in_as(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def last_refusal():
    return AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED).latest("pk")


def assert_refused(response, client, reason, text):
    assert response.status_code == 403
    assert text in html.unescape(response.content.decode())
    assert signed_in_as(client) is None
    event = last_refusal()
    assert event.detail["reason"] == reason
    assert event.detail["method"] == "sso"
    assert event.object_type == "sso"


# --- The journey ----------------------------------------------------------------------------------


def test_the_sign_in_page_offers_the_trusts_provider(client, sso):
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with Riverside accounts" in page
    assert reverse("sso_start", args=["riverside"]) in page


def test_the_sign_in_page_has_no_buttons_without_a_provider(client, cast):
    assert "Or sign in with your school account" not in client.get(reverse("login")).content.decode()


def test_the_authorization_request_uses_pkce_state_and_nonce(client, sso):
    location = begin(client, sso)
    assert location.startswith(sso.authorization_endpoint + "?")
    for part in ("code_challenge=", "code_challenge_method=S256", "state=", "nonce=", "scope=openid+email"):
        assert part in location
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Faccounts%2Fsso%2Fcallback%2F" in location


def test_staff_sign_in_with_the_provider_and_it_is_audited(client, cast, sso, idp):
    response = sign_in(client, sso, idp, email="Sam@Oakfield.example.org")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert signed_in_as(client) == cast.sam
    assert client.get(reverse("home")).status_code == 200
    event = AuditEvent.objects.filter(action=AuditAction.SIGN_IN).latest("pk")
    assert event.actor == cast.sam
    assert event.detail == {"method": "sso", "provider": "riverside", "mfa": False}


def test_the_page_asked_for_before_sign_in_opens_after_it(client, cast, sso, idp):
    code, state = idp.authorize(begin(client, sso, "/accounts/security/"), email=cast.sam.email)
    response = client.get(reverse("sso_callback"), {"code": code, "state": state})
    assert response["Location"] == "/accounts/security/"


def test_a_next_address_on_another_site_is_ignored(client, cast, sso, idp):
    code, state = idp.authorize(begin(client, sso, "https://evil.example/"), email=cast.sam.email)
    response = client.get(reverse("sso_callback"), {"code": code, "state": state})
    assert response["Location"] == reverse("home")


def test_a_secret_stored_encrypted_works_and_is_never_shown_back(client, cast, sso, idp, settings):
    from accounts.forms import SingleSignOnProviderForm

    settings.SSO_SECRET_KEY = Fernet.generate_key().decode()
    data = {f: getattr(sso, f) for f in SingleSignOnProviderForm.Meta.fields if f not in ("trust",)}
    data.update(trust=cast.trust.pk, client_secret=CLIENT_SECRET, client_secret_env="", break_glass_user="")
    data.update(create_staff_at="")
    form = SingleSignOnProviderForm(data, instance=sso)
    assert form.is_valid(), form.errors
    form.save()
    sso.refresh_from_db()
    assert sso.client_secret_env == "" and CLIENT_SECRET not in sso.client_secret_encrypted
    assert CLIENT_SECRET not in SingleSignOnProviderForm(instance=sso).as_div()
    assert sign_in(client, sso, idp, email=cast.sam.email).status_code == 302
    assert signed_in_as(client) == cast.sam


# --- state, nonce, PKCE ----------------------------------------------------------------------------


def test_a_callback_with_a_state_this_browser_never_sent_is_refused(client, cast, sso, idp):
    code, _state = idp.authorize(begin(client, sso), email=cast.sam.email)
    response = client.get(reverse("sso_callback"), {"code": code, "state": "forged"})
    assert_refused(response, client, "state", "started too long ago or in another browser")


def test_a_callback_from_another_browser_is_refused(client, cast, sso, idp):
    """Login CSRF: the attacker's own code and state, delivered to the victim's browser."""
    attacker = Client()
    code, state = idp.authorize(begin(attacker, sso), email=cast.bethan.email)
    response = client.get(reverse("sso_callback"), {"code": code, "state": state})
    assert_refused(response, client, "state", "another browser")


def test_a_replayed_state_is_refused(client, cast, sso, idp):
    code, state = idp.authorize(begin(client, sso), email=cast.sam.email)
    assert client.get(reverse("sso_callback"), {"code": code, "state": state}).status_code == 302
    client.post(reverse("logout"))
    response = client.get(reverse("sso_callback"), {"code": code, "state": state})
    assert_refused(response, client, "state", "another browser")


def test_a_state_is_spent_by_its_first_callback_even_a_refused_one(client, cast, sso, idp):
    """Without logging out in between: an attacker who saw a state cannot reuse it with a good code."""
    location = begin(client, sso)
    bad_code, state = idp.authorize(location, email=cast.sam.email, aud="wrong")
    assert client.get(reverse("sso_callback"), {"code": bad_code, "state": state}).status_code == 403
    good_code, _ = idp.authorize(location, email=cast.sam.email)
    response = client.get(reverse("sso_callback"), {"code": good_code, "state": state})
    assert_refused(response, client, "state", "another browser")


def test_a_flow_left_for_more_than_ten_minutes_is_refused(client, cast, sso, idp):
    location = begin(client, sso)
    with time_machine.travel(timedelta(minutes=11)):
        code, state = idp.authorize(location, email=cast.sam.email)
        response = client.get(reverse("sso_callback"), {"code": code, "state": state})
    assert_refused(response, client, "state", "started too long ago")


def test_a_replayed_id_token_with_an_old_nonce_is_refused(client, cast, sso, idp):
    first = begin(client, sso)
    old_nonce = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(first).query))["nonce"]
    stolen = idp.sign(idp.claims({"nonce": old_nonce}, email=cast.sam.email))
    response = sign_in(client, sso, idp, id_token=stolen)  # a new flow, so a new nonce
    assert_refused(response, client, "token_nonce", "could not confirm this sign-in")


def test_a_token_without_a_nonce_is_refused(client, cast, sso, idp):
    response = sign_in(client, sso, idp, email=cast.sam.email, nonce=None)
    assert_refused(response, client, "token_nonce", "could not confirm")


def test_the_code_exchange_fails_without_the_right_pkce_verifier(client, cast, sso, idp):
    location = begin(client, sso)
    code, state = idp.authorize(location, email=cast.sam.email)
    idp.codes[code]["challenge"] = "not-the-challenge-we-sent"
    response = client.get(reverse("sso_callback"), {"code": code, "state": state})
    assert_refused(response, client, "token_exchange", "could not confirm")


def test_an_error_from_the_provider_is_refused(client, sso):
    location = begin(client, sso)
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))["state"]
    response = client.get(reverse("sso_callback"), {"error": "access_denied", "state": state})
    assert_refused(response, client, "provider_error", "did not complete the sign-in")


# --- The ID token ----------------------------------------------------------------------------------


def test_a_token_for_another_client_is_refused(client, cast, sso, idp):
    response = sign_in(client, sso, idp, email=cast.sam.email, aud="someone-elses-app")
    assert_refused(response, client, "token_audience", "could not confirm")


def test_a_token_for_several_clients_without_azp_ours_is_refused(client, cast, sso, idp):
    response = sign_in(client, sso, idp, email=cast.sam.email, aud=[CLIENT_ID, "other"], azp="other")
    assert_refused(response, client, "token_audience", "could not confirm")


def test_a_token_from_another_issuer_is_refused(client, cast, sso, idp):
    response = sign_in(client, sso, idp, email=cast.sam.email, iss="https://evil.example/")
    assert_refused(response, client, "token_issuer", "could not confirm")


def test_an_expired_token_is_refused(client, cast, sso, idp):
    now = int(time.time())
    response = sign_in(client, sso, idp, email=cast.sam.email, iat=now - 900, exp=now - 300)
    assert_refused(response, client, "token_expired", "could not confirm")


def test_a_token_issued_in_the_future_is_refused(client, cast, sso, idp):
    now = int(time.time())
    response = sign_in(client, sso, idp, email=cast.sam.email, iat=now + 3600, exp=now + 7200)
    assert_refused(response, client, "token_invalid", "could not confirm")


def test_an_unsigned_token_alg_none_is_refused(client, cast, sso, idp):
    location = begin(client, sso)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    token = unsigned({"alg": "none", "typ": "JWT"}, idp.claims(query, email=cast.sam.email))
    code, state = idp.authorize(location, id_token=token)
    response = client.get(reverse("sso_callback"), {"code": code, "state": state})
    assert_refused(response, client, "token_algorithm", "could not confirm")


def test_hs256_signed_with_the_providers_public_key_is_refused(client, cast, sso, idp):
    location = begin(client, sso)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    token = hs256_with(idp.public_pem(), idp.claims(query, email=cast.sam.email), idp.key.kid)
    code, state = idp.authorize(location, id_token=token)
    response = client.get(reverse("sso_callback"), {"code": code, "state": state})
    assert_refused(response, client, "token_algorithm", "could not confirm")


def test_key_confusion_fails_at_the_signature_too_not_only_at_the_algorithm_list(sso, idp, monkeypatch):
    """Belt and braces: even if HS256 were on the allowed list, no HMAC key is ever made from the JWKS."""
    import accounts.sso

    monkeypatch.setattr(accounts.sso, "SIGNED_ALGORITHMS", [*accounts.sso.SIGNED_ALGORITHMS, "HS256"])
    token = hs256_with(idp.public_pem(), idp.claims({"nonce": "n"}, email="sam@oakfield.example.org"), idp.key.kid)
    with pytest.raises(accounts.sso.Refused) as refused:
        verify_id_token(sso, token, "n")
    assert refused.value.reason == "token_signature"


def test_a_token_signed_with_a_key_the_provider_never_published_is_refused(client, cast, sso, idp):
    from joserfc.jwk import RSAKey

    forged_key = RSAKey.generate_key(2048, parameters={"kid": idp.key.kid})  # same kid, attacker's key
    location = begin(client, sso)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    token = idp.sign(idp.claims(query, email=cast.sam.email), key=forged_key)
    code, state = idp.authorize(location, id_token=token)
    response = client.get(reverse("sso_callback"), {"code": code, "state": state})
    assert_refused(response, client, "token_signature", "could not confirm")


def test_a_tampered_token_is_refused(client, cast, sso, idp):
    location = begin(client, sso)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    head, _payload, signature = idp.sign(idp.claims(query, email=cast.sam.email)).split(".")
    from tests.oidc_provider import b64

    forged_payload = b64(json.dumps(idp.claims(query, email=cast.helen.email)).encode())
    code, state = idp.authorize(location, id_token=f"{head}.{forged_payload}.{signature}")
    response = client.get(reverse("sso_callback"), {"code": code, "state": state})
    assert_refused(response, client, "token_signature", "could not confirm")


def test_keys_are_cached_and_a_rotated_key_is_fetched(client, cast, sso, idp):
    assert sign_in(client, sso, idp, email=cast.sam.email).status_code == 302
    client.post(reverse("logout"))
    fetched = idp.jwks_requests
    assert sign_in(client, sso, idp, email=cast.sam.email).status_code == 302
    assert idp.jwks_requests == fetched  # cached
    client.post(reverse("logout"))
    idp.rotate("key-2")
    with time_machine.travel(timedelta(seconds=61)):
        assert sign_in(client, sso, idp, email=cast.sam.email).status_code == 302
    assert idp.jwks_requests == fetched + 1


def test_unknown_key_ids_cannot_make_us_fetch_the_keys_again_and_again(client, cast, sso, idp):
    from joserfc.jwk import RSAKey

    assert sign_in(client, sso, idp, email=cast.sam.email).status_code == 302
    client.post(reverse("logout"))
    fetched = idp.jwks_requests
    junk = RSAKey.generate_key(2048, parameters={"kid": "junk"})
    for _ in range(3):
        location = begin(client, sso)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        code, state = idp.authorize(location, id_token=idp.sign(idp.claims(query, email=cast.sam.email), key=junk))
        client.get(reverse("sso_callback"), {"code": code, "state": state})
    assert idp.jwks_requests == fetched


# --- Who gets in -----------------------------------------------------------------------------------


def test_entra_a_token_from_another_tenant_with_the_same_domain_is_refused(client, cast, sso, idp):
    entra(sso)
    response = sign_in(client, sso, idp, email=cast.sam.email, tid=OTHER_TENANT, xms_edov=True)
    assert_refused(response, client, "tenant", "different Microsoft 365 organisation")


def test_entra_the_right_tenant_with_a_verified_domain_signs_in(client, cast, sso, idp):
    entra(sso)
    response = sign_in(client, sso, idp, email=cast.sam.email, tid=TENANT, xms_edov=True, email_verified=None)
    assert response.status_code == 302
    assert signed_in_as(client) == cast.sam


def test_entra_an_email_the_tenant_does_not_vouch_for_is_refused(client, cast, sso, idp):
    """nOAuth: Entra's `email` can be typed by the user; without xms_edov it proves nothing."""
    entra(sso)
    response = sign_in(
        client, sso, idp, email=cast.helen.email, preferred_username=cast.helen.email, tid=TENANT, email_verified=None
    )
    assert_refused(response, client, "email_unverified", "has not confirmed the email address")


def test_google_another_hosted_domain_is_refused(client, cast, sso, idp):
    sso.kind, sso.hosted_domain = ProviderKind.GOOGLE, "oakfield.example.org"
    sso.save()
    response = sign_in(client, sso, idp, email=cast.sam.email, hd="gmail.com")
    assert_refused(response, client, "hosted_domain", "not part of your trust's Google Workspace")
    assert sign_in(client, sso, idp, email=cast.sam.email, hd="oakfield.example.org").status_code == 302


def test_an_unverified_email_is_refused(client, cast, sso, idp):
    response = sign_in(client, sso, idp, email=cast.sam.email, email_verified=False)
    assert_refused(response, client, "email_unverified", "has not confirmed the email address")


def test_an_email_outside_the_allowed_domains_is_refused(client, cast, sso, idp):
    outsider = person("Ursula Out", SchoolFactory(trust=cast.trust), Role.STAFF, email="ursula@gmail.com")
    response = sign_in(client, sso, idp, email=outsider.email)
    assert_refused(response, client, "domain", "cannot be used to sign in with that email address")
    assert last_refusal().detail["domain"] == "gmail.com"


def test_an_unknown_person_is_refused_and_not_created(client, cast, sso, idp):
    response = sign_in(client, sso, idp, email="newcomer@oakfield.example.org")
    assert_refused(response, client, "unknown_user", "There is no PolicyHub account for that email address")
    assert not User.objects.filter(email="newcomer@oakfield.example.org").exists()


def test_create_staff_on_first_sign_in_adds_them_as_staff_at_the_named_school(client, cast, sso, idp):
    sso.create_staff_at = cast.brookside
    sso.save()
    response = sign_in(client, sso, idp, email="Newcomer@Brookside.example.org", name="Nia Newcomer")
    assert response.status_code == 302
    user = User.objects.get(email="newcomer@brookside.example.org")
    assert signed_in_as(client) == user and user.full_name == "Nia Newcomer" and not user.has_usable_password()
    assert list(Membership.objects.filter(user=user).values_list("school", "role")) == [(cast.brookside.pk, Role.STAFF)]
    created = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="user", object_id=str(user.pk))
    assert created.detail == {"via": "sso", "provider": "riverside", "role": Role.STAFF}


def test_someone_whose_roles_were_all_removed_is_not_added_back(client, cast, sso, idp):
    sso.create_staff_at = cast.oakfield
    sso.save()
    Membership.objects.filter(user=cast.sam).delete()
    response = sign_in(client, sso, idp, email=cast.sam.email)
    assert_refused(response, client, "not_in_trust", "no role at this trust's schools")
    assert not Membership.objects.filter(user=cast.sam).exists()


def test_a_switched_off_account_is_refused(client, cast, sso, idp):
    User.objects.filter(pk=cast.sam.pk).update(is_active=False)
    response = sign_in(client, sso, idp, email=cast.sam.email)
    assert_refused(response, client, "inactive", "switched off")


def test_an_admin_site_account_cannot_sign_in_with_a_trusts_provider(client, cast, sso, idp):
    User.objects.filter(pk=cast.sam.pk).update(is_staff=True)
    response = sign_in(client, sso, idp, email=cast.sam.email)
    assert_refused(response, client, "admin_account", "Administrator accounts sign in with their password")


def test_a_person_with_roles_at_another_trust_is_refused(client, cast, sso, idp):
    """One trust's provider must not open another trust's data to someone who holds roles at both."""
    elsewhere = SchoolFactory(trust=TrustFactory(name="Hillside Trust", slug="hillside"))
    Membership.objects.create(user=cast.sam, school=elsewhere, role=Role.DSL)
    response = sign_in(client, sso, idp, email=cast.sam.email)
    assert_refused(response, client, "other_trust", "covers schools outside this trust")


def test_a_domain_can_belong_to_one_provider_only(cast, sso, settings):
    from accounts.forms import SingleSignOnProviderForm

    other_trust = TrustFactory(name="Hillside Trust", slug="hillside")
    form = SingleSignOnProviderForm(
        {
            "trust": other_trust.pk,
            "slug": "hillside",
            "label": "Hillside",
            "kind": ProviderKind.OIDC,
            "is_active": True,
            "issuer": "https://idp.hillside.example/",
            "authorization_endpoint": "https://idp.hillside.example/a",
            "token_endpoint": "https://idp.hillside.example/t",
            "jwks_uri": "https://idp.hillside.example/k",
            "client_id": "x",
            "client_secret_env": "SSO_HILLSIDE",
            "allowed_domains": "Oakfield.example.org",
            "password_sign_in": True,
        }
    )
    assert not form.is_valid()
    assert "Another provider already signs in oakfield.example.org" in str(form.errors["allowed_domains"])


# --- Roles from groups -----------------------------------------------------------------------------


def test_groups_in_the_token_give_no_role_without_a_mapping(client, cast, sso, idp):
    before = set(Membership.objects.filter(user=cast.sam).values_list("school", "role"))
    assert sign_in(client, sso, idp, email=cast.sam.email, groups=["dsl-group", "trust-admins"]).status_code == 302
    assert set(Membership.objects.filter(user=cast.sam).values_list("school", "role")) == before


def test_a_mapped_group_grants_its_role_and_every_step_is_audited(client, cast, sso, idp):
    mapping = SingleSignOnGroupRole.objects.create(provider=sso, group="dsl-group", school=cast.oakfield, role=Role.DSL)
    changed = AuditEvent.objects.get(action=AuditAction.CHANGE, object_type="singlesignongrouprole")
    assert changed.object_id == str(mapping.pk) and changed.detail["role"] == Role.DSL
    # a mapping to another trust's school is never applied
    elsewhere = SchoolFactory(trust=TrustFactory(name="Hillside Trust", slug="hillside"))
    SingleSignOnGroupRole.objects.create(provider=sso, group="dsl-group", school=elsewhere, role=Role.HEAD)
    sign_in(client, sso, idp, email=cast.sam.email, groups=["dsl-group"])
    assert Membership.objects.filter(user=cast.sam, school=cast.oakfield, role=Role.DSL).exists()
    assert not Membership.objects.filter(user=cast.sam, school=elsewhere).exists()
    granted = AuditEvent.objects.get(action=AuditAction.ROLE_CHANGE, detail__via="sso_group")
    assert granted.detail["provider"] == "riverside" and granted.detail["mapping"] == mapping.pk
    # Sam is now a DSL: the authenticator code is required as for any DSL
    assert client.get(reverse("home")).status_code == 302


def test_removing_a_mapping_is_audited(cast, sso):
    mapping = SingleSignOnGroupRole.objects.create(provider=sso, group="g", school=cast.oakfield, role=Role.DSL)
    mapping.delete()
    assert AuditEvent.objects.filter(
        action=AuditAction.CHANGE, object_type="singlesignongrouprole", detail__op="removed"
    ).exists()


# --- The second factor -----------------------------------------------------------------------------


def test_a_head_whose_provider_used_mfa_is_not_asked_for_the_code_when_the_trust_allows(client, cast, sso, idp):
    sso.trust_provider_mfa = True
    sso.save()
    authenticator(cast.helen)
    sign_in(client, sso, idp, email=cast.helen.email, amr=["pwd", "mfa"])
    assert client.get(reverse("home")).status_code == 200
    event = AuditEvent.objects.filter(action=AuditAction.SIGN_IN).latest("pk")
    assert event.detail == {"method": "sso", "provider": "riverside", "mfa": True}


def test_a_head_without_the_mfa_claim_is_asked_for_the_code(client, cast, sso, idp):
    sso.trust_provider_mfa = True
    sso.save()
    device = authenticator(cast.helen)
    sign_in(client, sso, idp, email=cast.helen.email, amr=["pwd"])
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor_verify"))
    client.post(reverse("two_factor_verify"), {"code": current_code(device)})
    assert client.get(reverse("home")).status_code == 200


def test_the_mfa_claim_counts_for_nothing_unless_the_trust_allows_it(client, cast, sso, idp):
    authenticator(cast.helen)
    sign_in(client, sso, idp, email=cast.helen.email, amr=["mfa"])
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor_verify"))


def test_a_head_with_no_authenticator_is_sent_to_set_one_up_without_the_mfa_claim(client, cast, sso, idp):
    sign_in(client, sso, idp, email=cast.helen.email)
    response = client.get(reverse("home"))
    assert response["Location"].startswith(reverse("two_factor_setup"))


# --- Password sign-in and the break-glass account ------------------------------------------------------


def password(client, user):
    return client.post(reverse("login"), {"username": user.email, "password": "correct horse battery staple"})


def test_password_sign_in_is_refused_when_the_trust_made_sso_the_only_way_in(client, cast, sso):
    sso.password_sign_in, sso.break_glass_user = False, cast.tom
    sso.save()
    response = password(client, cast.sam)
    assert response.status_code == 200
    assert "Your trust signs in with Riverside accounts only" in response.content.decode()
    assert signed_in_as(client) is None
    event = last_refusal()
    assert event.object_type == "password" and event.detail["reason"] == "password_sign_in_off"


def test_the_break_glass_trust_admin_still_signs_in_with_password_and_code(client, cast, sso):
    sso.password_sign_in, sso.break_glass_user = False, cast.tom
    sso.save()
    device = authenticator(cast.tom)
    assert password(client, cast.tom).status_code == 302
    client.post(reverse("two_factor_verify"), {"code": current_code(device)})
    assert client.get(reverse("home")).status_code == 200


def test_password_sign_in_stays_for_other_trusts(client, cast, sso):
    sso.password_sign_in, sso.break_glass_user = False, cast.tom
    sso.save()
    school = SchoolFactory(trust=TrustFactory(name="Hillside Trust", slug="hillside"))
    hana = person("Hana Hill", school, Role.STAFF)
    assert password(client, hana).status_code == 302


def test_password_sign_in_cannot_be_turned_off_without_a_break_glass_trust_admin(cast, sso):
    from accounts.forms import SingleSignOnProviderForm

    data = {f: getattr(sso, f) for f in SingleSignOnProviderForm.Meta.fields if f not in ("trust",)}
    data.update(trust=cast.trust.pk, password_sign_in=False, break_glass_user="", create_staff_at="")
    form = SingleSignOnProviderForm(data, instance=sso)
    assert not form.is_valid() and "break_glass_user" in form.errors
    data["break_glass_user"] = cast.sam.pk  # staff, not a trust admin
    form = SingleSignOnProviderForm(data, instance=sso)
    assert not form.is_valid() and "must be a trust admin" in str(form.errors["break_glass_user"])


# --- Sessions, throttling, the audit trail a minute later ----------------------------------------------


def test_sso_sessions_end_12_hours_after_sign_in(client, cast, sso, idp):
    sign_in(client, sso, idp, email=cast.sam.email)
    assert client.get(reverse("home")).status_code == 200
    with time_machine.travel(timedelta(hours=12, minutes=1)):
        response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_sign_out_everywhere_ends_sso_sessions(cast, sso, idp):
    laptop, phone = Client(), Client()
    sign_in(laptop, sso, idp, email=cast.sam.email)
    sign_in(phone, sso, idp, email=cast.sam.email)
    phone.post(reverse("sign_out_everywhere"))
    assert laptop.get(reverse("home")).status_code == 302


def test_the_callback_is_throttled_per_address_before_any_code_is_exchanged(client, cast, sso, idp, settings):
    settings.SSO_CALLBACK_FAILURES_PER_HOUR = 3
    for _ in range(3):
        sign_in(client, sso, idp, email=cast.sam.email, aud="wrong")
    exchanged = idp.token_requests
    response = sign_in(client, sso, idp, email=cast.sam.email)
    assert response.status_code == 429
    assert "Too many sign-ins from this address" in response.content.decode()
    assert idp.token_requests == exchanged and signed_in_as(client) is None
    # another address is not affected
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert sign_in(other, sso, idp, email=cast.sam.email).status_code == 302
    # and the limit lifts after the hour
    with time_machine.travel(timedelta(hours=1, minutes=1)):
        assert sign_in(client, sso, idp, email=cast.sam.email).status_code == 302


def test_refused_password_sign_ins_do_not_count_towards_the_callback_limit(client, cast, sso, idp, settings):
    settings.SSO_CALLBACK_FAILURES_PER_HOUR = 2
    sso.password_sign_in, sso.break_glass_user = False, cast.tom
    sso.save()
    for _ in range(3):
        password(Client(), cast.sam)
    assert sign_in(client, sso, idp, email=cast.sam.email).status_code == 302


def test_refusals_name_no_stranger_and_are_sealed_a_minute_later(client, cast, sso, idp, settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchor")
    sign_in(client, sso, idp, email="stranger@oakfield.example.org")
    sign_in(client, sso, idp, email=cast.sam.email)
    refusal = AuditEvent.objects.get(action=AuditAction.SIGN_IN_FAILED, detail__reason="unknown_user")
    assert "stranger" not in str(refusal.detail) and refusal.actor_email == ""
    with time_machine.travel(timedelta(minutes=2)):
        assert seal() > 0
    assert verify().ok


# --- The trust admin's pages --------------------------------------------------------------------------


def test_a_trust_admin_sets_up_a_provider_the_secret_is_never_shown_and_the_change_is_audited(cast, settings):
    from tests.auth import verified_login

    settings.SSO_SECRET_KEY = Fernet.generate_key().decode()
    client = Client()
    verified_login(client, cast.tom)
    assert "No provider yet" in client.get(reverse("sso_providers")).content.decode()
    response = client.post(
        reverse("sso_provider_new"),
        {
            "trust": cast.trust.pk,
            "slug": "riverside-365",
            "label": "Riverside Microsoft 365",
            "kind": ProviderKind.ENTRA,
            "is_active": "on",
            "tenant_id": TENANT,
            "client_id": "app-id",
            "client_secret": "s3cret-value-from-entra",
            "allowed_domains": "oakfield.example.org",
            "password_sign_in": "on",
        },
    )
    provider = SingleSignOnProvider.objects.get(slug="riverside-365")
    assert response.status_code == 302 and response["Location"] == reverse("sso_provider_edit", args=[provider.pk])
    page = client.get(response["Location"]).content.decode()
    assert "s3cret-value-from-entra" not in page and provider.client_secret_encrypted not in page
    assert "stored, encrypted" in page and "/accounts/sso/callback/" in page
    changed = AuditEvent.objects.get(action=AuditAction.CHANGE, object_type="singlesignonprovider")
    assert changed.actor == cast.tom and changed.detail["op"] == "created"
    assert "s3cret" not in str(changed.detail)


def test_a_trust_admin_maps_a_group_only_to_their_trusts_schools(cast, sso):
    from tests.auth import verified_login

    client = Client()
    verified_login(client, cast.tom)
    url = reverse("sso_mapping_add", args=[sso.pk])
    client.post(url, {"group": "dsl-group", "school": cast.oakfield.pk, "role": Role.DSL})
    assert SingleSignOnGroupRole.objects.filter(provider=sso, group="dsl-group", role=Role.DSL).exists()
    elsewhere = SchoolFactory(trust=TrustFactory(name="Hillside Trust", slug="hillside"))
    client.post(url, {"group": "x", "school": elsewhere.pk, "role": Role.HEAD})
    assert not SingleSignOnGroupRole.objects.filter(school=elsewhere).exists()
    mapping = SingleSignOnGroupRole.objects.get(group="dsl-group")
    client.post(reverse("sso_mapping_remove", args=[sso.pk, mapping.pk]))
    assert not SingleSignOnGroupRole.objects.exists()
    ops = list(
        AuditEvent.objects.filter(object_type="singlesignongrouprole")
        .order_by("pk")
        .values_list("detail__op", flat=True)
    )
    assert ops == ["created", "removed"]


@pytest.mark.parametrize("who", ["helen", "dina", "sam", "priya", "olive"])
def test_only_a_trust_admin_of_the_trust_sees_its_providers(cast, sso, who):
    from tests.auth import verified_login

    client = Client()
    verified_login(client, getattr(cast, who))
    # The pages are refused by the page table (403); the provider itself is an object: 404.
    for url in (reverse("sso_providers"), reverse("sso_provider_new")):
        assert client.get(url).status_code == 403
    assert client.get(reverse("sso_provider_edit", args=[sso.pk])).status_code == 404
    assert client.post(reverse("sso_mapping_add", args=[sso.pk]), {"group": "g"}).status_code == 404


def test_another_trusts_admin_gets_404_for_this_trusts_provider(cast, sso):
    from tests.auth import verified_login

    school = SchoolFactory(trust=TrustFactory(name="Hillside Trust", slug="hillside"))
    hugo = person("Hugo Hill", school, Role.TRUST_ADMIN)
    client = Client()
    verified_login(client, hugo)
    assert "Riverside accounts" not in client.get(reverse("sso_providers")).content.decode()
    assert client.get(reverse("sso_provider_edit", args=[sso.pk])).status_code == 404
    response = client.post(reverse("sso_provider_edit", args=[sso.pk]), {"label": "hijacked"})
    assert response.status_code == 404
    sso.refresh_from_db()
    assert sso.label == "Riverside accounts"


# --- Roles from groups end with the group ---------------------------------------------------------


def test_a_role_granted_by_a_group_ends_when_the_token_no_longer_carries_it(client, cast, sso, idp):
    SingleSignOnGroupRole.objects.create(provider=sso, group="dsl-group", school=cast.oakfield, role=Role.DSL)
    sign_in(client, sso, idp, email=cast.sam.email, groups=["dsl-group"])
    assert Membership.objects.filter(user=cast.sam, school=cast.oakfield, role=Role.DSL).exists()
    client.post(reverse("logout"))
    # Sam left the group at the provider: the next sign-on takes the role away, audited.
    sign_in(client, sso, idp, email=cast.sam.email, groups=["another-group"])
    assert not Membership.objects.filter(user=cast.sam, school=cast.oakfield, role=Role.DSL).exists()
    assert Membership.objects.filter(user=cast.sam, school=cast.oakfield, role=Role.STAFF).exists()
    removed = AuditEvent.objects.filter(action=AuditAction.ROLE_CHANGE, detail__op="removed").latest("pk")
    assert removed.detail["user"] == cast.sam.pk and removed.detail["role"] == Role.DSL
    # A minute later Sam opens a DSL's page: the role is gone, so the page refuses.
    assert client.get(reverse("incidents:queue")).status_code == 403


def test_a_role_given_in_policyhub_is_never_taken_away_by_a_sign_on(client, cast, sso, idp):
    SingleSignOnGroupRole.objects.create(provider=sso, group="dsl-group", school=cast.oakfield, role=Role.DSL)
    Membership.objects.create(user=cast.sam, school=cast.oakfield, role=Role.DSL)  # given by the head
    sign_in(client, sso, idp, email=cast.sam.email, groups=["dsl-group"])
    client.post(reverse("logout"))
    sign_in(client, sso, idp, email=cast.sam.email, groups=[])
    assert Membership.objects.filter(user=cast.sam, school=cast.oakfield, role=Role.DSL).exists()
    # ...and a token without a groups claim changes nothing either way.
    mapped = SingleSignOnGroupRole.objects.create(provider=sso, group="gov", school=cast.oakfield, role=Role.GOVERNOR)
    client.post(reverse("logout"))
    sign_in(client, sso, idp, email=cast.sam.email, groups=[mapped.group])
    client.post(reverse("logout"))
    sign_in(client, sso, idp, email=cast.sam.email)
    assert Membership.objects.filter(user=cast.sam, school=cast.oakfield, role=Role.GOVERNOR).exists()


def test_removing_a_mapping_removes_the_roles_it_granted_but_not_those_another_mapping_gives(client, cast, sso, idp):
    from accounts.sso import withdraw_mapping

    dsl = SingleSignOnGroupRole.objects.create(provider=sso, group="dsl-group", school=cast.oakfield, role=Role.DSL)
    gov = SingleSignOnGroupRole.objects.create(provider=sso, group="gov-a", school=cast.oakfield, role=Role.GOVERNOR)
    SingleSignOnGroupRole.objects.create(provider=sso, group="gov-b", school=cast.oakfield, role=Role.GOVERNOR)
    sign_in(client, sso, idp, email=cast.sam.email, groups=["dsl-group", "gov-a", "gov-b"])
    assert withdraw_mapping(dsl) == 1
    assert not Membership.objects.filter(user=cast.sam, role=Role.DSL).exists()
    assert withdraw_mapping(gov) == 0  # gov-b still gives the governor role
    assert Membership.objects.filter(user=cast.sam, role=Role.GOVERNOR).exists()


# --- The provider as a second process (what the Chromium journeys use) -----------------------------


def _authorize_once(url: str, verifier: str) -> dict:
    """One /authorize + /token round trip against the provider process; the ID token's claims."""
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": "http://testserver/accounts/sso/callback/",
            "state": "s",
            "nonce": "n",
            "code_challenge": b64(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
        }
    )
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", "/authorize?" + query)
    response = conn.getresponse()
    response.read()
    assert response.status == 302
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(response.getheader("Location")).query))["code"]
    form = urllib.parse.urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": "http://testserver/accounts/sso/callback/",
            "code_verifier": verifier,
        }
    )
    conn.request("POST", "/token", form, {"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    assert response.status == 200
    payload = body["id_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_the_provider_process_signs_in_whoever_the_test_names_once_and_ends_with_its_parent():
    idp = ProviderProcess()
    try:
        assert idp.url.startswith("http://127.0.0.1:")
        idp.sign_in_next(email="sam@oakfield.example.org", amr=["pwd", "mfa"])
        claims = _authorize_once(idp.url, "v" * 43)
        assert claims["email"] == "sam@oakfield.example.org"
        assert claims["amr"] == ["pwd", "mfa"]
        assert claims["iss"] == idp.issuer and claims["nonce"] == "n"
        # Used once: the next /authorize is nobody in particular, not Sam again.
        assert "email" not in _authorize_once(idp.url, "w" * 43)
        # A tampered token: the payload says Helen, the signature was made for Sam's.
        idp.sign_in_next(email="sam@oakfield.example.org", tampered_with={"email": "helen@oakfield.example.org"})
        assert _authorize_once(idp.url, "x" * 43)["email"] == "helen@oakfield.example.org"
    finally:
        idp.close()
    # Closing its stdin (what the test process's exit does too) ends it: no orphan provider.
    assert idp.process.poll() is not None
