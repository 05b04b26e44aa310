"""Only a data-protection officer runs a subject access export: every other role is refused (403),
whatever else they may see; wrong methods get 405; anonymous visitors are sent to sign in."""

import pytest
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent
from tests.incidents.factories import sign_in

pytestmark = pytest.mark.django_db

NOT_DPO = ["helen", "dina", "sam", "gary", "carol", "tom", "olive", "bethan"]


def urls(cast):
    return [
        ("get", reverse("sar:start")),
        ("get", reverse("sar:preview", args=[cast.sam.pk])),
        ("post", reverse("sar:preview", args=[cast.sam.pk])),
        ("post", reverse("sar:export", args=[cast.sam.pk])),
    ]


@pytest.mark.parametrize("who", NOT_DPO)
def test_every_role_but_the_dpo_gets_403(client, cast, who):
    sign_in(client, getattr(cast, who))
    for method, url in urls(cast):
        assert getattr(client, method)(url).status_code == 403, (method, url)
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_the_dpo_may_open_each_page(client, cast):
    sign_in(client, cast.priya)
    assert client.get(reverse("sar:start")).status_code == 200
    assert cast.sam.email in client.get(reverse("sar:start")).content.decode()
    assert client.get(reverse("sar:preview", args=[cast.sam.pk])).status_code == 200


def test_a_person_with_no_role_at_the_dpos_schools_is_404(client, cast):
    sign_in(client, cast.priya)
    assert client.get(reverse("sar:preview", args=[cast.bethan.pk])).status_code == 404  # Brookside only
    assert client.post(reverse("sar:export", args=[cast.bethan.pk]), {}).status_code == 404
    assert client.get(reverse("sar:preview", args=[999999])).status_code == 404


def test_wrong_methods_get_405(client, cast):
    sign_in(client, cast.priya)
    assert client.post(reverse("sar:start")).status_code == 405
    assert client.get(reverse("sar:export", args=[cast.sam.pk])).status_code == 405
    assert client.put(reverse("sar:preview", args=[cast.sam.pk])).status_code == 405


def test_anonymous_is_sent_to_sign_in(client, cast):
    for method, url in urls(cast):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_the_dpo_sees_the_link_and_no_one_else_does(client, cast):
    link = f'href="{reverse("sar:start")}"'
    sign_in(client, cast.priya)
    assert link in client.get(reverse("home")).content.decode()
    sign_in(client, cast.helen)
    assert link not in client.get(reverse("home")).content.decode()
