"""Reading the audit trail: the trust's log (trust admins and data-protection officers), with
filters and a CSV export that is itself audited. A case's access history is in
incidents/history_views.py (it needs the case; accounts imports nothing from incidents).

The log and its CSV never show a reader an event about a case whose subject they are, nor about
their own person page (accounts/audit_cases.py): a trust admin or DPO may be the subject of a case."""

import csv

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .audit import record
from .audit_cases import for_reader
from .models import AuditAction, AuditEvent, Membership, School
from .pages import page, schools_for

PAGE_SIZE = 50


def _log_schools(request) -> list[int]:
    """Schools whose log this user may read: every school of each trust where they are trust admin
    or DPO, and the schools themselves where they hold it without a trust."""
    held = schools_for(request.ctx, "audit:log")
    trusts = {s.trust_id for s in held if s.trust_id}
    return list(
        School.objects.filter(Q(trust__in=trusts) | Q(pk__in=[s.pk for s in held])).values_list("pk", flat=True)
    )


class LogFilter(forms.Form):
    school = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *AuditAction.choices])
    actor = forms.CharField(required=False, label="Person (email)", max_length=254)
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [("", "All schools"), *((s.pk, s.name) for s in schools)]


def _filtered_log(request, school_ids):
    people = Membership.objects.filter(school__in=school_ids).values("user_id")
    events = AuditEvent.objects.filter(Q(school_id__in=school_ids) | Q(school_id__isnull=True, actor__in=people))
    events = for_reader(events, request.user)
    schools = School.objects.filter(pk__in=school_ids).order_by("name")
    form = LogFilter(request.GET or None, schools=schools)
    if form.is_valid():
        data = form.cleaned_data
        if data["school"]:
            events = events.filter(school_id=data["school"])
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["actor"]:
            events = events.filter(actor_email__iexact=data["actor"].strip())
        if data["since"]:
            events = events.filter(at__date__gte=data["since"])
        if data["until"]:
            events = events.filter(at__date__lte=data["until"])
    return form, events.order_by("-id")


@require_GET
@page("audit:log")
def audit_log(request):
    school_ids = _log_schools(request)
    form, events = _filtered_log(request, school_ids)
    if request.GET.get("format") == "csv":
        return _csv(request, events)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.shown_object = shown_object(event)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/audit_log.html", {"form": form, "page": page, "query": query.urlencode()})


def _is_case_object(object_type: str) -> bool:
    return object_type in ("incident", "evidence") or object_type.startswith("incidents_")


def shown_object(event) -> str:
    """What the log shows to name an event's object. A case, its files and its rows by their
    reference or random id (object_ref), never by database id: database ids run in sequence, and
    a gap would tell a reader who is the subject of a case, hidden from them, that it exists."""
    return event.object_ref if _is_case_object(event.object_type) else event.object_id


def _cell(value) -> str:
    """CSV injection: a spreadsheet must never run a cell as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(request, events):
    record(AuditAction.EXPORT, request=request, object_type="audit_log", detail={"query": request.GET.urlencode()})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="policyhub-audit-log.csv"'
    writer = csv.writer(response)
    # No event id either: event ids run in sequence across every school, so gaps would date what is hidden.
    writer.writerow(["at", "actor", "action", "object type", "object", "school id", "path", "address"])
    for e in events.iterator(chunk_size=2000):
        writer.writerow(
            [
                _cell(v)
                for v in (
                    e.at.isoformat(),
                    e.actor_email,
                    e.action,
                    e.object_type,
                    shown_object(e),
                    e.school_id,
                    e.path,
                    e.ip,
                )
            ]
        )
    return response
