"""Audit events for sign-in, sign-out, failed sign-in and role changes; on SQLite also row changes
of the tracked tables (PostgreSQL records those with triggers, bulk and raw SQL included)."""

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .actor import current_actor
from .audit import record
from .audit_cases import about
from .audit_triggers import TRACKED_TABLES
from .models import AuditAction, Membership
from .security import stamp_session


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    # A single sign-on names its provider and whether it stood in for the authenticator code (accounts.sso).
    detail = getattr(request, "policyhub_sign_in_detail", None)
    record(AuditAction.SIGN_IN, request=request, actor=user, detail=detail)
    stamp_session(request)  # the sign-in saves the session: the first page after it need not


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        record(AuditAction.SIGN_OUT, request=request, actor=user)


@receiver(user_login_failed)
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    event = record(AuditAction.SIGN_IN_FAILED, request=request, detail={"username": credentials.get("username", "")})
    return event


@receiver(post_save, sender=Membership)
def _membership_saved(sender, instance, created, **kwargs):
    record(
        AuditAction.ROLE_CHANGE,
        object_type="membership",
        object_id=instance.pk,
        school_id=instance.school_id,
        detail={"user": instance.user_id, "role": instance.role, "op": "granted" if created else "changed"},
    )


@receiver(post_delete, sender=Membership)
def _membership_deleted(sender, instance, **kwargs):
    record(
        AuditAction.ROLE_CHANGE,
        object_type="membership",
        object_id=instance.pk,
        school_id=instance.school_id,
        detail={"user": instance.user_id, "role": instance.role, "op": "removed"},
    )


def _row_changed(sender, instance, created=None, **kwargs):
    if connection.vendor == "postgresql":
        return  # the database triggers record it
    op = "delete" if created is None else ("insert" if created else "update")
    actor = current_actor()  # set by the request, task or command (accounts/actor.py), as for the triggers
    detail = {"op": op, **({"actor": actor.label} if actor is not None and actor.label else {})}
    # The case the row belongs to, as the PostgreSQL trigger records it (accounts/audit_cases.py).
    case_id = instance.pk if sender._meta.db_table == "incidents_incident" else getattr(instance, "incident_id", None)
    if case_id is not None:
        detail.update(about(case_id))
    record(
        AuditAction.DB_CHANGE,
        actor=actor.user if actor is not None else None,
        object_type=sender._meta.db_table,
        object_id=instance.pk,
        detail=detail,
    )


def connect_row_change_fallback():
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table in TRACKED_TABLES:
            post_save.connect(_row_changed, sender=model, dispatch_uid=f"audit-{model._meta.db_table}-save")
            post_delete.connect(_row_changed, sender=model, dispatch_uid=f"audit-{model._meta.db_table}-delete")


def _sso_setting_changed(sender, instance, op, **kwargs):
    """Who may sign in, and with which roles, is decided by these settings: each change is audited."""
    from .models import SingleSignOnGroupRole

    actor = current_actor()
    if isinstance(instance, SingleSignOnGroupRole):
        detail = {"op": op, "provider": instance.provider_id, "group": instance.group[:100], "role": instance.role}
        school_id = instance.school_id
    else:
        fields = ("is_active", "password_sign_in", "trust_provider_mfa", "allowed_domains", "tenant_id")
        detail = {"op": op, "trust": instance.trust_id} | {f: getattr(instance, f) for f in fields}
        detail["create_staff_at"] = instance.create_staff_at_id
        detail["break_glass_user"] = instance.break_glass_user_id
        school_id = None
    record(
        AuditAction.CHANGE,
        actor=actor.user if actor is not None else None,
        object_type=sender._meta.model_name,
        object_id=instance.pk,
        school_id=school_id,
        detail=detail,
    )


@receiver(post_save, sender="accounts.SingleSignOnProvider")
@receiver(post_save, sender="accounts.SingleSignOnGroupRole")
def _sso_setting_saved(sender, instance, created, **kwargs):
    _sso_setting_changed(sender, instance, "created" if created else "changed")


@receiver(post_delete, sender="accounts.SingleSignOnProvider")
@receiver(post_delete, sender="accounts.SingleSignOnGroupRole")
def _sso_setting_deleted(sender, instance, **kwargs):
    _sso_setting_changed(sender, instance, "removed")
