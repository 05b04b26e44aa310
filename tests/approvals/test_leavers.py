"""An administrator leaves (their last membership of the school ends, as the staff import ends
it): the head is asked to name a replacement, on the register and by a content-free email; the
staff import lists the accounts they ran first (accounts.leavers)."""

import pytest
from django.urls import reverse

from accounts import leavers
from accounts.models import Membership, Role
from approvals import services
from approvals.models import AccountAdministrator, AdministratorVacancy, Approver
from incidents.emails import build
from incidents.errors import Invalid, NotAllowed
from incidents.models import Notification
from tests.approvals.conftest import account_for, open_account, signed_in

pytestmark = pytest.mark.django_db


def test_the_leavers_registry_lists_the_accounts_someone_runs(world):
    account = open_account(world)
    held = leavers.left_behind(world.tess, world.oakfield)
    assert [(h.kind, h.url) for h in held] == [("Official account", reverse("approvals:account", args=[account.pk]))]
    assert leavers.left_behind(world.tess, world.brookside) == []


def test_when_an_administrator_leaves_the_head_is_asked_for_a_replacement(world, client):
    account = open_account(world)
    Membership.objects.filter(user=world.tess, school=world.oakfield).delete()  # what the staff import does
    vacancy = AdministratorVacancy.objects.get(account=account)
    assert vacancy.left_user == world.tess and vacancy.filled_at is None
    assert not AccountAdministrator.objects.filter(account=account, user=world.tess, ended_at__isnull=True).exists()
    mail = Notification.objects.get(kind="account_admin_left")
    assert mail.recipient == world.helen
    subject, body = build(mail)
    assert "Tess" not in subject + body and "Instagram" not in subject + body
    # The task is on the register (the head's), and on the account's page with a form.
    signed_in(client, world.helen)
    register = client.get(reverse("approvals:register")).content.decode()
    assert "Tasks: name a replacement" in register and "Tess Nolan left" in register
    page = client.get(reverse("approvals:account", args=[account.pk])).content.decode()
    assert reverse("approvals:vacancy_fill", args=[vacancy.pk]) in page
    # Naming the replacement through the page.
    response = client.post(reverse("approvals:vacancy_fill", args=[vacancy.pk]), {"replacement": world.una.pk})
    assert response.status_code == 302
    vacancy.refresh_from_db()
    assert vacancy.replacement == world.una and vacancy.filled_by == world.helen
    assert set(
        AccountAdministrator.objects.filter(account=account, ended_at__isnull=True).values_list("user", flat=True)
    ) == {world.sam.pk, world.una.pk}
    assert "Tasks: name a replacement" not in client.get(reverse("approvals:register")).content.decode()


def test_losing_one_role_of_two_is_not_leaving(world):
    open_account(world, admins=[world.sam, world.dina])
    Membership.objects.filter(user=world.dina, role=Role.DSL).delete()
    assert not AdministratorVacancy.objects.exists() and not Notification.objects.filter(kind="account_admin_left")


def test_a_replacement_must_be_staff_and_only_an_approver_names_one(world):
    account = open_account(world)
    Membership.objects.filter(user=world.tess).delete()
    vacancy = AdministratorVacancy.objects.get(account=account)
    with pytest.raises(NotAllowed):
        services.vacancy_fill(user=world.sam, vacancy=vacancy, replacement=world.una)
    with pytest.raises(Invalid):
        services.vacancy_fill(user=world.helen, vacancy=vacancy, replacement=world.bethan)
    with pytest.raises(Invalid):
        services.vacancy_fill(user=world.helen, vacancy=vacancy, replacement=world.sam)  # runs it already
    assert AdministratorVacancy.objects.get(pk=vacancy.pk).filled_at is None


def test_a_named_approver_who_leaves_stops_approving(world):
    Membership.objects.filter(user=world.dev).delete()
    assert not Approver.objects.filter(user=world.dev).exists()


def test_a_head_who_is_an_administrator_and_leaves_is_not_asked_about_herself(world):
    account = account_for(world, by=world.sam, admins=[world.sam, world.helen])
    services.account_decide(user=world.dev, account=account, approve=True, reason="")
    Membership.objects.filter(user=world.helen).delete()
    assert AdministratorVacancy.objects.filter(account=account, left_user=world.helen).exists()
    assert not Notification.objects.filter(kind="account_admin_left", recipient=world.helen).exists()


def test_an_administrator_of_a_pending_request_who_leaves_is_taken_off_it(world):
    account = account_for(world)
    Membership.objects.filter(user=world.tess).delete()
    assert not AdministratorVacancy.objects.exists()
    # The approver cannot now approve an account with one administrator left.
    with pytest.raises(Invalid, match="at least 2"):
        services.account_decide(user=world.helen, account=account, approve=True, reason="")


def test_the_staff_import_leaving_someone_out_asks_for_a_replacement(world):
    """The real import (bulk deletes, no post_delete): its roles_changed signal does the same."""
    from accounts import staff_import

    account = open_account(world)
    others = Membership.objects.filter(school=world.oakfield).exclude(user=world.tess)
    emails = sorted(set(others.values_list("user__email", flat=True)))
    csv = "Email,Roles\n" + "".join(f"{email},Staff\n" for email in emails)
    outcome = staff_import.run(csv.encode(), world.oakfield, deactivate_missing=True, actor=world.helen)
    assert outcome.applied and [leaver.user for leaver in outcome.plan.leavers] == [world.tess]
    assert not Membership.objects.filter(user=world.tess, school=world.oakfield).exists()
    vacancy = AdministratorVacancy.objects.get(account=account)
    assert vacancy.left_user == world.tess and vacancy.filled_at is None
    assert not AccountAdministrator.objects.filter(account=account, user=world.tess, ended_at__isnull=True).exists()
    assert Notification.objects.filter(kind="account_admin_left", recipient=world.helen).count() == 1
