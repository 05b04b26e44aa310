"""What the audit trail (accounts) needs to know about cases, registered at start-up
(`IncidentsConfig.ready()`; accounts/case_lookups.py says why accounts cannot ask for itself)."""

from accounts.case_lookups import CaseLookups

from . import models

# The case's own tables whose row changes the triggers record (accounts/audit_triggers.py); events
# recorded before each change named its case are matched through the rows still there.
CASE_TABLES = {
    "incidents_evidence": models.Evidence,
    "incidents_timelineentry": models.TimelineEntry,
    "incidents_referral": models.Referral,
    "incidents_governorreview": models.GovernorReview,
    "incidents_casemessage": models.CaseMessage,
    "incidents_takedownrequest": models.TakedownRequest,
    "incidents_takedownstep": models.TakedownStep,
}


def case_of_reference(reference: str) -> int | None:
    return models.Incident.objects.filter(reference=reference).values_list("pk", flat=True).first()


def file_of_public_id(public_id: str) -> tuple[int, int] | None:
    return models.Evidence.objects.filter(public_id=public_id).values_list("pk", "incident_id").first()


def rows_of_cases(incident_ids: list[int]) -> dict[str, list[int]]:
    rows = {
        table: list(model.objects.filter(incident_id__in=incident_ids).values_list("pk", flat=True))
        for table, model in CASE_TABLES.items()
    }
    through = models.Incident.clauses.through
    rows[through._meta.db_table] = list(
        through.objects.filter(incident_id__in=incident_ids).values_list("pk", flat=True)
    )
    return rows


def cases_about(user) -> list[int]:
    return list(models.Incident.objects.filter(subject=user).values_list("pk", flat=True))


LOOKUPS = CaseLookups(
    case_of_reference=case_of_reference,
    file_of_public_id=file_of_public_id,
    rows_of_cases=rows_of_cases,
    cases_about=cases_about,
)
