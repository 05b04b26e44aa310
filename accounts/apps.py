from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and schools"

    def ready(self):
        # Imported here, not at the top: signals reads the model registry, which is filled only now.
        from . import actor, audit_triggers, signals, sso_buttons  # noqa: F401 (sso_buttons: its signals)

        signals.connect_row_change_fallback()
        actor.connect()
        post_migrate.connect(audit_triggers.install, dispatch_uid="policyhub-audit-triggers")
