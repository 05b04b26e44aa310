"""Sessions (test plan 13): a new key at sign-in, sign-out kills the cookie, deactivation and a
password change end live sessions, idle and absolute timeouts, and sign out everywhere."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from tests.auth import authenticator, current_code, verified_login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long sentence about the river in spring"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def signed_in(client) -> bool:
    """Does this browser still get a page, rather than the sign-in page?"""
    return client.get(reverse("home")).status_code == 200


def browser(cookie_value):
    client = Client()
    client.cookies["sessionid"] = cookie_value
    return client


def test_the_session_key_changes_at_sign_in_and_again_at_the_second_factor(cast):
    device = authenticator(cast.helen)
    client = Client()
    client.get(reverse("login"))
    client.cookies["sessionid"] = "attacker-chosen-key"
    client.post(reverse("login"), {"username": cast.helen.email, "password": cast.password})
    after_password = client.cookies["sessionid"].value
    assert after_password != "attacker-chosen-key"
    client.post(reverse("two_factor_verify"), {"code": current_code(device)})
    assert client.cookies["sessionid"].value not in {after_password, "attacker-chosen-key"}
    assert signed_in(client)


def test_sign_out_kills_the_old_cookie(client, cast):
    verified_login(client, cast.helen)
    cookie = client.cookies["sessionid"].value
    assert signed_in(browser(cookie))
    client.post(reverse("logout"))
    assert not signed_in(browser(cookie))
    assert not Session.objects.filter(session_key=cookie).exists()


def test_deactivating_a_user_ends_their_live_sessions(client, cast):
    verified_login(client, cast.helen)
    assert signed_in(client)
    User.objects.filter(pk=cast.helen.pk).update(is_active=False)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(cast):
    laptop, phone = Client(), Client()
    laptop.force_login(cast.sam)
    phone.force_login(cast.sam)
    assert signed_in(laptop) and signed_in(phone)
    response = laptop.post(
        reverse("password_change"),
        {"old_password": cast.password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert signed_in(laptop)
    assert not signed_in(phone)


def test_a_password_reset_ends_every_session(cast):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    phone = Client()
    phone.force_login(cast.sam)
    assert signed_in(phone)
    uid = urlsafe_base64_encode(force_bytes(cast.sam.pk))
    token = default_token_generator.make_token(cast.sam)
    stranger = Client()
    form = stranger.get(reverse("password_reset_confirm", args=[uid, token]), follow=True)
    stranger.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert User.objects.get(pk=cast.sam.pk).check_password(NEW_PASSWORD)
    assert not signed_in(phone)


def test_idle_for_longer_than_the_inactivity_limit_signs_you_out(client, cast, settings):
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    with time_machine.travel(timezone.now(), tick=False) as clock:
        verified_login(client, cast.helen)
        assert signed_in(client)
        clock.shift(timedelta(hours=2))
        assert signed_in(client)  # and this click starts the 8 hours again
        clock.shift(timedelta(hours=7, minutes=59))
        assert signed_in(client)  # 9 hours 59 after sign-in: still inside the 12-hour limit
        clock.shift(timedelta(hours=8, minutes=1))
        assert not signed_in(client)
        assert not Session.objects.filter(expire_date__gt=timezone.now()).exists()

    with time_machine.travel(timezone.now(), tick=False) as clock:
        verified_login(client, cast.helen)
        clock.shift(timedelta(hours=8, minutes=1))
        assert not signed_in(client)  # well inside 12 hours: it is the idle limit that ended it


def test_a_session_ends_12_hours_after_sign_in_however_busy(client, cast, settings):
    assert settings.SESSION_ABSOLUTE_AGE == 12 * 60 * 60
    with time_machine.travel(timezone.now(), tick=False) as clock:
        verified_login(client, cast.helen)
        assert signed_in(client)
        for _ in range(11):
            clock.shift(timedelta(hours=1))
            assert signed_in(client)
        clock.shift(timedelta(minutes=59))
        assert signed_in(client)
        clock.shift(timedelta(minutes=2))  # 12 hours and a minute after signing in
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert "_auth_user_id" not in client.session


def test_the_12_hours_count_from_the_real_sign_in(cast):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = Client()
        client.post(reverse("login"), {"username": cast.sam.email, "password": cast.password})
        clock.shift(timedelta(hours=6))
        assert signed_in(client)
        clock.shift(timedelta(hours=6, minutes=1))
        assert not signed_in(client)


def test_sign_out_everywhere_ends_every_session_of_mine_and_no_one_elses(cast):
    laptop, phone, colleague = Client(), Client(), Client()
    verified_login(laptop, cast.helen)
    verified_login(phone, cast.helen)
    verified_login(colleague, cast.dina)
    assert all(signed_in(c) for c in (laptop, phone, colleague))
    assert laptop.get(reverse("sign_out_everywhere")).status_code == 405
    response = laptop.post(reverse("sign_out_everywhere"))
    assert response["Location"] == reverse("login")
    assert not signed_in(laptop)
    assert not signed_in(phone)
    assert signed_in(colleague)
    assert [
        s.get_decoded().get("_auth_user_id") for s in Session.objects.all() if "_auth_user_id" in s.get_decoded()
    ] == [str(cast.dina.pk)]


def test_sign_out_everywhere_is_on_the_security_page(client, cast):
    client.force_login(cast.sam)
    page = client.get(reverse("account_security")).content.decode()
    assert f'action="{reverse("sign_out_everywhere")}"' in page
