import pytest
from django.urls import reverse

from accounts.models import Membership, Role
from tests.auth import verified_login

pytestmark = pytest.mark.django_db


def test_user_in_two_schools_can_switch(client, cast):
    Membership.objects.create(user=cast.tom, school=cast.brookside, role=Role.TRUST_ADMIN)
    verified_login(client, cast.tom)
    page = client.get(reverse("home")).content.decode()
    assert 'id="school-switch"' in page
    response = client.post(reverse("switch_school"), {"school": cast.brookside.pk, "next": "/"})
    assert response.status_code == 302
    assert client.get(reverse("home")).context["ctx"].school == cast.brookside


def test_switching_to_a_school_you_do_not_belong_to_is_404(client, cast):
    client.force_login(cast.sam)
    response = client.post(reverse("switch_school"), {"school": cast.brookside.pk})
    assert response.status_code == 404
    assert client.get(reverse("home")).context["ctx"].school == cast.oakfield


def test_switch_ignores_an_offsite_next(client, cast):
    client.force_login(cast.sam)
    response = client.post(reverse("switch_school"), {"school": cast.oakfield.pk, "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_switch_needs_post(client, cast):
    client.force_login(cast.sam)
    assert client.get(reverse("switch_school")).status_code == 405


def test_switcher_is_hidden_for_a_single_school(client, cast):
    client.force_login(cast.sam)
    assert 'id="school-switch"' not in client.get(reverse("home")).content.decode()


def test_roles_are_per_school(client, cast):
    """Tom is trust admin at Oakfield and only staff at Brookside: his roles follow the school."""
    Membership.objects.create(user=cast.tom, school=cast.brookside, role=Role.STAFF)
    verified_login(client, cast.tom)
    client.post(reverse("switch_school"), {"school": cast.oakfield.pk})
    assert client.get(reverse("home")).context["ctx"].roles == {Role.TRUST_ADMIN}
    client.post(reverse("switch_school"), {"school": cast.brookside.pk})
    assert client.get(reverse("home")).context["ctx"].roles == {Role.STAFF}
