import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_staff_signs_in_with_email_and_lands_on_home(client, cast):
    response = client.post(reverse("login"), {"username": "SAM@oakfield.example.org", "password": cast.password})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"] == cast.sam


def test_wrong_password_is_refused_with_a_message(client, cast):
    response = client.post(reverse("login"), {"username": cast.sam.email, "password": "not it at all"})
    assert response.status_code == 200
    assert "email address and password do not match" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_session_key_changes_at_sign_in(client, cast):
    client.get(reverse("login"))
    client.cookies["sessionid"] = "attacker-chosen"
    client.post(reverse("login"), {"username": cast.sam.email, "password": cast.password})
    assert client.cookies["sessionid"].value != "attacker-chosen"


def test_sign_out_needs_post_and_ends_the_session(client, cast):
    client.force_login(cast.sam)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_inactive_user_cannot_sign_in(client, cast):
    User.objects.filter(pk=cast.sam.pk).update(is_active=False)
    client.post(reverse("login"), {"username": cast.sam.email, "password": cast.password})
    assert "_auth_user_id" not in client.session


def test_password_change_enforces_the_length_rule(client, cast):
    client.force_login(cast.sam)
    url = reverse("password_change")
    short = {"old_password": cast.password, "new_password1": "Sh0rt!pass", "new_password2": "Sh0rt!pass"}
    response = client.post(url, short)
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    good = "a long sentence about the river in spring"
    response = client.post(url, {"old_password": cast.password, "new_password1": good, "new_password2": good})
    assert response.status_code == 302
    cast.sam.refresh_from_db()
    assert cast.sam.check_password(good)


def test_password_reset_emails_a_working_link_and_nothing_else(client, cast):
    client.post(reverse("password_reset"), {"email": cast.sam.email})
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = re.search(r"https?://[^/\s]+(/\S*reset/\S+)", body).group(1)
    response = client.get(link, follow=True)
    new = "another long sentence about the hills"
    response = client.post(response.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    cast.sam.refresh_from_db()
    assert cast.sam.check_password(new)


def test_password_reset_for_unknown_address_sends_nothing_and_says_the_same(client, cast):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []
