"""Minimal incidents for clock tests, created directly so these tests exercise clocks.py alone."""

from datetime import datetime

from django.db import transaction

from incidents import clocks
from incidents.models import Category, Incident, Involved, Platform


def received(text: str) -> datetime:
    """'2025-11-22 09:00' in Europe/London, as an aware datetime."""
    from incidents.deadlines import LONDON

    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def report(cast, *, at: datetime, category=Category.PARENT_POST, school=None, subject=None, owner=None, now=None):
    school = school or cast.oakfield
    with transaction.atomic():
        incident = Incident.objects.create(
            school=school,
            reporter=cast.sam,
            category=category,
            platform=Platform.FACEBOOK,
            seen_at=at,
            involved=Involved.STAFF if subject else Involved.PARENT,
            subject=subject,
            description="CANARY-DESCRIPTION parent posted photos of the trip",
            child_at_risk=False,
            owner=owner or cast.helen,
            received_at=at,
        )
        clocks.clocks_start_response(incident=incident, now=now or at)
    incident.refresh_from_db()
    return incident


def acknowledge(incident, *, by, now):
    """What the workflow's acknowledge service does to the clocks (the incident row locked first)."""
    from incidents.models import Status

    with transaction.atomic():
        changed = Incident.objects.filter(pk=incident.pk, status=Status.SUBMITTED).update(
            status=Status.TRIAGE, acknowledged_at=now, acknowledged_by=by
        )
        assert changed == 1
        clocks.clocks_stop_response(incident=incident, now=now)
