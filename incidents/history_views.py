"""A case's access history (mounted at /audit/case/<reference>/, in the "audit" URL namespace beside the
trust's log): who opened the case and its files, and who was refused, for the people who own the
case. It lives here, not in accounts, because it needs the case and its access rule; accounts (the
audit trail itself) imports nothing from incidents."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from accounts.audit_cases import concerning
from accounts.audit_views import PAGE_SIZE
from accounts.models import AuditEvent

from .models import Incident
from .transitions import TRANSITIONS, case_roles


@require_GET
def case_history(request, reference):
    """Who opened a case and its files, and who was refused: for the people who own the case."""
    incident = get_object_or_404(
        Incident.objects.visible_to(request.user).select_related("school"), reference=reference
    )
    if not case_roles(request.user, incident) & TRANSITIONS["access_history"].roles:
        raise PermissionDenied("A case's access history is for the people who own the case.")
    # Every event naming the case: reads, refusals, changes, its files, its rows, exports.
    events = AuditEvent.objects.filter(concerning([incident.pk])).order_by("-id")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    # Files are named as on the case page, never by database id (ids would count other cases' files).
    names = {str(pk): name for pk, name in incident.evidence.values_list("pk", "original_name")}
    for event in page.object_list:
        event.file_name = names.get(event.object_id, "") if event.object_type == "evidence" else ""
    return render(request, "incidents/case_history.html", {"incident": incident, "page": page})
