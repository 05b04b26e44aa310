"""A case's access history (mounted at /audit/case/<id>/, in the "audit" URL namespace beside the
trust's log): who opened the case and its files, and who was refused, for the people who own the
case. It lives here, not in accounts, because it needs the case and its access rule; accounts (the
audit trail itself) imports nothing from incidents."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from accounts.audit_views import PAGE_SIZE
from accounts.models import AuditEvent

from .models import Incident
from .transitions import OWNERS, case_roles


@require_GET
def case_history(request, pk):
    """Who opened a case and its files, and who was refused: for the people who own the case."""
    incident = get_object_or_404(Incident.objects.visible_to(request.user).select_related("school"), pk=pk)
    if not case_roles(request.user, incident) & OWNERS:
        raise PermissionDenied("A case's access history is for the people who own the case.")
    events = AuditEvent.objects.filter(
        Q(object_type="incident", object_id=str(incident.pk)) | Q(object_type="evidence", detail__incident=incident.pk)
    ).order_by("-id")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "incidents/case_history.html", {"incident": incident, "page": page})
