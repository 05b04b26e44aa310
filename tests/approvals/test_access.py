"""Who sees and acts on what, over HTTP, against expectations written by hand: an object you may
not see is a 404 (exactly as a missing one), an action your relation does not allow a 403, a page
your role may not open a 403. The do-not-publish list is for approvers and the DSL only. And the
rule's two readings (filter and one-object check) agree for everybody on every object."""

import pytest
from django.test import Client
from django.urls import reverse

from approvals import access, services
from approvals.models import AuthorisationRequest, OfficialAccount
from tests.approvals.conftest import account_for, open_account, signed_in

pytestmark = pytest.mark.django_db

PEOPLE = ["helen", "dev", "dina", "sam", "tess", "una", "carol", "gary", "tom", "priya", "olive", "bethan"]
# helen: head; dev: approver named by helen; dina: DSL (and staff); sam, tess, una: staff;
# carol: chair (and staff); gary: governor; tom: trust admin; priya: DPO — all at Oakfield.
# olive: head at Brookside; bethan: staff at Brookside.

# Who sees each object (by hand). Anyone else: 404.
SEES = {
    "acc_open": {"helen", "dev", "sam", "tess"},  # Sam asked; Sam and Tess run it
    "acc_requested": {"helen", "dev", "una", "sam"},  # Una asked; Una and Sam would run it
    "acc_brookside": {"olive", "bethan"},
    "auth_sam": {"helen", "dev", "sam"},
    "auth_brookside": {"olive", "bethan"},
}
# Who may decide (the rest of those who see it: 403).
DECIDES = {"acc_requested": {"helen", "dev"}, "auth_sam": {"helen", "dev"}}
CLOSES = {"acc_open": {"helen", "dev"}}
STAFF_LIKE = {"helen", "dev", "dina", "sam", "tess", "una", "carol", "olive", "bethan"}
LIST_READERS = {"helen", "dev", "dina", "olive"}
HEADS = {"helen", "olive"}


@pytest.fixture
def objects(world):
    w = world
    return {
        "acc_open": open_account(w),
        "acc_requested": account_for(w, by=w.una, admins=[w.una, w.sam], name="@oak_pe"),
        "acc_brookside": services.account_decide(
            user=w.olive,
            account=account_for(w, by=w.bethan, admins=[w.bethan, w.olive], school=w.brookside),
            approve=True,
            reason="",
        ),
        "auth_sam": services.authorisation_request(
            user=w.sam, school=w.oakfield, kind=w.media_kind, details="Radio interview."
        ),
        "auth_brookside": services.authorisation_request(
            user=w.bethan, school=w.brookside, kind=w.media_kind, details="Newspaper."
        ),
    }


def _client(world, name):
    return signed_in(Client(), getattr(world, name))


def _detail(key, obj):
    return reverse("approvals:account" if key.startswith("acc") else "approvals:authorisation", args=[obj.pk])


@pytest.mark.parametrize("name", PEOPLE)
def test_each_person_sees_exactly_the_objects_of_the_table(world, objects, name):
    client = _client(world, name)
    problems = []
    for key, obj in objects.items():
        expected = 200 if name in SEES[key] else 404
        got = client.get(_detail(key, obj)).status_code
        if got != expected:
            problems.append(f"GET {key}: {got}, expected {expected}")
    missing = client.get(reverse("approvals:account", args=[999_999])).status_code
    if missing != 404:
        problems.append(f"a missing account: {missing}")
    for key, allowed in DECIDES.items():
        url = reverse(
            "approvals:account_decide" if key.startswith("acc") else "approvals:authorisation_decide",
            args=[objects[key].pk],
        )
        got = client.post(url, {"decision": "refuse", "reason": ""}).status_code  # a bad form: 400 if allowed
        expected = 400 if name in allowed else (403 if name in SEES[key] else 404)
        if got != expected:
            problems.append(f"POST decide {key}: {got}, expected {expected}")
    for key, allowed in CLOSES.items():
        got = client.post(reverse("approvals:account_close", args=[objects[key].pk]), {"reason": ""}).status_code
        expected = 400 if name in allowed else (403 if name in SEES[key] else 404)
        if got != expected:
            problems.append(f"POST close {key}: {got}, expected {expected}")
    pages = {
        "approvals:index": STAFF_LIKE,
        "approvals:register": STAFF_LIKE,
        "approvals:authorisations": STAFF_LIKE,
        "approvals:account_new": STAFF_LIKE,
        "approvals:authorisation_new": STAFF_LIKE,
        "approvals:do_not_publish": LIST_READERS,
        "approvals:do_not_publish_import": LIST_READERS,
        "approvals:approvers": HEADS,
    }
    for page, allowed in pages.items():
        got = client.get(reverse(page)).status_code
        expected = 200 if name in allowed else 403
        if got != expected:
            problems.append(f"GET {page}: {got}, expected {expected}")
    assert not problems, "\n".join(problems)


def test_the_lists_show_exactly_what_each_person_sees(world, objects):
    for name in PEOPLE:
        if name not in STAFF_LIKE:
            continue
        client = _client(world, name)
        register = client.get(reverse("approvals:register")).content.decode()
        shown = {k for k, o in objects.items() if k.startswith("acc") and _detail(k, o) in register}
        assert shown == {k for k in SEES if k.startswith("acc") and name in SEES[k]}, name
        listing = client.get(reverse("approvals:authorisations")).content.decode()
        shown = {k for k, o in objects.items() if k.startswith("auth") and _detail(k, o) in listing}
        assert shown == {k for k in SEES if k.startswith("auth") and name in SEES[k]}, name


def test_the_two_readings_of_the_rule_agree(world, objects):
    """For every person and object: the filter lets it through exactly when the one-object check
    finds a relation (the lists and the pages cannot disagree)."""
    for name in PEOPLE:
        user = getattr(world, name)
        for key, obj in objects.items():
            table = access.ACCOUNT_RELATIONS if key.startswith("acc") else access.AUTHORISATION_RELATIONS
            model = OfficialAccount if key.startswith("acc") else AuthorisationRequest
            by_filter = access.visible(model.objects.all(), user, table).filter(pk=obj.pk).exists()
            assert by_filter == bool(access.relations(user, obj, table)) == (name in SEES[key]), (name, key)


def test_an_inactive_approver_sees_nothing(world, objects):
    world.helen.is_active = False
    assert not access.visible(OfficialAccount.objects.all(), world.helen, access.ACCOUNT_RELATIONS).exists()
    assert not access.sees_list(world.helen, world.oakfield.pk)


def test_a_head_who_is_staff_elsewhere_is_no_approver_there(world, objects):
    from accounts.models import Role
    from tests.factories import member

    member(world.helen, world.brookside, Role.STAFF)
    assert (
        not access.visible(OfficialAccount.objects.all(), world.helen, access.ACCOUNT_RELATIONS)
        .filter(pk=objects["acc_brookside"].pk)
        .exists()
    )
    assert not access.sees_list(world.helen, world.brookside.pk)
