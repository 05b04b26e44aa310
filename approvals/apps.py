from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Official accounts and authorisations"

    def ready(self):
        # The messages (incidents.emails.MESSAGES), the deadline effects, the leaver hooks: registered
        # from here, so incidents and accounts import nothing from this app.
        from incidents.case_lists import add_presence
        from incidents.clocks import EFFECTS

        from . import emails, signals  # noqa: F401
        from .clocks import EFFECTS as OURS
        from .templatetags.approvals_tags import accounts_presence

        EFFECTS.update(OURS)
        # The case page reads its official-account section only where there is one to show.
        add_presence("official_accounts", accounts_presence)
