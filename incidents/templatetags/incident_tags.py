"""Template helpers for incidents. They format what the view gives them and run no queries: lists,
counts and figures are fetched by incidents/selectors.py, through the queryset rules in
incidents/models.py (visible_to, owned_by, under_review_for, counted_for)."""

from django import template
from django.utils import timezone

from incidents.deadlines import format_duration, format_local
from incidents.models import Status

register = template.Library()

DUE_SOON_SECONDS = 4 * 3600  # static/js/deadline-badge.js uses the same threshold


@register.filter
def local_time(value):
    """ "Tue 26 May 17:00" in Europe/London, the way deadlines are written everywhere."""
    return format_local(value) if value else ""


@register.filter
def due_why(reason):
    """A deadline's reason without its leading "due <time> — " (deadlines.py writes every reason that
    way): for pages that have just said the due time, so it is not said twice in one sentence."""
    head, sep, rest = (reason or "").partition(" — ")
    return rest if sep and head.startswith("due ") else reason


@register.inclusion_tag("incidents/_deadline_badge.html")
def deadline_badge(incident, now=None):
    """Time left or overdue for the first response; "acknowledged" once the clock stopped."""
    now = now or timezone.now()
    due = incident.response_due_at
    if incident.acknowledged_at is not None or incident.status != Status.SUBMITTED:
        return {"tone": "success", "label": "Acknowledged", "detail": ""}
    if due is None:
        return {"tone": "secondary", "label": "Due time being worked out", "detail": ""}
    left = due - now
    if left.total_seconds() <= 0:
        late = format_duration(_minutes(-left))
        return {
            "tone": "danger",
            "label": f"Overdue by {late}",
            "detail": f"was due {format_local(due)}",
            "due_iso": due.isoformat(),
        }
    tone = "warning" if left.total_seconds() < DUE_SOON_SECONDS else "info"
    return {
        "tone": tone,
        "label": f"{format_duration(_minutes(left))} left",
        "detail": f"due {format_local(due)}",
        "due_iso": due.isoformat(),
    }


def _minutes(delta):
    return timezone.timedelta(minutes=max(1, int(delta.total_seconds() // 60)))
