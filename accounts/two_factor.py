"""Two-factor sign-in (TOTP with django-otp, recovery codes with its static plugin).

Who must use it: anyone holding any role but plain staff at any school, and anyone who may open
the Django admin. They cannot open any page but the two-factor pages, sign-out and the public
sign-in pages until this session is verified: no "skip for now". A staff member who chose to set
it up is held to it too.
"""

import logging
import math
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, wraps

import django_otp.middleware
from django.apps import apps
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import record
from .models import AuditAction, AuditEvent, Membership, Role
from .prepared import PreparedRow

log = logging.getLogger("policyhub.sign_in")

# Volunteers, agency and contract staff see what staff see: their own reports and the policy.
PRIVILEGED_ROLES = frozenset(Role.values) - {Role.STAFF, Role.VOLUNTEER, Role.AGENCY_STAFF, Role.CONTRACT_STAFF}
RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
PENDING_DEVICE_NAME = "pending"
RECOVERY_DEVICE_NAME = "Recovery codes"
SSO_MFA_SESSION_KEY = "policyhub_sso_mfa"  # set by accounts.views.sso_callback (accounts.sso)


def two_factor_exempt(view):
    """Mark a view that an unverified user may open (the two-factor pages themselves, sign-out)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        return view(*args, **kwargs)

    wrapped.two_factor_exempt = True
    return wrapped


def must_use_two_factor(user, memberships=None) -> bool:
    """True for admin-site users and holders of any role but staff, at any school."""
    if user.is_staff or user.is_superuser:
        return True
    if memberships is None:
        return Membership.objects.for_user(user).filter(role__in=PRIVILEGED_ROLES).exists()
    return any(m.role in PRIVILEGED_ROLES for m in memberships)


def confirmed_apps(user):
    """The person's confirmed authenticator apps (`user` may be an OuterRef)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True)


def has_authenticator(user) -> bool:
    return confirmed_apps(user).exists()


class OTPMiddleware(django_otp.middleware.OTPMiddleware):
    """django-otp's middleware (`request.user.otp_device`, `is_verified()`), with the device this
    session was verified with read by SQL written once per thread (accounts/prepared.py) instead of
    built by the ORM on every request, or, for the person's own authenticator app, named with the
    person (no query at all). django-otp still checks that a device it reads is the person's own and
    confirmed (`_finalize_device`)."""

    def _verify_user_sync(self, request, user):
        """A session verified with the person's authenticator app, whose id came with the person
        (`authenticator_id_fetched`, accounts/backends.py: a confirmed app of theirs, as of this
        request), gets that device without a query: its id, owner and `confirmed` set, its other
        fields loaded when first read (Django's deferred fields). Any other session: django-otp's."""
        known = getattr(user, "authenticator_id_fetched", None)  # the person, resolved
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY) if known is not None else None
        if persistent_id is None or self._normalize_persistent_id(persistent_id) != _totp_id(known):
            return super()._verify_user_sync(request, user)
        self._init_user_fields(user)
        user.otp_device = TOTPDevice.from_db(connection.alias, _KNOWN_FIELDS, (known, user.pk, True))
        return user

    def _device_from_persistent_id(self, persistent_id: str):
        persistent_id = self._normalize_persistent_id(persistent_id)
        with suppress(ValueError, LookupError):  # as Device.from_persistent_id: a bad id is no device
            model_label, device_id = persistent_id.rsplit("/", 1)
            model = apps.get_model(*model_label.split("."))
            if issubclass(model, Device):
                return _device_row(model).get(int(device_id))
        return None


# A person not read by accounts.backends.PersonBackend: whether they have an app is asked of the database.
_NOT_FETCHED = object()
# What the person's query tells of their authenticator app (TOTPDevice.from_db: the rest deferred).
_KNOWN_FIELDS = ("id", "user_id", "confirmed")


def _totp_id(device_id: int) -> str:
    """The persistent id django-otp keeps in the session for the authenticator app `device_id`."""
    return f"{TOTPDevice.model_label()}/{device_id}"


@cache
def _device_row(model) -> PreparedRow:
    return PreparedRow(model)


class TwoFactorMiddleware:
    """Sends a signed-in user who must use two-factor and has not verified this session to the
    verify page (or to set-up, if they have no authenticator yet). Runs after
    LoginRequiredMiddleware, so anonymous requests are already on their way to sign in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if request.session.get(SSO_MFA_SESSION_KEY):
            # The trust's provider said it used multi-factor authentication for this sign-in, and
            # the trust accepts that (accounts.sso): asking for PolicyHub's code again adds nothing.
            return None
        if getattr(view_func, "two_factor_exempt", False) or not getattr(view_func, "login_required", True):
            return None
        ctx = getattr(request, "ctx", None)
        required = must_use_two_factor(user, ctx.memberships if ctx is not None else None)
        # Before the view: as looked up with the person at the start of this request (accounts/backends.py).
        first_app = getattr(user, "authenticator_id_fetched", _NOT_FETCHED)
        enrolled = has_authenticator(user) if first_app is _NOT_FETCHED else first_app is not None
        if not (required or enrolled):
            return None
        target = reverse("two_factor_verify" if enrolled else "two_factor_setup")
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")


def issue_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new single-use ones."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def pending_authenticator(user) -> TOTPDevice:
    """The unconfirmed device being set up: the same one on every visit, so a reload does not
    change the QR code the person has already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=PENDING_DEVICE_NAME).first()
    return device or TOTPDevice.objects.create(user=user, confirmed=False, name=PENDING_DEVICE_NAME)


def confirm_authenticator(device: TOTPDevice) -> None:
    """The person proved they hold `device`: it replaces any authenticator they had."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.name = APP_DEVICE_NAME
        device.save(update_fields=["confirmed", "name"])


def normalise_code(raw: str) -> str:
    return "".join(raw.split()).replace("-", "").lower()


# Wrong codes. django-otp's own throttle is per device, so anyone holding the password could
# freeze the real person's authenticator from their own session; it is switched off
# (OTP_TOTP_THROTTLE_FACTOR = OTP_STATIC_THROTTLE_FACTOR = 0) and replaced by two limits:
# - per session, fast: after n wrong codes in a row, the next is checked only 2^(n-1) seconds
#   later (django-otp's curve). One browser's wrong codes never slow another browser down.
# - per account, slow: at most SECOND_FACTOR_FAILURES_PER_HOUR wrong authenticator codes in any
#   hour, from all sessions and addresses together (a fresh session starts unthrottled, and anyone
#   with the password can make one). This is the brute-force bound; docs/notes/sign-in.md has the
#   sums. Recovery codes (40 random bits each) are outside it, so when it is reached the real
#   person still has a way in that nobody else can block.
SESSION_FAILURES_KEY = "policyhub_code_failures"
MAX_SESSION_DELAY = 60 * 60
APP, RECOVERY = "app", "recovery"


@dataclass(frozen=True)
class CodeCheck:
    device: object = None  # the device that accepted the code, if one did
    wait_seconds: int = 0  # this session must wait before its next code is checked
    paused: bool = False  # authenticator codes are paused for the account (the hourly bound)


def _session_wait(request) -> int:
    held = request.session.get(SESSION_FAILURES_KEY)
    if not held:
        return 0
    delay = min(2 ** (held["count"] - 1), MAX_SESSION_DELAY)
    return max(0, math.ceil(held["at"] + delay - time.time()))


def _session_failed(request) -> None:
    held = request.session.get(SESSION_FAILURES_KEY) or {"count": 0}
    request.session[SESSION_FAILURES_KEY] = {"count": held["count"] + 1, "at": time.time()}


def app_code_failures_last_hour(user) -> int:
    return AuditEvent.objects.filter(
        action=AuditAction.SIGN_IN_FAILED,
        object_type="second_factor",
        object_id=str(user.pk),
        object_ref=APP,
        at__gte=timezone.now() - timedelta(hours=1),
    ).count()


def verify_code(request, user, raw: str) -> CodeCheck:
    """Check an authenticator code or an unused recovery code, within the limits above. A wrong
    code is a failed sign-in in the audit trail (the code itself is not recorded)."""
    code = normalise_code(raw)
    if code.isdigit() and len(code) == 6:
        kind, candidates = APP, TOTPDevice.objects.filter(user=user, confirmed=True)
    elif code:
        kind, candidates = RECOVERY, StaticDevice.objects.filter(user=user, confirmed=True)
    else:
        return CodeCheck()
    wait = _session_wait(request)
    if wait:
        return CodeCheck(wait_seconds=wait)
    with transaction.atomic():
        # Locking the devices serialises one account's checks, so the count below is exact.
        devices = list(candidates.select_for_update())
        failures = app_code_failures_last_hour(user) if kind == APP else 0
        if failures >= settings.SECOND_FACTOR_FAILURES_PER_HOUR:
            return CodeCheck(paused=True)
        for device in devices:
            if device.verify_token(code):
                request.session.pop(SESSION_FAILURES_KEY, None)
                return CodeCheck(device=device)
        record(
            AuditAction.SIGN_IN_FAILED,
            request=request,
            actor=user,
            object_type="second_factor",
            object_id=user.pk,
            object_ref=kind,
            detail={"step": "second_factor"},
        )
    _session_failed(request)
    if kind == APP and failures + 1 == settings.SECOND_FACTOR_FAILURES_PER_HOUR:
        _tell_the_owner(user)
    return CodeCheck()


def _tell_the_owner(user) -> None:
    """Whoever reached the hourly bound knows the password: the owner should know that too."""
    try:
        send_mail(
            subject="PolicyHub: wrong sign-in codes on your account",
            message=(
                "Someone signed in to PolicyHub with your password and then entered "
                f"{settings.SECOND_FACTOR_FAILURES_PER_HOUR} wrong codes from an authenticator app "
                "within an hour. Codes from the app are paused for your account for up to an hour; "
                "your recovery codes still work.\n\n"
                "If this was not you, someone knows your password. Sign in, change your password, "
                "and tell your school's PolicyHub administrator.\n"
            ),
            from_email=None,
            recipient_list=[user.email],
        )
    except Exception:  # the bound holds without the email; a mail outage must not break sign-in
        log.exception("could not send the wrong-codes notice user=%s", user.pk)
