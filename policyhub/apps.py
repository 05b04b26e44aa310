from django.apps import AppConfig


class PolicyhubConfig(AppConfig):
    name = "policyhub"
    verbose_name = "Policy"

    def ready(self):
        # Imported for their effect: system checks, the policy messages the outbox builds, and the
        # review clock's effect (run by the deadline sweep).
        from incidents.clocks import EFFECTS
        from incidents.models import DeadlineKind

        from . import checks, emails, review  # noqa: F401

        EFFECTS[DeadlineKind.POLICY_REVIEW] = review.effect
