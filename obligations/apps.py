from django.apps import AppConfig


class ObligationsConfig(AppConfig):
    """The policy's other half ([10]): what staff declare, the training they have had, and the
    questions they ask before posting. Built on the case machinery: deadlines (incidents/clocks.py
    fires them; the effects live in obligations/clocks.py), content-free emails (incidents/notify.py)
    and the audit trail."""

    name = "obligations"
    verbose_name = "Declarations, training and advice"

    def ready(self):
        from . import clocks, emails, leavers  # noqa: F401 (registers effects, messages and holdings)
