"""The policy banner can be hidden for the session (a plain form post, no script), and comes back on
the next sign-in and for a newer version until the policy is acknowledged."""

import datetime as dt

import pytest
from django.urls import reverse

from policyhub import services
from tests.policyhub.policy_data import draft, sign_in, trust_policy

pytestmark = pytest.mark.django_db

BANNER = "A new version of the social-media policy is in force"


def _hide(client, version, next_url="/policy/"):
    return client.post(reverse("policy:hide_banner"), {"version": version.pk}, headers={"referer": next_url})


def test_hiding_lasts_for_the_session_and_comes_back_next_sign_in(client, cast):
    version = trust_policy(cast)
    sign_in(client, cast.sam)
    assert BANNER in client.get(reverse("home")).content.decode()
    response = _hide(client, version)
    assert response.status_code == 302 and response["Location"] == "/policy/"  # back where it was hidden
    assert BANNER not in client.get(reverse("home")).content.decode()
    assert BANNER not in client.get(reverse("incidents:mine")).content.decode()
    client.logout()
    sign_in(client, cast.sam)
    assert BANNER in client.get(reverse("home")).content.decode()


def test_a_newer_version_shows_the_banner_again_even_if_hidden(client, cast):
    v1 = trust_policy(cast)
    sign_in(client, cast.sam)
    _hide(client, v1)
    services.policy_version_publish(actor=cast.tom, version=draft(v1.policy), effective_date=dt.date(2026, 1, 1))
    assert BANNER in client.get(reverse("home")).content.decode()


def test_bad_input_hides_nothing_and_next_never_leads_offsite(client, cast):
    version = trust_policy(cast)
    sign_in(client, cast.sam)
    bad = client.post(reverse("policy:hide_banner"), {"version": "x"})
    assert bad.status_code == 302
    assert BANNER in client.get(reverse("home")).content.decode()
    assert client.get(reverse("policy:hide_banner")).status_code == 405
    response = _hide(client, version, next_url="https://evil.example/")
    assert response["Location"] == reverse("home")
    assert not cast.sam.acknowledgements.exists()  # hiding is not acknowledging
