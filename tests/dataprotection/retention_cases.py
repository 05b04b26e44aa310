"""Closed cases for the retention and subject-access tests, made through the workflow services."""

from datetime import date
from pathlib import Path

from django.conf import settings

from incidents import services
from incidents.models import (
    AllegationOutcome,
    Category,
    Evidence,
    Incident,
    Involved,
    Outcome,
    ReferralKind,
    Severity,
    Status,
    TimelineEntry,
)
from tests.incidents.factories import advance, fresh, report, upload

CANARY = "CANARY-7f3a9 Mrs Wendy Canary-Smith"


def closed_case(cast, *, school=None, reporter=None, files=1, **fields) -> Incident:
    """A parent-post case with evidence, closed with no breach by its owner."""
    fields.setdefault("description", f"A parent posted photos of pupils. {CANARY}")
    fields.setdefault("involved_detail", CANARY)
    incident = report(school or cast.oakfield, reporter or cast.sam, files=[upload() for _ in range(files)], **fields)
    return advance(incident, Status.CLOSED, cast, outcome=Outcome.NO_BREACH)


def allegation_case(cast, *, allegation_outcome: str = AllegationOutcome.SUBSTANTIATED, close=True) -> Incident:
    """Dina reports Sam; the head finds the harm threshold met (allegation), refers to the LADO and
    records the statutory outcome; then closes it."""
    incident = report(
        cast.oakfield,
        cast.dina,
        category=Category.STAFF_CONDUCT,
        involved=Involved.STAFF,
        subject=cast.sam,
        description=f"Sam Taylor messaged a Year 6 pupil privately. {CANARY}",
        files=[upload()],
    )
    helen = cast.helen
    services.incident_acknowledge(incident=fresh(incident), actor=helen)
    services.incident_triage(
        incident=fresh(incident),
        actor=helen,
        severity=Severity.HIGH,
        harm_harmed_child=False,
        harm_offence=False,
        harm_risk_to_children=True,
        harm_unsuitable=False,
        harm_reason="Private messages to a pupil.",
    )
    services.referral_record(incident=fresh(incident), actor=helen, kind=ReferralKind.LADO, made_on=date.today())
    services.incident_start_investigation(incident=fresh(incident), actor=helen)
    services.incident_propose_outcome(
        incident=fresh(incident),
        actor=helen,
        outcome=Outcome.NO_BREACH,
        reason="The LADO's view.",
        allegation_outcome=allegation_outcome,
    )
    if close:
        services.incident_close(incident=fresh(incident), actor=helen)
    return fresh(incident)


def closed_at(incident):
    return TimelineEntry.objects.filter(incident=incident, to_status=Status.CLOSED).latest("at").at


def files_of(incident) -> list[Path]:
    """The files on disk behind a case's evidence (originals and previews)."""
    folder = Path(settings.MEDIA_ROOT) / "evidence"
    names = [
        n
        for pair in Evidence.objects.filter(incident=incident).values_list("stored_name", "preview_name")
        for n in pair
        if n
    ]
    return [folder / name for name in names]


def evidence_files_on_disk() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "evidence"
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.exists() else []
