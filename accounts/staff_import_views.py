"""The staff list import page ([10] item 6): a head for their school, a trust admin for any school
of their trust. Upload -> the same preview as `manage.py import_staff --dry-run` (counts, each error
with its line, who leaves and what they leave behind) -> confirm. Nothing is saved before the
confirm, and the confirm re-reads the same content (kept in the session, never on disk) in the
transaction that applies it. Rules: accounts/staff_import.py; user guide: docs/staff-import.md."""

import hashlib

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from . import audit_reads, staff_import
from .models import Role, School
from .pages import page

SESSION_KEY = "staff_import"


class StaffImportForm(forms.Form):
    school = forms.TypedChoiceField(label="School", coerce=int)
    file = forms.FileField(
        label="Staff list (CSV)",
        help_text="A CSV export from your MIS, up to 1 MB (about 10,000 people).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
    )
    deactivate_missing = forms.BooleanField(
        label="End the roles of people at the school who are not in the file",
        required=False,
        help_text="Their accounts stay; trust admins, DPOs and you keep your roles.",
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [(s.pk, s.name) for s in schools]


def _schools(request) -> list[School]:
    """Where this person may import: schools they head, and every school of a trust they administer."""
    mine = request.ctx.memberships
    heads = [m.school_id for m in mine if m.role == Role.HEAD]
    trusts = [m.school.trust_id for m in mine if m.role == Role.TRUST_ADMIN and m.school.trust_id]
    return list(School.objects.filter(pk__in=heads) | School.objects.filter(trust_id__in=trusts))


def _school_or_404(request, school_id) -> School:
    school = next((s for s in _schools(request) if s.pk == school_id), None)
    if school is None:
        raise Http404
    return school


def _digest(state: dict) -> str:
    text = f"{state['school_id']}\n{state['deactivate_missing']}\n{state['text']}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@require_http_methods(["GET", "POST"])
@page("staff_import")
def staff_import_page(request):
    schools = _schools(request)
    if not schools:
        raise Http404
    current = request.ctx.school
    initial = {"school": current.pk if current and any(s.pk == current.pk for s in schools) else schools[0].pk}
    if request.method == "GET":
        request.session.pop(SESSION_KEY, None)
        form = StaffImportForm(initial=initial, schools=schools)
        return render(request, "accounts/staff_import.html", {"form": form})
    # A school that is not theirs is 404 whatever else the form says.
    try:
        _school_or_404(request, int(request.POST.get("school", "")))
    except ValueError:
        raise Http404 from None
    form = StaffImportForm(request.POST, request.FILES, schools=schools)
    if not form.is_valid():
        return render(request, "accounts/staff_import.html", {"form": form}, status=400)
    school = _school_or_404(request, form.cleaned_data["school"])
    data = form.cleaned_data["file"].read(staff_import.MAX_BYTES + 1)
    deactivate = form.cleaned_data["deactivate_missing"]
    outcome = staff_import.run(
        data, school, deactivate_missing=deactivate, dry_run=True, actor=request.user, request=request
    )
    state = {"school_id": school.pk, "deactivate_missing": deactivate, "text": outcome.text}
    if outcome.plan.errors:
        request.session.pop(SESSION_KEY, None)
    else:
        request.session[SESSION_KEY] = state | {"digest": _digest(state)}
    return _preview(request, outcome, school, deactivate, digest=_digest(state), status=200)


def _preview(request, outcome, school, deactivate, *, digest, status):
    result = outcome.plan
    if any(leaver.holdings for leaver in result.leavers):
        audit_reads.shown(request)  # case references on the page: an audited read (CASE_READS)
    return render(
        request,
        "accounts/staff_import_preview.html",
        {
            "school": school,
            "result": result,
            "counts": result.counts(),
            "deactivate_missing": deactivate,
            "digest": digest,
            "grants": sorted(staff_import.role_counts(result).items()),
        },
        status=status if not result.errors else 400,
    )


@page("staff_import_confirm")
@require_POST
def staff_import_confirm(request):
    state = request.session.get(SESSION_KEY)
    if not state or request.POST.get("digest") != state.get("digest"):
        # Another preview in another tab replaced this one, or the session ended: start again.
        messages.warning(request, "That preview is no longer current: please upload the file again.")
        return redirect("staff_import")
    school = _school_or_404(request, state["school_id"])
    outcome = staff_import.run(
        state["text"],
        school,
        deactivate_missing=state["deactivate_missing"],
        actor=request.user,
        request=request,
    )
    del request.session[SESSION_KEY]
    if not outcome.applied:  # the same text was checked at the preview: only a change of rules gets here
        messages.error(request, "The file no longer passes the checks: please upload it again to see why.")
        return redirect("staff_import")
    c = outcome.plan.counts()
    messages.success(
        request,
        f"Staff list imported at {school.name}: {c['created']} created, {c['updated']} updated,"
        f" {c['unchanged']} unchanged, {c['deactivated']} left.",
    )
    return redirect("staff_import")
