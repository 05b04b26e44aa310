"""Template helpers for incidents. Every case list here is fetched through the queryset rules in
incidents/models.py (visible_to, owned_by, under_review_for, counted_for), never filtered here."""

from django import template
from django.db.models import Count, Q
from django.utils import timezone

from accounts.audit_reads import shown
from accounts.models import Role
from incidents.deadlines import format_duration, format_local
from incidents.models import NON_BREACH_OUTCOMES, OPEN_STATUSES, Incident, Status

register = template.Library()

CITING_LIMIT = 50
DUE_SOON_SECONDS = 4 * 3600  # static/js/deadline-badge.js uses the same threshold
HOME_LIMIT = 5


@register.filter
def local_time(value):
    """ "Tue 26 May 17:00" in Europe/London, the way deadlines are written everywhere."""
    return format_local(value) if value else ""


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


@register.simple_tag(takes_context=True)
def home_my_reports(context):
    user = context["request"].user
    reports = Incident.objects.visible_to(user).filter(reporter=user).order_by("-received_at", "-pk")
    reports = list(reports.only("pk", "reference", "category", "status", "received_at")[:HOME_LIMIT])
    if reports:
        shown(context["request"])  # the page shows cases: audited (accounts/audit_reads.py)
    return reports


@register.simple_tag(takes_context=True)
def home_queue(context):
    user = context["request"].user
    cases = Incident.objects.owned_by(user).filter(status__in=OPEN_STATUSES)
    # Overdue from the moment the deadline passes, not from the next sweep: the home page must not
    # say "waiting" for a case that is already late. One query for the three counts.
    waiting = Q(status=Status.SUBMITTED)
    return cases.aggregate(
        waiting=Count("pk", filter=waiting),
        overdue=Count("pk", filter=waiting & Q(response_due_at__lte=timezone.now())),
        open=Count("pk"),
    )


@register.simple_tag(takes_context=True)
def home_reviews(context):
    user = context["request"].user
    return Incident.objects.under_review_for(user).filter(status=Status.GOVERNOR_REVIEW).count()


@register.simple_tag(takes_context=True)
def clause_incidents(context, clause):
    """The cases citing `clause` that the viewer may see: (first CITING_LIMIT, how many in all)."""
    request = context.get("request")
    if request is None or clause is None:
        return {"items": [], "total": 0, "more": 0}
    citing = Incident.objects.visible_to(request.user).filter(clauses=clause).order_by("-received_at", "-pk")
    # Always two queries (the first page, the total), whatever the number: a constant query count.
    items = list(citing.only("pk", "reference", "category", "status", "received_at")[:CITING_LIMIT])
    total = citing.count()
    if items:
        shown(request)  # the page shows cases: audited (accounts/audit_reads.py)
    return {"items": items, "total": total, "more": total - len(items)}


@register.simple_tag(takes_context=True)
def clause_breach_count(context, clause):
    """How often `clause` was found breached (closed with a breach outcome), counted over the cases
    the viewer may count. One query per policy version per request, however many clauses show."""
    request = context.get("request")
    if request is None or clause is None:
        return 0
    cache = request.__dict__.setdefault("_clause_breach_counts", {})
    if clause.version_id not in cache:
        breaches = (
            Incident.objects.counted_for(request.user)
            .filter(status=Status.CLOSED)
            .exclude(outcome="")
            .exclude(outcome__in=NON_BREACH_OUTCOMES)
        )
        rows = (
            Incident.clauses.through.objects.filter(clause__version_id=clause.version_id, incident__in=breaches)
            .values("clause_id")
            .annotate(n=Count("incident_id"))
        )
        cache[clause.version_id] = {row["clause_id"]: row["n"] for row in rows}
    return cache[clause.version_id].get(clause.pk, 0)


@register.simple_tag(takes_context=True)
def is_owner_here(context):
    ctx = context["request"].ctx
    return ctx.has_role(Role.HEAD, Role.DSL, Role.CHAIR)
