"""Sign-in throttling, session lifetime, sign-out-everywhere and the security headers.

Lockouts come from django-axes, keyed on the account *and* the address together, so one person
cannot lock the DSL out from their own address and every lock ends after the cool-off. On top of
that, `SignInGuardBackend` caps failures per account per hour across all addresses (ASVS 2.2.1:
at most 100 an hour), except from addresses the account has signed in from before, so a
distributed guessing attack is stopped without locking the real person out at school. Anyone
the cap or a lockout refuses can ask for a one-time sign-in link by email (accounts.sign_in_link):
a way in that a stranger cannot block.
"""

import ipaddress
import time
from datetime import timedelta
from importlib import import_module

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth import logout
from django.core.checks import Error, Tags, register
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.cache import patch_cache_control

from .sign_in_link import take_pass_try

SESSION_STARTED_KEY = "policyhub_signed_in_at"
KNOWN_ADDRESS_DAYS = 30


def login_username(request, credentials):
    """The account a sign-in attempt is for, as stored: `Dina@X` and `dina@x ` are one account."""
    if credentials is not None and settings.AXES_USERNAME_FORM_FIELD in credentials:
        value = credentials[settings.AXES_USERNAME_FORM_FIELD]
    else:
        value = request.POST.get(settings.AXES_USERNAME_FORM_FIELD) if request is not None else None
    return value.strip().lower() if isinstance(value, str) else value


def client_ip(request):
    """The client's address: REMOTE_ADDR, or the one the outermost trusted proxy saw.

    With TRUSTED_PROXY_COUNT proxies each appending to X-Forwarded-For, the client is the
    TRUSTED_PROXY_COUNT-th entry from the right; anything further left was written by the client
    and could be forged, so it is never used.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def recent_failures(username: str) -> int:
    """Failed sign-ins for this account in the last hour, from any address."""
    since = timezone.now() - timedelta(hours=1)
    return AccessFailureLog.objects.filter(username=username, attempt_time__gte=since).count()


def is_known_address(username: str, ip_address: str | None) -> bool:
    """Has this account signed in successfully from this address lately?"""
    since = timezone.now() - timedelta(days=KNOWN_ADDRESS_DAYS)
    return AccessLog.objects.filter(username=username, ip_address=ip_address, attempt_time__gte=since).exists()


def account_rate_limited(request, username: str | None) -> bool:
    if not username:
        return False
    if recent_failures(username) < settings.LOGIN_FAILURES_PER_HOUR:
        return False
    return not is_known_address(username, request.axes_ip_address)


def holds_sign_in_pass(request, credentials) -> bool:
    """AXES_WHITELIST_CALLABLE: django-axes neither refuses nor counts a try made under a sign-in
    pass (SignInGuardBackend decided that, and counts the pass's own tries), so a typo by the
    real person after a stranger's attack does not land them back on the lockout page."""
    held = getattr(request, "policyhub_sign_in_pass", None)
    return held is not None and held == login_username(request, credentials)


class SignInGuardBackend(AxesStandaloneBackend):
    """Refuses a sign-in before the password is checked when the account is over its hourly
    limit (from an unknown address) or the account-and-address pair is locked out (django-axes).

    It never signs anyone in itself; PersonBackend (Django's ModelBackend), after it, checks the password.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:  # e.g. a management command: nothing to throttle by
            return None
        AxesProxyHandler.update_request(request)
        account = login_username(request, {"username": username})
        if settings.AXES_ENABLED and take_pass_try(request, account):
            # This browser opened a sign-in link from the account's email (accounts.sign_in_link):
            # neither limit applies to it, for a few tries. The password is still checked.
            request.policyhub_sign_in_pass = account
            return None
        if settings.AXES_ENABLED and account_rate_limited(request, account):
            # The same flag django-axes sets: AxesMiddleware answers with the lockout page, and the
            # refused attempt is not counted, so the hourly window is not extended by it.
            request.axes_locked_out = True
            raise PermissionDenied("Too many failed sign-ins for this account in the last hour.")
        return super().authenticate(request, username=username, password=password, **kwargs)


def end_all_sessions(user) -> int:
    """Delete every session of `user` from the session store; returns how many ended."""
    engine = import_module(settings.SESSION_ENGINE)
    store = engine.SessionStore
    ended = 0
    user_id = str(user.pk)
    for session in store.get_model_class().objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == user_id:
            store(session_key=session.session_key).delete()
            ended += 1
    return ended


class SessionLifetimeMiddleware:
    """Ends a session SESSION_ABSOLUTE_AGE seconds after sign-in, however active it has been.

    (SESSION_COOKIE_AGE with SessionTouchMiddleware is the inactivity limit.) The start is
    recorded on the response of the request that signed in, so it is exact for real sign-ins.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            if started is not None and time.time() - started > settings.SESSION_ABSOLUTE_AGE:
                logout(request)
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and SESSION_STARTED_KEY not in request.session:
            request.session[SESSION_STARTED_KEY] = int(time.time())
        return response


TOUCHED_KEY = "_touched"


def stamp_session(request) -> None:
    """At sign-in (which saves the session anyway): when it started, for the absolute limit, and
    that it was saved now, so the first page after it writes nothing."""
    session = getattr(request, "session", None)
    if session is not None:
        now = int(time.time())
        session[SESSION_STARTED_KEY] = now
        session[TOUCHED_KEY] = now


class SessionTouchMiddleware:
    """Keeps SESSION_COOKIE_AGE an inactivity timeout without writing the session on every request.

    A session not otherwise changed is saved (its expiry and cookie pushed SESSION_COOKIE_AGE on)
    only when it was last saved SESSION_TOUCH_SECONDS ago or more: one write a minute at most for
    a busy user instead of one per page. The timeout is therefore exact to within that minute.
    Sits right below SessionMiddleware, so this runs just before the session is saved."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or not session.accessed or session.is_empty():
            return response  # nothing to keep alive
        now = int(time.time())
        # Saved anyway (changed by this request), or last saved a minute ago: (re)stamp it, which
        # marks it modified, so SessionMiddleware saves it with a new expiry.
        if session.modified or now - session.get(TOUCHED_KEY, 0) >= settings.SESSION_TOUCH_SECONDS:
            session[TOUCHED_KEY] = now
        return response


class SecurityHeadersMiddleware:
    """Headers Django has no setting for: pages are never stored by a browser or shared cache
    (case data on a shared staff-room computer must not come back with the Back button), and
    the powerful browser features the app never uses are switched off."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, no_cache=True, must_revalidate=True, private=True, max_age=0)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


REQUIRED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


@register(Tags.security, deploy=True)
def security_configuration(app_configs, **kwargs):
    """The protections in this module are only as good as their settings: refuse to deploy without them."""
    errors = []
    directives = (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get("DIRECTIVES", {})
    for name, value in REQUIRED_CSP.items():
        if list(directives.get(name, [])) != [value]:
            errors.append(
                Error(
                    f"Content-Security-Policy must set {name} {value}.",
                    hint="See CONTENT_SECURITY_POLICY in policyhub/settings.py.",
                    id="accounts.E001",
                )
            )
    if any("unsafe-inline" in str(v) or "unsafe-eval" in str(v) for v in directives.values()):
        errors.append(Error("Content-Security-Policy must not allow unsafe-inline or unsafe-eval.", id="accounts.E002"))
    for name in (
        "csp.middleware.CSPMiddleware",
        "axes.middleware.AxesMiddleware",
        "accounts.two_factor.OTPMiddleware",
        "accounts.two_factor.TwoFactorMiddleware",
        "accounts.security.SessionLifetimeMiddleware",
        "accounts.security.SessionTouchMiddleware",
        "accounts.security.SecurityHeadersMiddleware",
    ):
        if name not in settings.MIDDLEWARE:
            errors.append(Error(f"{name} must be in MIDDLEWARE.", id="accounts.E003"))
    if settings.AXES_LOCKOUT_PARAMETERS != [["username", "ip_address"]] or not settings.AXES_COOLOFF_TIME:
        errors.append(
            Error(
                "Sign-in lockouts must be keyed on username and address together, with a cool-off.",
                hint="A lock by username alone lets anyone lock the DSL out; a lock without a cool-off never ends.",
                id="accounts.E004",
            )
        )
    if not hasattr(import_module(settings.SESSION_ENGINE).SessionStore, "get_model_class"):
        errors.append(
            Error("Sign out everywhere needs a database-backed SESSION_ENGINE (db or cached_db).", id="accounts.E005")
        )
    return errors
