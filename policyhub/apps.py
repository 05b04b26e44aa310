from django.apps import AppConfig


class PolicyhubConfig(AppConfig):
    name = "policyhub"
    verbose_name = "Policy"

    def ready(self):
        # Imported for their effect: system checks, the policy messages the outbox builds, and the
        # review clock's effect (run by the deadline sweep).
        from accounts.backends import ask_per_school
        from incidents.clocks import EFFECTS
        from incidents.models import DeadlineKind

        from . import checks, emails, review  # noqa: F401
        from .context_processors import banner_columns

        EFFECTS[DeadlineKind.POLICY_REVIEW] = review.effect
        # The policy banner at each of the person's schools, fetched with the person (no query of its own).
        ask_per_school("banner", banner_columns)
