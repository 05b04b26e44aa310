"""When the reporter's channel is open: the requirements of its rows in incidents/transitions.TABLE.

Kept apart from incidents/reporter_channel.py (the services), which imports transitions: the table
imports these, and they import nothing that imports the table.
"""

from datetime import datetime, timedelta

from django.utils import timezone

from .deadlines import format_local
from .models import CaseMessage, Incident, MessageKind, Status, TimelineEntry, TimelineKind

# How long after a case is closed its reporter may still write (the owners may always reply).
REPORTER_WINDOW_DAYS = 30


def closed_at(incident: Incident) -> datetime | None:
    """When the case was last closed (its latest move to Closed), or None while it is not closed."""
    if incident.status != Status.CLOSED:
        return None
    return (
        TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.TRANSITION, to_status=Status.CLOSED)
        .order_by("-at", "-pk")
        .values_list("at", flat=True)
        .first()
    )


def reporter_window_open(incident: Incident, now: datetime | None = None) -> str | None:
    closed = closed_at(incident)
    if closed is None:
        return None
    until = closed + timedelta(days=REPORTER_WINDOW_DAYS)
    if (now or timezone.now()) < until:
        return None
    when = format_local(closed, with_year=True)
    return (
        f"This case was closed on {when}; messages can be sent for {REPORTER_WINDOW_DAYS} days after a case "
        "closes. If something new has happened, please make a new report."
    )


def reporter_reachable(incident: Incident) -> str | None:
    """A former reporter (account deactivated) can no longer read the thread: nothing is sent to them."""
    if not incident.reporter.is_active:
        return "The reporter's account is no longer active, so they cannot read messages."
    if incident.subject_id is not None and incident.subject_id == incident.reporter_id:
        return "The reporter is the subject of this case."  # never: notify() would refuse too
    return None


def what_we_did_not_sent(incident: Incident) -> str | None:
    closed = closed_at(incident)
    if closed is not None and _what_we_did_since(incident, closed):
        return "“What we did” has been sent for this closing. To add something, send the reporter a message."
    return None


def _what_we_did_since(incident: Incident, closed: datetime) -> bool:
    return CaseMessage.objects.filter(incident=incident, kind=MessageKind.WHAT_WE_DID, sent_at__gte=closed).exists()
