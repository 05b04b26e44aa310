from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        # accounts imports nothing from incidents (it is the base of the house), so incidents tells
        # the audit trail which case an evidence file belongs to: a download is then recorded with
        # its case and shows in that case's access history. Imported here: the registry is full now.
        from accounts import audit

        from .models import Evidence

        def case_of_evidence(pk: int) -> int | None:
            return Evidence.objects.filter(pk=pk).values_list("incident_id", flat=True).first()

        audit.register_evidence_case(case_of_evidence)
