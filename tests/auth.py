"""Signing in, in tests, as someone who must use two-factor.

Every role but plain staff (and every admin-site user) must verify a second factor before any
page opens (accounts.two_factor). `client.force_login(user)` alone now leaves such a user on the
verify page; use `verified_login(client, user)` instead. In browser tests use
`login_verified(page, user)`.
"""

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD


def authenticator(user) -> TOTPDevice:
    """The user's confirmed authenticator app, created if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def verified_login(client, user) -> TOTPDevice:
    """`client.force_login(user)` plus a session already verified with the user's authenticator."""
    device = authenticator(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def current_code(device: TOTPDevice) -> str:
    """A code the device accepts now. django-otp refuses a code whose time step was already
    used, so a second sign-in within the same 30 seconds gets the next step's code (allowed by
    the device's tolerance of one step)."""
    device.refresh_from_db()
    t = max(TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t(), device.last_t + 1)
    return f"{hotp(device.bin_key, t, digits=device.digits):0{device.digits}d}"


def login_verified(page, user, password=PASSWORD):
    """Sign in through the real pages: password, then the authenticator code."""
    from tests.conftest import login

    device = authenticator(user)
    login(page, user.email, password)
    page.get_by_label("Code").fill(current_code(device))
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    return device
