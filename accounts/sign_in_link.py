"""One-time sign-in links: the way in that a stranger cannot block.

Anyone who knows an email address can fail sign-ins for it from many addresses and trip the
per-account hourly cap (accounts.security); an account that has never signed in has no known
address to fall back on, so its owner would be refused from everywhere, every hour. The owner
asks for a link instead. It goes to the account's email, which the stranger cannot read.

Using the link does not sign anyone in. It gives *this browser* a sign-in pass: for 15 minutes,
PASS_TRIES password tries for that account that neither the hourly cap nor the address lockout
refuse. The password is still checked, and two-factor still follows for the roles that need it,
so a stolen mailbox alone opens nothing. Everything dies at the account's next sign-in or
password change (both are part of `account_state`).
"""

import hashlib
import logging
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import SignInLink, User

log = logging.getLogger("policyhub.sign_in")

LINK_LIFETIME = timedelta(minutes=15)
# At most one email per account this often. Shorter than LINK_LIFETIME on purpose: whoever asks,
# and whenever, the person has a link in their inbox that works for at least 10 more minutes, so
# a stranger asking all day cannot use up "their" sends.
RESEND_AFTER = timedelta(minutes=5)
PASS_LIFETIME = timedelta(minutes=15)
PASS_TRIES = 5
PASS_SESSION_KEY = "policyhub_sign_in_pass"  # noqa: S105 (a session key name, not a secret)


def account_state(user) -> str:
    """Changes when the password changes or the account signs in: links and passes bound to it die."""
    return salted_hmac("accounts.sign_in_link", f"{user.pk}|{user.password}|{user.last_login}").hexdigest()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def request_link(email: str) -> bool:
    """Email a sign-in link to the active account with this address, unless one went in the last
    RESEND_AFTER. Whether it sent one is for tests and logs only: the asker is told the same
    either way, so nobody learns which addresses have accounts."""
    user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
    if user is None:
        return False
    now = timezone.now()
    with transaction.atomic():
        # One at a time per account, so two requests at once send one email.
        user = User.objects.select_for_update().get(pk=user.pk)
        if SignInLink.objects.filter(user=user, created_at__gt=now - RESEND_AFTER).exists():
            return False
        SignInLink.objects.filter(user=user, created_at__lt=now - timedelta(days=1)).delete()
        secret = secrets.token_urlsafe(32)
        link = SignInLink.objects.create(
            user=user,
            token_hash=_hash(secret),
            account_state=account_state(user),
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
        # Inside the transaction: if the email cannot be sent, no link is recorded, and the
        # person may ask again at once.
        _send(user, secret)
    log.info("sign-in link sent link=%s user=%s", link.pk, user.pk)
    return True


def _send(user, secret: str) -> None:
    url = settings.SITE_URL.rstrip("/") + reverse("sign_in_link", args=[secret])
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    send_mail(
        subject="Your PolicyHub sign-in link",
        message=(
            "Someone asked for a sign-in link for the PolicyHub account with this email address.\n\n"
            f"If it was you, open this link within {minutes} minutes, then sign in with your password "
            "as usual. It works once, and only in the browser you open it in:\n"
            f"{url}\n\n"
            "If it was not you, ignore this email: nobody can sign in with the link without your "
            "password. If these keep coming, tell your school's PolicyHub administrator.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def _live_link(secret: str, now, *, lock: bool = False):
    links = SignInLink.objects.select_related("user")
    if lock:
        links = links.select_for_update()
    link = links.filter(token_hash=_hash(secret)).first()
    if link is None or link.used_at is not None or link.expires_at <= now or not link.user.is_active:
        return None
    if not constant_time_compare(link.account_state, account_state(link.user)):
        return None
    return link


def link_is_live(secret: str) -> bool:
    return _live_link(secret, timezone.now()) is not None


def use_link(request, secret: str) -> bool:
    """Spend the link (once; every other unused link of the account goes with it) and give this
    browser a sign-in pass. False if the link is unknown, used, expired or void."""
    now = timezone.now()
    with transaction.atomic():
        link = _live_link(secret, now, lock=True)
        if link is None:
            return False
        if not SignInLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now):
            return False
        SignInLink.objects.filter(user_id=link.user_id, used_at__isnull=True).update(used_at=now)
    grant_pass(request, link.user)
    log.info("sign-in link used link=%s user=%s", link.pk, link.user_id)
    return True


def grant_pass(request, user) -> None:
    request.session[PASS_SESSION_KEY] = {
        "user": user.pk,
        "state": account_state(user),
        "until": time.time() + PASS_LIFETIME.total_seconds(),
        "tries": PASS_TRIES,
    }


def take_pass_try(request, username: str | None) -> bool:
    """If this browser holds a live pass for `username`, use up one of its tries and say yes.

    The pass lives in the server-side session, so the browser cannot reset its count; a new
    session has no pass."""
    session = getattr(request, "session", None)
    held = session.get(PASS_SESSION_KEY) if session is not None else None
    if not held or not username:
        return False
    user = User.objects.filter(pk=held.get("user"), is_active=True).first()
    live = (
        user is not None
        and time.time() < held.get("until", 0)
        and held.get("tries", 0) > 0
        and constant_time_compare(held.get("state", ""), account_state(user))
    )
    if not live:
        del session[PASS_SESSION_KEY]
        return False
    if user.email != username:
        return False
    held["tries"] -= 1
    if held["tries"] > 0:
        session[PASS_SESSION_KEY] = held
    else:
        del session[PASS_SESSION_KEY]
    return True
