"""What incidents tells accounts about people leaving or changing roles at a school ([10] staff import).

- `open_cases`: a leaver's open cases as owner, by reference only (accounts.leavers), so the head
  sees what needs a new owner before confirming the import that ends the person's roles.
- `open_tasks`: the leaver's open tasks on cases, by case reference and due day, for the same reason.
- `_reroute_after_import`: the staff import writes memberships in bulk (no model signals), then
  sends accounts.staff_import.roles_changed once; the cases about those people, and the reviews in
  progress at the school, are routed again here, as incidents/signals.py does for a single change.
  Only the people with an open case about them, or everyone when a review is in progress, cost
  more than the two queries that find them.
"""

from django.dispatch import receiver
from django.urls import reverse

from accounts import leavers, staff_import
from accounts.actor import current_actor
from accounts.models import User

from .models import Incident, Status, Task, TaskState


@leavers.holding
def open_cases(user, school):
    """The leaver's open cases as owner, among those the person looking may see: the page's viewer is
    the request's person (accounts/actor.py, set by AuditMiddleware), so a head never learns of a
    case about herself that the leaving chair owns, and a trust admin sees no reference at all.
    The command and other system code (no person acting) list them all: an operator at the server."""
    cases = Incident.objects.filter(school=school, owner=user).exclude(status=Status.CLOSED)
    actor = current_actor()
    if actor is not None and actor.user is not None:
        cases = cases.filter(pk__in=Incident.objects.visible_to(actor.user).values("pk"))
    references = cases.order_by("created_at", "pk").values_list("reference", flat=True)
    return [leavers.Holding("Open case", ref, reverse("incidents:detail", args=[ref])) for ref in references]


@leavers.holding
def open_tasks(user, school):
    """The leaver's open tasks at the school, by case reference and due day (never the task's
    title): the owner gives them to someone else. Filtered like open_cases for the person looking."""
    tasks = Task.objects.filter(assignee=user, state=TaskState.OPEN, incident__school=school)
    actor = current_actor()
    if actor is not None and actor.user is not None:
        tasks = tasks.filter(incident__in=Incident.objects.visible_to(actor.user).values("pk"))
    rows = tasks.order_by("due_at", "pk").values_list("incident__reference", "due_on")
    return [
        leavers.Holding("Open task", f"{ref}, due {due:%-d %b %Y}", reverse("incidents:detail", args=[ref]))
        for ref, due in rows
    ]


@receiver(staff_import.roles_changed, dispatch_uid="incidents-staff-import-reroute")
def _reroute_after_import(sender, school, user_ids, **kwargs):
    from . import services

    open_cases = Incident.objects.filter(school=school).exclude(status=Status.CLOSED)
    affected = set(open_cases.filter(subject_id__in=user_ids).values_list("subject_id", flat=True))
    if open_cases.filter(status=Status.GOVERNOR_REVIEW).exists():
        affected = set(user_ids)  # who decides a review depends on every governor and head
    for user in User.objects.filter(pk__in=affected).order_by("pk"):
        services.incident_reroute_for_roles(user=user, school_id=school.pk)
