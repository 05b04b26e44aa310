"""Single sign-on with a trust's OpenID Connect provider (Microsoft Entra ID, Google Workspace or
another OpenID Connect provider). docs/notes/sso.md is the operator's guide.

The flow is the authorization code flow with PKCE. `start()` keeps, in this browser's session, a
random `state` (single use), `nonce` and PKCE verifier for each flow it begins; `finish()` takes the
flow back by its `state`, exchanges the code, and accepts the ID token only if:
- its header names an asymmetric algorithm (`none` and every HS* are refused before any key is
  looked at, so a token "signed" with the provider's public key as an HMAC secret never verifies);
- its signature verifies with the provider's published keys (JWKS, cached, fetched again when a
  token names a key the cache does not hold, so a rotation is followed);
- `iss` is the provider's issuer, `aud` holds our client id (and `azp` is ours if there are several
  audiences), `exp` has not passed, `nonce` is the one this flow sent;
- for Entra, `tid` is the trust's tenant; for Google, `hd` is the trust's hosted domain;
- the email address is verified by the provider (for Entra: `xms_edov` or `email_verified`, never
  `preferred_username`, which a guest account can set) and in the provider's allowed domains.
The person is then the PolicyHub user with that email, who must hold roles only at the trust's
schools and not be an admin-site account. Roles come from the provider only through the trust's
explicit group mappings. Every refusal is a failed sign-in in the audit trail with the provider and
the reason, and counts towards the callback's per-address limit.

Authlib supplies the PKCE challenge and random tokens, joserfc (Authlib's JOSE library) the JWS and
JWK handling. The two HTTP calls (token exchange, JWKS) use the standard library: Authlib's HTTP
clients need requests or httpx, which PolicyHub does not otherwise use.
"""

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .audit import client_ip, record
from .models import (
    AuditAction,
    AuditEvent,
    Membership,
    ProviderKind,
    Role,
    SingleSignOnGroupRole,
    SingleSignOnProvider,
    User,
)

log = logging.getLogger("policyhub.sign_in")

FLOWS_SESSION_KEY = "policyhub_sso_flows"
FLOW_LIFETIME = 10 * 60  # seconds a started sign-in may take at the provider
MAX_FLOWS = 5  # per session: several tabs, but not an unbounded session
LEEWAY = 60  # seconds of clock skew allowed on exp/iat/nbf
HTTP_TIMEOUT = 10
JWKS_CACHE_SECONDS = 60 * 60
JWKS_REFETCH_AFTER = 60  # an unknown `kid` fetches the keys again, at most this often
SIGNED_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
MFA_METHODS = {"mfa"}  # RFC 8176: "mfa" means more than one factor was used


class Refused(Exception):
    """A sign-in this module will not complete; `reason` goes to the audit trail."""

    def __init__(self, reason: str, provider: SingleSignOnProvider | None = None, user=None, domain: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.provider = provider
        self.user = user
        self.domain = domain

    @property
    def message(self) -> str:
        return refusal_message(self.reason, self.provider)


_NOT_CONFIRMED = (
    "{provider} could not confirm this sign-in. Try again; if it keeps happening, tell your trust's "
    "PolicyHub administrator."
)
MESSAGES = {
    "state": "This sign-in was started too long ago or in another browser. Start again from the sign-in page.",
    "provider_error": "{provider} did not complete the sign-in. Start again from the sign-in page.",
    "provider_unavailable": "{provider} could not be reached. Try again in a few minutes, or sign in with a password.",
    "tenant": "That account belongs to a different Microsoft 365 organisation from your trust's. "
    "Sign in with your school account.",
    "hosted_domain": "That account is not part of your trust's Google Workspace. Sign in with your school account.",
    "email_unverified": "{provider} has not confirmed the email address of that account, so PolicyHub cannot "
    "use it. Ask your IT administrator.",
    "domain": "{provider} cannot be used to sign in with that email address. Sign in with your school account.",
    "unknown_user": "There is no PolicyHub account for that email address. Ask your head teacher or trust "
    "administrator to add you.",
    "inactive": "That PolicyHub account is switched off. Ask your head teacher or trust administrator.",
    "admin_account": "Administrator accounts sign in with their password and authenticator code, not {provider}.",
    "other_trust": "Your PolicyHub account covers schools outside this trust, so it signs in with a password.",
    "not_in_trust": "Your PolicyHub account has no role at this trust's schools. Ask your head teacher.",
    "throttled": "Too many sign-ins from this address were refused in the last hour. Try again later.",
    "not_configured": "Sign-in with {provider} is not set up completely. Tell your trust's PolicyHub administrator.",
}


def refusal_message(reason: str, provider: SingleSignOnProvider | None) -> str:
    name = provider.label if provider is not None else "Your sign-in provider"
    return MESSAGES.get(reason, _NOT_CONFIRMED).format(provider=name)


# --- Provider settings ---------------------------------------------------------------------------


def endpoints(provider: SingleSignOnProvider) -> dict[str, str]:
    """Entra and Google endpoints follow from the tenant; a generic provider's are stored. A stored
    value wins (a national cloud, or the provider run locally in the tests)."""
    if provider.kind == ProviderKind.ENTRA:
        base = f"https://login.microsoftonline.com/{provider.tenant_id}"
        defaults = {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
        }
    elif provider.kind == ProviderKind.GOOGLE:
        defaults = {
            "issuer": "https://accounts.google.com",
            "authorization_endpoint": "https://accounts.google.com/o/oauth2/v2/auth",
            "token_endpoint": "https://oauth2.googleapis.com/token",
            "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
        }
    else:
        defaults = {}
    return {name: getattr(provider, name) or defaults.get(name, "") for name in ENDPOINT_FIELDS}


ENDPOINT_FIELDS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


def _fernet() -> Fernet:
    if not settings.SSO_SECRET_KEY:
        raise ImproperlyConfigured("Set SSO_SECRET_KEY to store client secrets in the database.")
    return Fernet(settings.SSO_SECRET_KEY.encode())


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def client_secret(provider: SingleSignOnProvider) -> str:
    """The secret from its environment variable, or decrypted from the database; "" if neither."""
    if provider.client_secret_env:
        return os.environ.get(provider.client_secret_env, "")
    if provider.client_secret_encrypted:
        try:
            return _fernet().decrypt(provider.client_secret_encrypted.encode()).decode()
        except InvalidToken:
            log.error("sso provider=%s: the stored client secret does not decrypt with SSO_SECRET_KEY", provider.pk)
    return ""


def redirect_uri(request=None) -> str:
    """The one redirect URI every provider is registered with (docs/notes/sso.md)."""
    return settings.SITE_URL.rstrip("/") + reverse("sso_callback")


def _allowed_url(url: str) -> bool:
    """HTTPS only, except the loopback address (a provider run locally in tests or development)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        return True
    try:
        return parts.scheme == "http" and ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        return parts.scheme == "http" and parts.hostname == "localhost"


def _http_json(url: str, form: dict | None = None) -> dict:
    if not _allowed_url(url):
        raise Refused("not_configured")
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=data, headers={"Accept": "application/json"})  # noqa: S310 (checked above)
    try:
        # _allowed_url above admits https (or http to the loopback address) only.
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as response:  # noqa: S310  # nosec B310
            body = json.loads(response.read(1_000_000))
    except urllib.error.HTTPError as error:
        # A refused code (reused, expired, wrong verifier) is the provider saying no, not an outage.
        raise Refused("token_exchange") from error
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        raise Refused("provider_unavailable") from error
    if not isinstance(body, dict):
        raise Refused("provider_unavailable")
    return body


# --- Starting a sign-in --------------------------------------------------------------------------


def start(request, provider: SingleSignOnProvider, next_url: str = "") -> str:
    """Begin a sign-in: remember state, nonce and PKCE verifier in this session; return the
    provider's authorization URL to send the browser to."""
    state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
    now = int(time.time())
    flows = {s: f for s, f in (request.session.get(FLOWS_SESSION_KEY) or {}).items() if now - f["at"] < FLOW_LIFETIME}
    while len(flows) >= MAX_FLOWS:
        flows.pop(min(flows, key=lambda s: flows[s]["at"]))
    flows[state] = {"provider": provider.pk, "nonce": nonce, "verifier": verifier, "at": now, "next": next_url}
    request.session[FLOWS_SESSION_KEY] = flows
    params = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": redirect_uri(request),
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
        "prompt": "select_account",
    }
    if provider.kind == ProviderKind.GOOGLE and provider.hosted_domain:
        params["hd"] = provider.hosted_domain  # a hint for the account chooser; `hd` in the token is what counts
    url = endpoints(provider)["authorization_endpoint"]
    if not _allowed_url(url):
        raise Refused("not_configured", provider)
    return f"{url}?{urllib.parse.urlencode(params)}"


def take_flow(request, state: str) -> dict:
    """The flow `state` names, removed from the session: a state is good for one callback."""
    flows = request.session.get(FLOWS_SESSION_KEY) or {}
    flow = flows.pop(state, None) if isinstance(state, str) and state else None
    request.session[FLOWS_SESSION_KEY] = flows
    if flow is None or int(time.time()) - flow["at"] >= FLOW_LIFETIME:
        raise Refused("state")
    return flow


# --- The ID token --------------------------------------------------------------------------------


def _b64json(segment: str) -> dict:
    padded = segment + "=" * (-len(segment) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _key_set(provider: SingleSignOnProvider, kid) -> KeySet:
    """The provider's public keys, cached; fetched again if `kid` is not among them (a rotation),
    but not more often than JWKS_REFETCH_AFTER, so junk tokens cannot make us hammer the provider."""
    uri = endpoints(provider)["jwks_uri"]
    cache_key = "sso-jwks:" + hashlib.sha256(uri.encode()).hexdigest()
    held = cache.get(cache_key)
    known = held is not None and any(k.get("kid") == kid for k in held["keys"])
    if held is None or (not known and time.time() - held["at"] > JWKS_REFETCH_AFTER):
        body = _http_json(uri)
        # Only public asymmetric keys: a symmetric ("oct") entry could turn an HMAC into a "signature".
        keys = [k for k in body.get("keys", []) if isinstance(k, dict) and k.get("kty") in ("RSA", "EC")]
        keys = [{p: v for p, v in k.items() if p not in ("d", "p", "q", "dp", "dq", "qi")} for k in keys]
        held = {"keys": keys, "at": time.time()}
        cache.set(cache_key, held, JWKS_CACHE_SECONDS)
    try:
        return KeySet.import_key_set({"keys": held["keys"]})
    except (JoseError, ValueError, TypeError) as error:
        raise Refused("token_signature", provider) from error


def verify_id_token(provider: SingleSignOnProvider, id_token, nonce: str) -> dict:
    """The ID token's claims, if it passes every check in the module docstring; else Refused."""
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        raise Refused("token_invalid", provider)
    try:
        header = _b64json(id_token.split(".")[0])
    except (ValueError, binascii.Error, UnicodeError) as error:
        raise Refused("token_invalid", provider) from error
    if header.get("alg") not in SIGNED_ALGORITHMS:
        raise Refused("token_algorithm", provider)
    keys = _key_set(provider, header.get("kid"))
    try:
        claims = jwt.decode(id_token, keys, algorithms=SIGNED_ALGORITHMS).claims
    except (JoseError, ValueError, TypeError) as error:
        raise Refused("token_signature", provider) from error
    expected = endpoints(provider)
    now = time.time()
    if claims.get("iss") != expected["issuer"]:
        raise Refused("token_issuer", provider)
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if provider.client_id not in audiences:
        raise Refused("token_audience", provider)
    if len(audiences) > 1 and claims.get("azp") != provider.client_id:
        raise Refused("token_audience", provider)
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now - LEEWAY:
        raise Refused("token_expired", provider)
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool) or iat > now + LEEWAY:
        raise Refused("token_invalid", provider)
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, int | float) or nbf > now + LEEWAY):
        raise Refused("token_invalid", provider)
    if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
        raise Refused("token_nonce", provider)
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise Refused("token_invalid", provider)
    return claims


def verified_email(provider: SingleSignOnProvider, claims: dict) -> str:
    """The email address the provider vouches for, inside the provider's allowed domains."""
    if provider.kind == ProviderKind.ENTRA:
        if str(claims.get("tid", "")).lower() != provider.tenant_id.lower():
            raise Refused("tenant", provider)
        # Entra's `email` may be any address a user typed; `xms_edov` says the tenant owns its domain.
        vouched = claims.get("xms_edov") is True or claims.get("email_verified") is True
    elif provider.kind == ProviderKind.GOOGLE:
        if str(claims.get("hd", "")).lower() != provider.hosted_domain.lower():
            raise Refused("hosted_domain", provider)
        vouched = claims.get("email_verified") is True
    else:
        vouched = claims.get("email_verified") is True
    email = claims.get("email")
    if not vouched or not isinstance(email, str) or email.count("@") != 1:
        raise Refused("email_unverified", provider)
    email = email.strip().lower()
    domain = email.rsplit("@", 1)[1]
    if domain not in provider.domains():
        raise Refused("domain", provider, domain=domain)
    return email


# --- Who the person is ---------------------------------------------------------------------------


def _created_staff(request, provider: SingleSignOnProvider, email: str, claims: dict):
    school = provider.create_staff_at
    if school is None or school.trust_id != provider.trust_id:
        raise Refused("unknown_user", provider, domain=email.rsplit("@", 1)[1])
    name = claims.get("name") if isinstance(claims.get("name"), str) else ""
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=None, full_name=(name or email)[:150])
            Membership.objects.create(user=user, school=school, role=Role.STAFF)
    except IntegrityError:  # the same person's other tab got there first
        return User.objects.get(email=email)
    record(
        AuditAction.CREATE,
        request=request,
        actor=user,
        object_type="user",
        object_id=user.pk,
        school_id=school.pk,
        detail={"via": "sso", "provider": provider.slug, "role": Role.STAFF},
    )
    return user


def map_user(request, provider: SingleSignOnProvider, email: str, claims: dict):
    user = User.objects.filter(email=email).first()
    if user is None:
        user = _created_staff(request, provider, email, claims)
    if not user.is_active:
        raise Refused("inactive", provider, user=user)
    if user.is_staff or user.is_superuser:
        # The admin site reaches every trust's data: a trust's provider must not open it.
        raise Refused("admin_account", provider, user=user)
    trusts = set(Membership.objects.filter(user=user).values_list("school__trust_id", flat=True))
    if trusts - {provider.trust_id}:
        # A trust's provider vouches for its own people only; it must not open another trust's data.
        raise Refused("other_trust", provider, user=user)
    apply_group_roles(request, provider, user, claims)
    if not Membership.objects.filter(user=user, school__trust_id=provider.trust_id).exists():
        raise Refused("not_in_trust", provider, user=user)
    return user


def apply_group_roles(request, provider: SingleSignOnProvider, user, claims: dict) -> list[Membership]:
    """Bring the roles this provider's group mappings give `user` in line with the token's groups:
    grant each mapped role the person lacks, and remove each role an earlier sign-on granted whose
    group the token no longer carries (they left the group, or the mapping went). A token without a
    `groups` claim changes nothing; a role given in PolicyHub is never removed here. Every grant and
    removal is audited (removals by the Membership signal, accounts/signals.py)."""
    groups = claims.get("groups")
    if not isinstance(groups, list):
        return []
    groups = {g for g in groups if isinstance(g, str)}
    mappings = list(
        provider.group_roles.filter(group__in=groups, school__trust_id=provider.trust_id).select_related("school")
    )
    wanted = {(m.school_id, m.role) for m in mappings}
    for stale in Membership.objects.filter(user=user, granted_by=provider):
        if (stale.school_id, stale.role) not in wanted:
            stale.delete()
    granted = []
    for mapping in mappings:
        membership, created = Membership.objects.get_or_create(
            user=user, school=mapping.school, role=mapping.role, defaults={"granted_by": provider}
        )
        if created:
            granted.append(membership)
            record(
                AuditAction.ROLE_CHANGE,
                request=request,
                actor=user,
                object_type="membership",
                object_id=membership.pk,
                school_id=mapping.school_id,
                detail={"user": user.pk, "role": mapping.role, "op": "granted", "via": "sso_group"}
                | {"provider": provider.slug, "mapping": mapping.pk},
            )
    return granted


def withdraw_mapping(mapping: SingleSignOnGroupRole) -> int:
    """Delete a group mapping and the roles it granted, unless another mapping of the same provider
    gives the same role at the same school (the next sign-on then settles who keeps it)."""
    with transaction.atomic():
        provider = mapping.provider
        still_given = provider.group_roles.filter(school=mapping.school_id, role=mapping.role).exclude(pk=mapping.pk)
        mapping.delete()
        if still_given.exists():
            return 0
        removed = 0
        for membership in Membership.objects.filter(granted_by=provider, school=mapping.school_id, role=mapping.role):
            membership.delete()
            removed += 1
        return removed


def used_mfa(claims: dict) -> bool:
    amr = claims.get("amr")
    return isinstance(amr, list) and any(method in MFA_METHODS for method in amr)


@dataclass(frozen=True)
class SignIn:
    user: object
    provider: SingleSignOnProvider
    mfa: bool  # the provider said it used MFA, and the trust accepts that instead of PolicyHub's code
    next_url: str


def finish(request, params) -> SignIn:
    """Complete the callback: check everything, return who signs in. Raises Refused."""
    flow = take_flow(request, params.get("state", ""))
    provider = SingleSignOnProvider.objects.filter(pk=flow["provider"], is_active=True).first()
    if provider is None:
        raise Refused("state")
    try:
        return _finish(request, params, flow, provider)
    except Refused as refusal:
        refusal.provider = refusal.provider or provider
        raise


def _finish(request, params, flow: dict, provider: SingleSignOnProvider) -> SignIn:
    if params.get("error") or not params.get("code"):
        raise Refused("provider_error", provider)
    secret = client_secret(provider)
    if not secret:
        raise Refused("not_configured", provider)
    tokens = _http_json(
        endpoints(provider)["token_endpoint"],
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": redirect_uri(request),
            "client_id": provider.client_id,
            "client_secret": secret,
            "code_verifier": flow["verifier"],
        },
    )
    claims = verify_id_token(provider, tokens.get("id_token"), flow["nonce"])
    email = verified_email(provider, claims)
    user = map_user(request, provider, email, claims)
    return SignIn(
        user=user,
        provider=provider,
        mfa=provider.trust_provider_mfa and used_mfa(claims),
        next_url=flow.get("next") or "",
    )


# --- Refusals, the callback limit, password sign-in ------------------------------------------------


def record_refusal(request, refusal: Refused, object_type: str = "sso") -> None:
    """A failed sign-in with the provider and the reason. `object_type` "sso" counts towards the
    callback limit; a refused password sign-in ("password") does not."""
    provider = refusal.provider
    detail = {"method": "sso", "reason": refusal.reason}
    if provider is not None:
        detail["provider"] = provider.slug
    if refusal.domain:
        detail["domain"] = refusal.domain
    record(
        AuditAction.SIGN_IN_FAILED,
        request=request,
        actor=refusal.user,
        object_type=object_type,
        object_id=provider.pk if provider is not None else "",
        object_ref=provider.slug[:50] if provider is not None else "",
        detail=detail,
    )
    log.info("sso sign-in refused provider=%s reason=%s", provider.pk if provider else "-", refusal.reason)


def callback_throttled(request) -> bool:
    """Too many refused callbacks from this address in the last hour (the counterpart of the
    password lockouts: a stolen code or token cannot be tried over and over)."""
    ip = client_ip(request)
    since = timezone.now() - timedelta(hours=1)
    refused = AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED, object_type="sso", ip=ip, at__gte=since)
    return refused.count() >= settings.SSO_CALLBACK_FAILURES_PER_HOUR


def password_sign_in_refused(user) -> SingleSignOnProvider | None:
    """The provider that is the only way in for `user`, if one is: an active provider with password
    sign-in off at a trust where `user` holds a role, unless `user` is its break-glass account."""
    providers = SingleSignOnProvider.objects.filter(
        is_active=True, password_sign_in=False, trust__schools__memberships__user=user
    ).exclude(break_glass_user=user)
    return providers.distinct().first()
