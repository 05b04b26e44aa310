from django.apps import AppConfig


class PolicyhubConfig(AppConfig):
    name = "policyhub"
    verbose_name = "Policy"

    def ready(self):
        # Imported for their effect: system checks, and the policy messages the outbox builds.
        from . import checks, emails  # noqa: F401
