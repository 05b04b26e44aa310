"""Leaving a school: when someone's last membership there ends (the staff import deletes
memberships), the accounts they ran need a replacement; the staff import lists them first."""

from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse

from accounts import leavers, staff_import
from accounts.models import Membership

from . import services
from .models import AccountAdministrator, AccountStatus


@receiver(post_delete, sender=Membership)
def _membership_ended(sender, instance, **kwargs):
    services.administrator_left(user_id=instance.user_id, school_id=instance.school_id)


@receiver(staff_import.roles_changed, dispatch_uid="approvals-staff-import-leavers")
def _import_ended_roles(sender, school, ended, **kwargs):
    # The import deletes memberships in bulk (no post_delete): the same check for everyone whose role
    # there ended, in bulk; nothing happens for someone who still holds another role.
    services.administrators_left(user_ids=[user_id for user_id, _role in ended], school_id=school.pk)


@leavers.holding
def official_accounts(user, school):
    rows = AccountAdministrator.objects.filter(
        user=user,
        ended_at__isnull=True,
        account__school=school,
        account__status__in=[AccountStatus.OPEN, AccountStatus.REQUESTED],
    ).select_related("account")
    return [
        leavers.Holding(
            "Official account",
            f"{row.account.platform}: {row.account.name}",
            reverse("approvals:account", args=[row.account_id]),
        )
        for row in rows
    ]
