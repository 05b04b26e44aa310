from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        # accounts imports nothing from incidents (it is the base of the house), so incidents tells
        # the audit trail which case a reference or an evidence file names, which rows belong to a
        # case and which cases are about a person: reads are then recorded with their case, and the
        # log hides a case's events from its subject. Imported here: the registry is full now.
        from accounts import case_lookups

        from . import leaving, signals  # noqa: F401  (role changes re-route cases; leavers' open cases)
        from .audit_lookups import LOOKUPS

        case_lookups.register(LOOKUPS)
