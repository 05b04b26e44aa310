"""The sign-in page's provider buttons come from a per-process list (accounts/sso_buttons.py):
no query per view, emptied by any save or delete in this process, and at most BUTTONS_SECONDS
old when another process changed a provider. A lingering button cannot be used: sso_start reads
the provider from the database."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import sso_buttons
from accounts.models import SingleSignOnProvider
from accounts.sso import FLOWS_SESSION_KEY
from tests.oidc_provider import provider_for

pytestmark = pytest.mark.django_db

BUTTON = "Sign in with Riverside accounts"


class _Idp:
    issuer = "https://login.example.net/riverside"
    url = "https://login.example.net"


@pytest.fixture
def clock(monkeypatch):
    """sso_buttons' monotonic clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(sso_buttons.time, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def provider(cast):
    return provider_for(_Idp, cast.trust, allowed_domains="oakfield.example.org")


def _page(client=None) -> str:
    response = (client or Client()).get(reverse("login"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_buttons_cost_no_query_once_read(provider, clock):
    assert BUTTON in _page()
    with CaptureQueriesContext(connection) as queries:
        assert BUTTON in _page()
    assert not [q for q in queries if "sso" in q["sql"].lower()]


def test_a_save_or_delete_here_shows_on_the_next_view(provider, clock):
    assert BUTTON in _page()
    provider.is_active = False
    provider.save()
    assert BUTTON not in _page()
    provider.is_active = True
    provider.label = "Riverside Microsoft 365"
    provider.save()
    assert "Sign in with Riverside Microsoft 365" in _page()
    provider.delete()
    assert "Riverside Microsoft 365" not in _page()


def test_a_change_elsewhere_shows_within_the_cache_time_and_the_old_button_leads_nowhere(provider, clock):
    client = Client()
    assert BUTTON in _page(client)
    # Another process (or a queryset update: no signal) switches the provider off.
    SingleSignOnProvider.objects.filter(pk=provider.pk).update(is_active=False)
    clock[0] += sso_buttons.BUTTONS_SECONDS - 1
    assert BUTTON in _page(client), "may linger for the cache time"
    response = client.get(reverse("sso_start", args=[provider.slug]))
    assert response.status_code == 404, "but cannot be used"
    assert FLOWS_SESSION_KEY not in client.session
    clock[0] += 1
    assert BUTTON not in _page(client)


def test_a_new_provider_from_elsewhere_appears_within_the_cache_time(cast, clock):
    assert "Sign in with" not in _page()
    SingleSignOnProvider.objects.bulk_create(  # no signals, as from another process
        [SingleSignOnProvider(trust=cast.trust, slug="east", label="East", kind="oidc", client_id="c")]
    )
    assert "Sign in with East" not in _page()
    clock[0] += sso_buttons.BUTTONS_SECONDS
    assert "Sign in with East" in _page()


def test_the_list_is_emptied_again_when_the_change_commits(provider, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        provider.save()
    assert sso_buttons.forget in callbacks
