"""Password guessing (test plan 11): lockout per account-and-address pair with a cool-off, and at
most LOGIN_FAILURES_PER_HOUR failures an hour per account across all addresses."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.security import client_ip

pytestmark = pytest.mark.django_db

WRONG = "not the password at all"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def attempt(email, password, ip="203.0.113.7", client=None):
    client = client or Client(REMOTE_ADDR=ip)
    return client, client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_four_failures_still_allow_the_right_password(cast):
    for _ in range(4):
        assert attempt(cast.dina.email, WRONG)[1].status_code == 200
    client, response = attempt(cast.dina.email, cast.password)
    assert response.status_code == 302
    assert signed_in(client)
    assert not AccessAttempt.objects.exists()  # a success clears the pair's failures


def test_fifth_failure_locks_the_pair_with_a_clear_429_page(cast):
    for _ in range(4):
        attempt(cast.dina.email, WRONG)
    response = attempt(cast.dina.email, WRONG)[1]
    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in paused for this account" in page
    assert "about 15 minutes" in page
    assert response["Content-Security-Policy"]


def test_when_locked_the_right_password_is_refused_too(cast):
    for _ in range(5):
        attempt(cast.dina.email, WRONG)
    client, response = attempt(cast.dina.email, cast.password)
    assert response.status_code == 429
    assert not signed_in(client)


def test_the_address_typed_in_another_case_is_the_same_account(cast):
    """The admin's sign-in form passes the address on as typed; each spelling must still count
    against the one account, or five spellings would give five times the guesses."""
    client = Client(REMOTE_ADDR="203.0.113.7")
    email = cast.dina.email
    for variant in [email.upper(), email.title(), f" {email} ", "DINA@oakfield.example.org"]:
        client.post(reverse("admin:login"), {"username": variant, "password": WRONG})
    assert AccessAttempt.objects.get().failures_since_start == 4
    assert attempt(cast.dina.email, WRONG)[1].status_code == 429


def test_a_lock_is_only_for_that_address(cast):
    """Someone guessing from a pupil's phone does not lock the DSL out of the school network."""
    for _ in range(6):
        attempt(cast.dina.email, WRONG, ip="198.51.100.66")
    client, response = attempt(cast.dina.email, cast.password, ip="192.0.2.10")
    assert response.status_code == 302
    assert signed_in(client)


def test_a_lock_is_only_for_that_account(cast):
    for _ in range(5):
        attempt(cast.dina.email, WRONG)
    client, response = attempt(cast.sam.email, cast.password)
    assert response.status_code == 302


def test_the_lock_ends_after_the_cool_off_even_if_the_attacker_keeps_trying(cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(5):
            attempt(cast.dina.email, WRONG)
        for _ in range(10):  # refused while locked: they neither count nor extend the lock
            clock.shift(timedelta(minutes=1))
            assert attempt(cast.dina.email, WRONG)[1].status_code == 429
        clock.shift(timedelta(minutes=4, seconds=59))
        assert attempt(cast.dina.email, cast.password)[1].status_code == 429
        clock.shift(timedelta(seconds=2))  # 15 minutes and a second after the fifth failure
        client, response = attempt(cast.dina.email, cast.password)
        assert response.status_code == 302
        assert signed_in(client)


def test_the_lockout_is_logged_without_the_address_or_password(cast, caplog):
    for _ in range(5):
        attempt(cast.dina.email, "hunter2-secret-guess")
    text = caplog.text
    assert "Locking out" in text
    assert cast.dina.email not in text
    assert "hunter2-secret-guess" not in text


def _distributed_attack(email, tries, first=1):
    """`tries` failures on one account, each from a different address (a botnet)."""
    addresses = [f"10.20.{n // 250}.{n % 250 + 1}" for n in range(first, first + tries)]
    return [attempt(email, WRONG, ip=address)[1].status_code for address in addresses]


def test_101_failures_from_101_addresses_in_an_hour_are_stopped_at_100(cast, monkeypatch):
    checked = []
    real_check = User.check_password
    monkeypatch.setattr(User, "check_password", lambda self, raw: checked.append(1) or real_check(self, raw))

    statuses = _distributed_attack(cast.dina.email, 101)
    assert statuses[:100] == [200] * 100
    assert statuses[100] == 429
    # The 102nd try has the right password, from yet another new address: still refused.
    client, response = attempt(cast.dina.email, cast.password, ip="10.99.0.1")
    assert response.status_code == 429
    assert not signed_in(client)
    assert len(checked) == 100  # at most 100 passwords tried against the account in the hour
    assert AccessFailureLog.objects.filter(username=cast.dina.email).count() == 100


def test_the_per_account_limit_does_not_lock_the_owner_out_of_an_address_they_use(cast):
    """The DSL signed in from school yesterday; a botnet's 100 failures today do not stop her there."""
    school = "192.0.2.10"
    with time_machine.travel(timezone.now() - timedelta(days=1), tick=False):
        assert attempt(cast.dina.email, cast.password, ip=school)[1].status_code == 302
    _distributed_attack(cast.dina.email, 100)
    assert attempt(cast.dina.email, WRONG, ip="10.99.0.2")[1].status_code == 429
    client, response = attempt(cast.dina.email, cast.password, ip=school)
    assert response.status_code == 302
    assert signed_in(client)


def test_the_per_account_limit_is_a_sliding_hour_not_a_permanent_lock(cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        _distributed_attack(cast.dina.email, 100)
        assert attempt(cast.dina.email, cast.password, ip="10.99.0.3")[1].status_code == 429
        clock.shift(timedelta(minutes=61))
        client, response = attempt(cast.dina.email, cast.password, ip="10.99.0.3")
        assert response.status_code == 302
        assert signed_in(client)


def test_other_accounts_are_not_limited_by_an_attack_on_one(cast):
    _distributed_attack(cast.dina.email, 100)
    assert attempt(cast.sam.email, cast.password, ip="10.99.0.4")[1].status_code == 302


class _Request:
    def __init__(self, remote, forwarded=None):
        self.META = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            self.META["HTTP_X_FORWARDED_FOR"] = forwarded


def test_without_a_trusted_proxy_the_address_is_remote_addr_and_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_Request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


def test_behind_one_proxy_the_client_is_the_address_the_proxy_saw_not_one_it_was_told(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client forged "1.2.3.4"; the proxy appended the address it really saw.
    assert client_ip(_Request("10.0.0.2", "1.2.3.4, 198.51.100.20")) == "198.51.100.20"
    assert client_ip(_Request("10.0.0.2", "198.51.100.20")) == "198.51.100.20"
    assert client_ip(_Request("10.0.0.2")) == "10.0.0.2"
    assert client_ip(_Request("10.0.0.2", "not-an-address")) == "10.0.0.2"


def test_a_forged_forwarded_for_cannot_dodge_the_lock_behind_a_proxy(cast, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client()
    for n in range(5):
        client.post(
            reverse("login"),
            {"username": cast.dina.email, "password": WRONG},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 198.51.100.20",
        )
    response = client.post(
        reverse("login"),
        {"username": cast.dina.email, "password": cast.password},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="7.7.7.7, 198.51.100.20",
    )
    assert response.status_code == 429


def test_behind_a_proxy_the_audit_trail_axes_and_the_limiter_all_see_the_same_client(cast, settings):
    """One function decides the client's address. Behind one proxy (REMOTE_ADDR is the proxy),
    the address the proxy appended is the client; a forged entry further left is not."""
    from axes.models import AccessLog

    from accounts.models import AuditAction, AuditEvent
    from accounts.security import is_known_address

    settings.TRUSTED_PROXY_COUNT = 1
    proxy, client_address, forged = "10.0.0.2", "198.51.100.20", "6.6.6.6"
    headers = {"REMOTE_ADDR": proxy, "HTTP_X_FORWARDED_FOR": f"{forged}, {client_address}"}
    client = Client()
    client.post(reverse("login"), {"username": cast.dina.email, "password": WRONG}, **headers)
    failed = AuditEvent.objects.get(action=AuditAction.SIGN_IN_FAILED)
    assert failed.ip == client_address
    assert AccessAttempt.objects.get().ip_address == client_address
    assert AccessFailureLog.objects.get().ip_address == client_address

    client.post(reverse("login"), {"username": cast.dina.email, "password": cast.password}, **headers)
    assert AuditEvent.objects.get(action=AuditAction.SIGN_IN).ip == client_address
    assert AccessLog.objects.get().ip_address == client_address
    # The per-account limiter's "known address" is the client's, not the proxy's or the forged one.
    assert is_known_address(cast.dina.email, client_address)
    assert not is_known_address(cast.dina.email, proxy)
    assert not is_known_address(cast.dina.email, forged)
    assert not AuditEvent.objects.filter(ip__in=[proxy, forged]).exists()
