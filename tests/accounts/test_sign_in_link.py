"""A stranger who trips the per-account hourly cap must not lock the real person out.

The way in that the attacker cannot block: an emailed one-time sign-in link. It proves the person
reads the account's email; it lets this browser past the hourly cap and the address lockout for a
few password tries, and nothing more: the password is still checked, and two-factor still follows
for the roles that need it.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessFailureLog
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import models
from tests.auth import authenticator, current_code

pytestmark = pytest.mark.django_db

WRONG = "not the password at all"
HOME = "192.0.2.50"  # the real person's broadband: never used to sign in before


def _post_login(client, email, password, ip):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _stranger_trips_the_cap(email):
    """126 tries from 21 addresses, as the probe did: 6 a address, the 6th refused by the pair lock."""
    statuses = []
    for n in range(21):
        client = Client()
        for _ in range(6):
            statuses.append(_post_login(client, email, WRONG, f"203.0.113.{n + 1}").status_code)
    assert AccessFailureLog.objects.filter(username=email).count() >= 100
    return statuses


def _ask_for_link(client, email, ip=HOME):
    return client.post(reverse("sign_in_link_request"), {"email": email}, REMOTE_ADDR=ip)


def _link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/sign-in-link/\S+/)", message.body).group(1)


def _open_link(client, link, ip=HOME):
    """What the person does: open the link (a page with a button, so a mail scanner fetching it
    does not use it up), then press the button."""
    page = client.get(link, REMOTE_ADDR=ip)
    return page, client.post(link, REMOTE_ADDR=ip)


def test_the_real_person_gets_in_with_an_emailed_link_while_the_stranger_stays_out(cast):
    sam = cast.sam  # plain staff, never signed in
    _stranger_trips_the_cap(sam.email)
    me = Client()
    refused = _post_login(me, sam.email, cast.password, HOME)
    assert refused.status_code == 429
    assert reverse("sign_in_link_request") in refused.content.decode()  # the way in is offered

    assert _ask_for_link(me, sam.email).status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [sam.email]
    link = _link_in(message)

    page = me.get(link, REMOTE_ADDR=HOME)
    assert page.status_code == 200
    assert models.SignInLink.objects.get().used_at is None  # opening the page alone does not use it
    used = me.post(link, REMOTE_ADDR=HOME)
    assert used.status_code == 302
    assert used["Location"] == reverse("login")
    assert not signed_in(me)  # the link is not a password

    # The stranger is still refused, from a new address, with a wrong or even the right password.
    assert _post_login(Client(), sam.email, WRONG, "203.0.113.99").status_code == 429
    stranger = Client()
    assert _post_login(stranger, sam.email, cast.password, "203.0.113.100").status_code == 429
    assert not signed_in(stranger)

    # The real person, in the browser that opened the link: the password is checked, then in.
    assert _post_login(me, sam.email, WRONG, HOME).status_code == 200
    assert not signed_in(me)
    response = _post_login(me, sam.email, cast.password, HOME)
    assert response.status_code == 302
    assert signed_in(me)
    assert me.get(reverse("home"), REMOTE_ADDR=HOME).status_code == 200

    # The link is spent: it lets nobody past the cap again.
    again = Client()
    page, used = _open_link(again, link, ip="203.0.113.101")
    assert page.status_code == 400
    assert used.status_code == 400
    assert "no longer works" in used.content.decode()
    assert _post_login(again, sam.email, cast.password, "203.0.113.101").status_code == 429


def test_a_privileged_role_still_needs_the_code_after_the_link(cast):
    dina = cast.dina
    device = authenticator(dina)
    _stranger_trips_the_cap(dina.email)
    me = Client()
    _ask_for_link(me, dina.email)
    _open_link(me, _link_in(mail.outbox[0]))
    response = _post_login(me, dina.email, cast.password, HOME)
    assert response.status_code == 302
    home = me.get(reverse("home"), REMOTE_ADDR=HOME)
    assert home.status_code == 302
    assert home["Location"].startswith(reverse("two_factor_verify"))
    response = me.post(reverse("two_factor_verify"), {"code": current_code(device)}, REMOTE_ADDR=HOME)
    assert response.status_code == 302
    assert me.get(reverse("home"), REMOTE_ADDR=HOME).status_code == 200


def test_the_link_from_the_email_is_a_few_tries_not_a_way_round_guessing(cast):
    _stranger_trips_the_cap(cast.sam.email)
    me = Client()
    _ask_for_link(me, cast.sam.email)
    _open_link(me, _link_in(mail.outbox[0]))
    statuses = [_post_login(me, cast.sam.email, WRONG, HOME).status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert _post_login(me, cast.sam.email, cast.password, HOME).status_code == 429


def test_a_stranger_asking_for_links_cannot_lock_the_person_out_either(cast):
    sam = cast.sam
    _stranger_trips_the_cap(sam.email)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for n in range(30):
            assert _ask_for_link(Client(), sam.email, ip=f"203.0.113.{n + 1}").status_code == 302
        assert len(mail.outbox) == 1  # one email, not thirty
        clock.shift(timedelta(minutes=4))
        me = Client()
        assert _ask_for_link(me, sam.email).status_code == 302
        assert len(mail.outbox) == 1  # sent 4 minutes ago: still good for 11 more
        _open_link(me, _link_in(mail.outbox[0]))
        assert _post_login(me, sam.email, cast.password, HOME).status_code == 302
        assert signed_in(me)
        clock.shift(timedelta(minutes=2))
        _ask_for_link(Client(), sam.email, ip="203.0.113.77")
        assert len(mail.outbox) == 2  # five minutes on, a new one may go


def test_a_link_expires_after_15_minutes(cast):
    _stranger_trips_the_cap(cast.sam.email)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        me = Client()
        _ask_for_link(me, cast.sam.email)
        clock.shift(timedelta(minutes=15, seconds=1))
        page, used = _open_link(me, _link_in(mail.outbox[0]))
        assert used.status_code == 400
        assert _post_login(me, cast.sam.email, cast.password, HOME).status_code == 429


def test_asking_for_an_unknown_address_looks_the_same_and_sends_nothing(cast):
    known = _ask_for_link(Client(), cast.sam.email)
    unknown = _ask_for_link(Client(), "nobody@example.org")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    page = Client().get(unknown["Location"]).content.decode()
    assert "If the address belongs to an account" in page


def test_the_email_carries_a_link_and_nothing_about_anyone(cast):
    _ask_for_link(Client(), cast.dina.email)
    message = mail.outbox[0]
    body = _link_in(message).join(message.body.split(_link_in(message)))
    text = message.subject + message.body
    for private in (cast.dina.full_name, "Oakfield", "DSL", cast.oakfield.code):
        assert private not in text
    assert "sign" in body.lower()


def test_a_bad_email_address_gets_a_message_and_sends_nothing(cast):
    response = _ask_for_link(Client(), "not an address")
    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()
    assert mail.outbox == []


def test_a_password_change_kills_an_unused_link(cast):
    me = Client()
    _ask_for_link(me, cast.sam.email)
    cast.sam.set_password("a brand new long sentence of a password")
    cast.sam.save()
    page, used = _open_link(me, _link_in(mail.outbox[0]))
    assert used.status_code == 400


def test_the_sign_in_link_pages_are_open_to_anyone(client):
    assert client.get(reverse("sign_in_link_request")).status_code == 200
    assert client.get(reverse("sign_in_link_sent")).status_code == 200


def test_a_password_reset_also_lets_that_browser_past_a_strangers_cap(cast):
    """A new member of staff setting their first password by the reset email, after a stranger
    tripped the cap: the reset link proved they read the email, so they need not ask for another."""
    sam = cast.sam
    _stranger_trips_the_cap(sam.email)
    me = Client()
    me.post(reverse("password_reset"), {"email": sam.email}, REMOTE_ADDR=HOME)
    link = re.search(r"https?://[^/\s]+(/\S*reset/\S+)", mail.outbox[0].body).group(1)
    form = me.get(link, follow=True, REMOTE_ADDR=HOME)
    new = "another long sentence about the hills"
    me.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, REMOTE_ADDR=HOME)
    assert _post_login(Client(), sam.email, new, "203.0.113.120").status_code == 429  # anyone else
    response = _post_login(me, sam.email, new, HOME)
    assert response.status_code == 302
    assert signed_in(me)


def test_a_pass_is_for_its_own_account_only(cast):
    _stranger_trips_the_cap(cast.dina.email)
    me = Client()
    _ask_for_link(me, cast.sam.email)  # Sam's own link, in a browser that then tries Dina
    _open_link(me, _link_in(mail.outbox[0]))
    assert _post_login(me, cast.dina.email, cast.password, HOME).status_code == 429
    assert me.session.get("policyhub_sign_in_pass", {}).get("tries") == 5  # not spent on Dina


def test_odd_tokens_are_refused_plainly(client):
    for token in ["x", "x" * 5000, "%00", "..%2F..%2Fetc"]:
        response = client.post(f"/accounts/sign-in-link/use/{token}/")
        assert response.status_code in (400, 404)
