"""Two-factor sign-in: who must use it, that nothing opens before it, set-up, verify, recovery codes."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, Role
from accounts.otp_views import NEW_CODES_SESSION_KEY
from accounts.two_factor import RECOVERY_CODE_COUNT
from tests.auth import authenticator, current_code, verified_login
from tests.factories import UserFactory
from tests.test_anonymous_access import PUBLIC, ROUTES

pytestmark = pytest.mark.django_db

PRIVILEGED = ["helen", "dina", "gary", "carol", "tom", "priya"]
# Pages an unverified user may open: the two-factor pages themselves, and sign-out.
EXEMPT = {"two_factor_setup", "two_factor_verify", "logout"}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _path(response):
    return urlparse(response["Location"]).path


def _secret_from(page: str) -> bytes:
    import base64

    groups = re.search(r'aria-label="Set-up key">(.*?)</div>', page, re.S).group(1)
    secret = "".join(re.findall(r"<span[^>]*>([A-Z2-7=]+)</span>", groups))
    return base64.b32decode(secret)


def _code_for(key: bytes) -> str:
    return f"{TOTP(key).token():06d}"


@pytest.mark.parametrize("who", PRIVILEGED)
def test_a_privileged_role_with_only_a_password_can_open_no_page(client, cast, who):
    client.force_login(getattr(cast, who))
    opened = []
    for name, url in ROUTES:
        if name in PUBLIC or name in EXEMPT or name.startswith("admin:"):
            continue
        response = client.get(url)
        if not (response.status_code == 302 and _path(response) == reverse("two_factor_setup")):
            opened.append((name, response.status_code))
    assert opened == []


def test_there_is_no_skip_the_setup_page_only_offers_setting_up_or_signing_out(client, cast):
    client.force_login(cast.dina)
    page = client.get(reverse("two_factor_setup")).content.decode()
    page = page[page.index("<main") :]
    assert "skip" not in page.lower()
    assert "later" not in page.lower()
    actions = set(re.findall(r'<form[^>]*action="([^"]*)"', page))
    assert actions <= {reverse("logout")}


def test_with_an_authenticator_the_privileged_user_is_sent_to_verify_with_the_page_they_wanted(client, cast):
    authenticator(cast.helen)
    client.force_login(cast.helen)
    url = reverse("incidents:queue")
    response = client.get(url)
    assert _path(response) == reverse("two_factor_verify")
    assert parse_qs(urlparse(response["Location"]).query)["next"] == [url]


def test_a_role_anywhere_counts_not_just_in_the_current_school(client, cast):
    Membership.objects.create(user=cast.bethan, school=cast.oakfield, role=Role.GOVERNOR)
    client.force_login(cast.bethan)  # working in Brookside, where she is plain staff
    assert _path(client.get(reverse("home"))) == reverse("two_factor_setup")


def test_staff_need_not_use_it(client, cast):
    client.force_login(cast.sam)
    assert client.get(reverse("home")).status_code == 200
    assert "Set up two-step verification" in client.get(reverse("account_security")).content.decode()


def test_staff_who_turned_it_on_are_held_to_it(client, cast):
    authenticator(cast.sam)
    client.force_login(cast.sam)
    assert _path(client.get(reverse("home"))) == reverse("two_factor_verify")


def test_a_new_role_mid_session_needs_two_factor_at_the_next_click(client, cast):
    client.force_login(cast.sam)
    assert client.get(reverse("home")).status_code == 200
    Membership.objects.create(user=cast.sam, school=cast.oakfield, role=Role.DSL)
    assert _path(client.get(reverse("home"))) == reverse("two_factor_setup")


def test_signing_out_works_before_verifying(client, cast):
    client.force_login(cast.dina)
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_admin_needs_a_verified_session(client, cast):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert _path(client.get(reverse("admin:index"))) == reverse("two_factor_setup")
    verified_login(client, admin)
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_admin_site_itself_refuses_an_unverified_session(client, cast, settings):
    """Belt and braces: the admin is an OTPAdminSite, so it holds even without the middleware."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "accounts.two_factor.TwoFactorMiddleware"]
    admin = UserFactory(is_staff=True, is_superuser=True)
    authenticator(admin)
    client.force_login(admin)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert _path(response) == reverse("admin:login")


def test_setup_shows_a_qr_code_and_the_key_as_text_and_keeps_them_on_reload(client, cast):
    client.force_login(cast.dina)
    first = client.get(reverse("two_factor_setup")).content.decode()
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{200,}" alt="QR code', first)
    again = client.get(reverse("two_factor_setup")).content.decode()
    assert _secret_from(first) == _secret_from(again)
    assert len(_secret_from(first)) == 20


def test_setup_with_a_wrong_code_changes_nothing(client, cast):
    client.force_login(cast.dina)
    client.get(reverse("two_factor_setup"))
    response = client.post(reverse("two_factor_setup"), {"code": "000000"})
    assert response.status_code == 200
    assert "That code did not work" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=cast.dina, confirmed=True).exists()
    assert _path(client.get(reverse("home"))) == reverse("two_factor_setup")


def test_setup_confirms_the_app_verifies_the_session_and_shows_ten_codes_once(client, cast):
    client.force_login(cast.dina)
    key = _secret_from(client.get(reverse("two_factor_setup")).content.decode())
    before = client.session.session_key
    response = client.post(reverse("two_factor_setup"), {"code": _code_for(key), "next": "/policy/"})
    assert _path(response) == reverse("recovery_codes")
    assert client.session.session_key != before  # new key at the change of privilege
    page = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", page)
    assert len(codes) == RECOVERY_CODE_COUNT == 10
    assert 'href="/policy/"' in page
    assert sorted(codes) == sorted(StaticToken.objects.filter(device__user=cast.dina).values_list("token", flat=True))
    shown_again = client.get(reverse("recovery_codes")).content.decode()
    assert not set(codes) & set(re.findall(r"[a-z2-7]{8}", shown_again))
    assert "10 unused recovery codes" in shown_again
    assert client.get(reverse("home")).status_code == 200
    assert TOTPDevice.objects.get(user=cast.dina).confirmed


def test_setup_cannot_be_used_to_get_round_an_existing_app(client, cast):
    """With the password alone, an attacker must not be able to enrol their own phone."""
    authenticator(cast.dina)
    client.force_login(cast.dina)
    for response in (client.get(reverse("two_factor_setup")), client.post(reverse("two_factor_setup"), {"code": "1"})):
        assert _path(response) == reverse("two_factor_verify")
    assert TOTPDevice.objects.filter(user=cast.dina).count() == 1


def test_an_unconfirmed_app_does_not_verify_anyone(client, cast):
    client.force_login(cast.dina)
    pending = TOTPDevice.objects.create(user=cast.dina, confirmed=False, name="pending")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = pending.persistent_id
    session.save()
    assert _path(client.get(reverse("home"))) == reverse("two_factor_setup")


def test_moving_to_a_new_phone_replaces_the_old_app(client, cast):
    old = verified_login(client, cast.dina)
    key = _secret_from(client.get(reverse("two_factor_setup")).content.decode())
    assert key != old.bin_key
    client.post(reverse("two_factor_setup"), {"code": _code_for(key)})
    devices = TOTPDevice.objects.filter(user=cast.dina)
    assert [d.bin_key for d in devices] == [key]
    assert devices.get().confirmed


def _password_sign_in(email, password):
    client = Client()
    response = client.post(reverse("login"), {"username": email, "password": password, "next": "/policy/"})
    return client, response


def test_sign_in_with_password_then_code(cast):
    device = authenticator(cast.helen)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client, response = _password_sign_in(cast.helen.email, cast.password)
        response = client.get(response["Location"])
        assert _path(response) == reverse("two_factor_verify")
        verify = response["Location"]
        key_at_password = client.session.session_key
        response = client.post(verify, {"code": "123 456"})
        assert "That code did not work" in response.content.decode()
        clock.shift(timedelta(seconds=2))  # django-otp waits a second after one wrong code
        response = client.post(verify, {"code": current_code(device), "next": "/policy/"})
        assert response.status_code == 302
        assert response["Location"] == "/policy/"
        assert client.session.session_key != key_at_password
        assert client.get(reverse("home")).status_code == 200


def test_verify_will_not_redirect_off_site(client, cast):
    device = authenticator(cast.helen)
    client.force_login(cast.helen)
    response = client.post(
        reverse("two_factor_verify"), {"code": current_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_a_code_cannot_be_used_twice(cast):
    device = authenticator(cast.helen)
    code = current_code(device)
    first, second = Client(), Client()
    first.force_login(cast.helen)
    second.force_login(cast.helen)
    assert first.post(reverse("two_factor_verify"), {"code": code}).status_code == 302
    assert second.post(reverse("two_factor_verify"), {"code": code}).status_code == 200
    assert DEVICE_ID_SESSION_KEY not in second.session


def test_guessing_codes_is_throttled(client, cast):
    device = authenticator(cast.helen)
    client.force_login(cast.helen)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(3):
            client.post(reverse("two_factor_verify"), {"code": "000000"})
        # After 3 failures django-otp refuses every code for 4 seconds, the right one included.
        assert client.post(reverse("two_factor_verify"), {"code": current_code(device)}).status_code == 200
        clock.shift(timedelta(seconds=5))
        assert client.post(reverse("two_factor_verify"), {"code": current_code(device)}).status_code == 302


def test_a_recovery_code_signs_in_once(cast):
    verified = Client()
    verified_login(verified, cast.dina)
    verified.post(reverse("recovery_codes"))
    codes = verified.session[NEW_CODES_SESSION_KEY]
    first, second = Client(), Client()
    first.force_login(cast.dina)
    second.force_login(cast.dina)
    response = first.post(reverse("two_factor_verify"), {"code": codes[0].upper()}, follow=True)
    assert response.redirect_chain[0][0] == reverse("home")
    assert "You used a recovery code; 9 left" in response.content.decode()
    assert second.post(reverse("two_factor_verify"), {"code": codes[0]}).status_code == 200
    assert DEVICE_ID_SESSION_KEY not in second.session


def test_new_recovery_codes_cancel_the_old_ones(client, cast):
    verified_login(client, cast.dina)
    client.post(reverse("recovery_codes"))
    old = client.session[NEW_CODES_SESSION_KEY]
    page = client.get(reverse("recovery_codes")).content.decode()
    assert all(code in page for code in old)
    client.post(reverse("recovery_codes"))
    new = set(StaticToken.objects.filter(device__user=cast.dina).values_list("token", flat=True))
    assert len(new) == 10
    assert not new & set(old)


def test_recovery_codes_need_a_verified_session(client, cast):
    authenticator(cast.sam)
    StaticToken.objects.all().delete()
    client.force_login(cast.sam)
    assert _path(client.post(reverse("recovery_codes"))) == reverse("two_factor_verify")
    assert not StaticToken.objects.exists()


def test_staff_without_an_app_cannot_make_recovery_codes(client, cast):
    client.force_login(cast.sam)
    assert _path(client.post(reverse("recovery_codes"))) == reverse("account_security")
    assert not StaticToken.objects.exists()


# --- Wrong codes: one person's must not lock the other out; guessing stays bounded -------------


def _password_session(email, password, ip):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)
    assert response.status_code == 302
    return client


def _try_code(client, code, ip):
    return client.post(reverse("two_factor_verify"), {"code": code}, REMOTE_ADDR=ip)


def test_an_attackers_wrong_codes_do_not_lock_the_real_person_out(cast):
    """The attacker has Helen's password, not her phone: their wrong codes throttle their own
    session, and Helen, in hers, gets in with the right code at once."""
    device = authenticator(cast.helen)
    with time_machine.travel(timezone.now(), tick=False):
        attacker = _password_session(cast.helen.email, cast.password, "203.0.113.66")
        for _ in range(8):
            _try_code(attacker, "000000", "203.0.113.66")
        helen = _password_session(cast.helen.email, cast.password, "192.0.2.10")
        response = _try_code(helen, current_code(device), "192.0.2.10")
        assert response.status_code == 302
        assert helen.get(reverse("home"), REMOTE_ADDR="192.0.2.10").status_code == 200
        # The attacker's session stays throttled: even a right code is refused there for now.
        response = _try_code(attacker, current_code(device), "203.0.113.66")
        assert response.status_code == 200
        assert "Too many wrong codes" in response.content.decode()
        assert DEVICE_ID_SESSION_KEY not in attacker.session


def test_guessing_codes_is_bounded_per_account_across_sessions_and_addresses(cast, settings, monkeypatch):
    """Fresh sessions from fresh addresses each start unthrottled, so the account as a whole takes
    at most SECOND_FACTOR_FAILURES_PER_HOUR wrong authenticator codes an hour."""
    from django_otp.oath import TOTP as Totp

    settings.SECOND_FACTOR_FAILURES_PER_HOUR = 10
    device = authenticator(cast.helen)
    checked = []
    real_verify = Totp.verify
    monkeypatch.setattr(Totp, "verify", lambda self, *a, **k: checked.append(1) or real_verify(self, *a, **k))
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for n in range(30):
            ip = f"203.0.113.{n + 1}"
            session = _password_session(cast.helen.email, cast.password, ip)
            for _ in range(3):
                _try_code(session, "000000", ip)
            clock.shift(timedelta(minutes=1))
        assert len(checked) == 10  # 90 guesses sent in half an hour, 10 checked
        # Whoever did that knows Helen's password: she is told, once, and told nothing else.
        assert [m.to for m in mail.outbox] == [[cast.helen.email]]
        assert "change your password" in mail.outbox[0].body
        assert cast.helen.full_name not in mail.outbox[0].body
        # Now authenticator codes are paused for the account; recovery codes still work.
        helen = _password_session(cast.helen.email, cast.password, "192.0.2.10")
        response = _try_code(helen, current_code(device), "192.0.2.10")
        assert response.status_code == 200
        assert "recovery code" in response.content.decode()
        verified = Client()
        verified_login(verified, cast.helen)
        verified.post(reverse("recovery_codes"))
        code = verified.session[NEW_CODES_SESSION_KEY][0]
        assert _try_code(helen, code, "192.0.2.10").status_code == 302
        # An hour after the first of them, authenticator codes work again.
        clock.shift(timedelta(minutes=31))
        helen = _password_session(cast.helen.email, cast.password, "192.0.2.10")
        assert _try_code(helen, current_code(device), "192.0.2.10").status_code == 302


def test_wrong_codes_are_audited_without_the_code(cast):
    from accounts.models import AuditAction, AuditEvent

    authenticator(cast.helen)
    attacker = _password_session(cast.helen.email, cast.password, "203.0.113.66")
    _try_code(attacker, "123456", "203.0.113.66")
    event = AuditEvent.objects.get(action=AuditAction.SIGN_IN_FAILED)
    assert event.actor == cast.helen
    assert event.ip == "203.0.113.66"
    assert "123456" not in str(event.detail) + event.object_ref + event.object_id
