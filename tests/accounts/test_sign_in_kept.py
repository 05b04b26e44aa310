"""The sign-in page as first asked for is written once per process and set of sign-in buttons, and
each response gets its own CSRF token (accounts/views.LoginView): the page is the one written
afresh, token for token a working one, and anything that makes the page differ (a `next`, a message
waiting, another provider) is written afresh."""

import re

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts import views
from tests.oidc_provider import provider_for

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class _Idp:  # provider_for needs only these
    issuer = "https://login.example.net/riverside"
    url = "https://login.example.net"


def _get(client, url=None):
    response = client.get(url or reverse("login"))
    assert response.status_code == 200
    return response


def _without_token(html: str) -> str:
    return TOKEN.sub('name="csrfmiddlewaretoken" value="x"', html)


def test_the_kept_page_is_the_page_written_afresh_with_a_working_token_of_its_own(cast):
    first = _get(Client())
    assert first.context is not None  # written by the template
    assert len(views._kept_sign_in_pages) == 1
    browsers = [Client(enforce_csrf_checks=True) for _ in range(3)]
    kept = [_get(browser) for browser in browsers]
    assert all(response.context is None for response in kept)  # from the kept page
    page = _without_token(first.content.decode())
    assert all(_without_token(response.content.decode()) == page for response in kept)
    assert all(response["Content-Type"] == first["Content-Type"] for response in kept)
    tokens = [TOKEN.search(response.content.decode()).group(1) for response in kept]
    assert len(set(tokens)) == 3 and views._TOKEN_SLOT not in "".join(r.content.decode() for r in kept)
    # Each browser signs in with the token its own page gave it; without one, it is refused.
    browser = browsers[0]
    assert settings.CSRF_COOKIE_NAME in browser.cookies
    signed_in = browser.post(
        reverse("login"), {"username": cast.sam.email, "password": cast.password, "csrfmiddlewaretoken": tokens[0]}
    )
    assert signed_in.status_code == 302
    refused = browsers[1].post(reverse("login"), {"username": cast.sam.email, "password": cast.password})
    assert refused.status_code == 403


def test_a_message_waiting_is_shown_and_the_kept_page_is_not_used(cast):
    _get(Client())
    request = RequestFactory().get("/")
    storage = CookieStorage(request)
    storage.add(messages.INFO, "Your sign-in link has expired: ask for another.")
    carrier = HttpResponse()
    storage.update(carrier)
    client = Client()
    client.cookies[storage.cookie_name] = carrier.cookies[storage.cookie_name].value
    response = _get(client)
    assert response.context is not None and "Your sign-in link has expired" in response.content.decode()
    assert "Your sign-in link has expired" not in _get(Client()).content.decode()


def test_a_next_and_a_new_provider_are_written_afresh(cast):
    _get(Client())
    provider = provider_for(_Idp, cast.trust, allowed_domains="oakfield.example.org")
    from accounts import sso_buttons

    sso_buttons.forget()  # this process saved it: its list is emptied (accounts/sso_buttons.py)
    page = _get(Client()).content.decode()
    assert f"Sign in with {provider.label}" in page
    with_next = _get(Client(), reverse("login") + "?next=/incidents/queue/")
    assert with_next.context is not None
    assert "next=/incidents/queue/" in with_next.content.decode()
    assert len(views._kept_sign_in_pages) == 2  # without the provider, and with it; never with a next
    provider.is_active = False
    provider.save()
    assert f"Sign in with {provider.label}" not in _get(Client()).content.decode()
