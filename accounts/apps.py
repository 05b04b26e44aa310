from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and schools"

    def ready(self):
        from . import actor, audit_triggers, signals

        signals.connect_row_change_fallback()
        actor.connect()
        post_migrate.connect(audit_triggers.install, dispatch_uid="policyhub-audit-triggers")
