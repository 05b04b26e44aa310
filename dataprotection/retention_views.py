"""Retention pages: what the nightly job will delete in the next month, legal holds and the
subject's pension age (retention.py beside this file has the rules).

Who sees what:
- a data-protection officer: every case of the schools where they are DPO, named by reference,
  category, closing date and rule only (no content: the DPO reaches content only through the
  audited subject-access export);
- a head teacher: the cases of their school they own as head (the head's relation in
  incidents/access.py, so a case about a head never shows here; the chair owns it).
Both are Incident.objects.retention_scope (incidents/access.py, RETENTION).
The subject of a case never sees it here, whatever roles they hold: "Find a case" answers for a
reference about them exactly as for one that does not exist. Anything else is a 404. Every page
shown is audited (accounts/audit_reads.py), naming the case found by reference.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.audit_reads import shown
from accounts.models import Role
from accounts.pages import page
from incidents import forms as incident_forms
from incidents import references
from incidents.errors import ActionRefused, NotAllowed
from incidents.models import Incident

from . import retention


class LookupForm(forms.Form):
    reference = incident_forms.ReferenceField(label="Case reference")


class HoldForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept on the case's timeline.",
    )


class PensionAgeForm(forms.Form):
    retirement_date = forms.DateField(
        label="Subject's normal pension age falls on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty to clear it.",
    )


def _schools(request) -> tuple[set[int], set[int]]:
    """(schools where the user is DPO, schools where they are head); 403 if neither."""
    dpo = {m.school_id for m in request.ctx.memberships if m.role == Role.DPO}
    head = {m.school_id for m in request.ctx.memberships if m.role == Role.HEAD}
    if not dpo and not head:
        raise PermissionDenied("Retention is for data-protection officers and head teachers.")
    return dpo, head


def _page(request, dpo, head, *, found=None, forms_for_found=None, status=200):
    scope = Incident.objects.retention_scope(request.user)
    now = timezone.now()
    names = {m.school_id: m.school.name for m in request.ctx.memberships}
    held = list(
        scope.filter(legal_hold=True)
        .only("pk", "reference", "category", "status", "school_id", "subject_is_head")
        .order_by("reference")
    )
    rows = retention.upcoming(scope, now=now)
    context = {
        "rows": rows,
        "held": held,
        "until": now + retention.LOOKAHEAD,
        "now": now,
        "many_schools": len(dpo | head) > 1,
        "head_schools": head,
        "lookup": LookupForm(request.GET or None) if found is None else LookupForm(),
        "found": found,
        "missing": False,
        "hold_form": HoldForm(),
        "release_form": HoldForm(),
        "pension_form": PensionAgeForm(),
    }
    if found is None and context["lookup"].is_valid():
        parsed = context["lookup"].cleaned_data["reference"]
        pk = references.matching(scope, parsed).values_list("pk", flat=True).first()
        context["found"] = retention.plan(scope, pk) if pk else None
        # A reference about the viewer reads exactly as one that does not exist (retention_scope left it out).
        context["missing"] = pk is None
        if pk:
            shown(request, pk)
    if found is not None:
        context["found"] = found
        context.update(forms_for_found or {})
    for incident in [r.incident for r in rows] + held + ([context["found"].incident] if context["found"] else []):
        incident.school_name = names.get(incident.school_id, "")
    return render(request, "retention/upcoming.html", context, status=status)


@require_GET
@page("retention:upcoming")
def upcoming(request):
    dpo, head = _schools(request)
    return _page(request, dpo, head)


def _back(incident) -> str:
    return f"{reverse('retention:upcoming')}?reference={incident.reference}"


def _act(request, incident, call, success):
    try:
        call()
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect(_back(incident))


def _set_hold(request, reference, *, on: bool):
    dpo, head = _schools(request)
    scope = Incident.objects.retention_scope(request.user)
    incident = get_object_or_404(scope, reference=reference)
    pk = incident.pk
    form = HoldForm(request.POST)
    if not form.is_valid():
        key = "hold_form" if on else "release_form"
        return _page(request, dpo, head, found=retention.plan(scope, pk), forms_for_found={key: form}, status=400)
    service = retention.legal_hold_place if on else retention.legal_hold_release
    reason = form.cleaned_data["reason"]
    success = f"{incident.reference} is {'on legal hold' if on else 'no longer on legal hold'}."
    return _act(request, incident, lambda: service(incident=incident, actor=request.user, reason=reason), success)


@require_POST
def hold(request, reference):
    return _set_hold(request, reference, on=True)


@require_POST
def release(request, reference):
    return _set_hold(request, reference, on=False)


@require_POST
def pension_age(request, reference):
    """The owner records the subject's normal pension age (allegations are kept until then, or
    10 years, whichever is longer)."""
    dpo, head = _schools(request)
    scope = Incident.objects.retention_scope(request.user)
    incident = get_object_or_404(scope, reference=reference)
    pk = incident.pk
    form = PensionAgeForm(request.POST)
    if not form.is_valid():
        return _page(
            request, dpo, head, found=retention.plan(scope, pk), forms_for_found={"pension_form": form}, status=400
        )
    day = form.cleaned_data["retirement_date"]
    return _act(
        request,
        incident,
        lambda: retention.incident_set_retirement_date(incident=incident, actor=request.user, retirement_date=day),
        f"{incident.reference}: pension age {'recorded' if day else 'cleared'}.",
    )
