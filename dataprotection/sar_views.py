"""Subject access export pages (mounted at /dpo/): choose a person, preview what is found and who
would be redacted, download the zip. Only a data-protection officer, for people of the schools
where they are DPO: anyone else is refused (403), a person outside their schools is a 404.
Nothing personal goes in a URL: the person is named by id, search words travel in POST bodies."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import AuditAction, Role
from accounts.pages import page

from . import sar

MAX_TERMS_CHARS = 2000


class ExportForm(forms.Form):
    redact = forms.MultipleChoiceField(label="Redact these people", required=False, widget=forms.CheckboxSelectMultiple)
    release = forms.TypedMultipleChoiceField(
        label="Include these evidence files", required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    also_redact = forms.CharField(
        label="Also redact (one name or phrase per line)",
        required=False,
        max_length=MAX_TERMS_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Pupils, parents and others who are not PolicyHub users are found only if you list them here.",
    )
    also_search = forms.CharField(required=False, max_length=MAX_TERMS_CHARS, widget=forms.HiddenInput)
    offered = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, parties, cases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["redact"].choices = [
            (p.key, f"{p.user.full_name} <{p.user.email}> — {', '.join(p.why)}") for p in parties
        ]
        self.fields["release"].choices = [
            (
                e.pk,
                f"{c.reference} file {n}: {e.content_type}, {e.size // 1024 or 1} KB, "
                f"uploaded {e.uploaded_at:%d %b %Y}",
            )
            for c in cases
            for n, e in enumerate(c.evidence.all(), start=1)
        ]


class SearchForm(forms.Form):
    also_search = forms.CharField(
        label="Also search for (one per line)",
        required=False,
        max_length=MAX_TERMS_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Other names the person is known by: a maiden name, a nickname, another email address.",
    )


def _dpo_schools(request) -> set[int]:
    schools = {m.school_id for m in request.ctx.memberships if m.role == Role.DPO}
    if not schools:
        raise PermissionDenied("Subject access exports are run by the data-protection officer.")
    return schools


def _person(request, schools, user_id):
    return get_object_or_404(sar.people_for(schools), pk=user_id)


def _audit_preview(request, person, cases) -> None:
    sar.audit_run(
        AuditAction.VIEW,
        request=request,
        dpo=request.user,
        person=person,
        cases=cases,
        summary={"view": "subject_access_preview"},
    )


@require_GET
@page("sar:start")
def start(request):
    schools = _dpo_schools(request)
    people = sar.people_for(schools).order_by("full_name", "email")
    return render(request, "sar/start.html", {"people": people})


@require_http_methods(["GET", "POST"])
def preview(request, user_id):
    """What the export would hold, and who would be redacted. POST only re-runs the search with
    other names (kept out of the URL)."""
    schools = _dpo_schools(request)
    person = _person(request, schools, user_id)
    search = SearchForm(request.POST if request.method == "POST" else None)
    also = search.cleaned_data["also_search"] if search.is_bound and search.is_valid() else ""
    cases = sar.find_cases(person=person, school_ids=schools, dpo=request.user, also_search=also)
    parties = sar.third_parties(person=person, cases=cases, school_ids=schools)
    keys = [p.key for p in parties]
    form = ExportForm(
        parties=parties,
        cases=cases,
        initial={"redact": keys, "offered": ",".join(keys), "also_search": also},
    )
    _audit_preview(request, person, cases)
    context = {
        "person": person,
        "cases": [(c, sar.relation(c, person)) for c in cases],
        "form": form,
        "search": search if search.is_bound else SearchForm(initial={"also_search": also}),
        "memberships": person.memberships.filter(school__in=schools).select_related("school"),
        "other_dpos": sar.other_dpos(request.user, schools),
    }
    return render(request, "sar/preview.html", context, status=200 if search.is_valid() or not search.is_bound else 400)


@require_POST
def export(request, user_id):
    schools = _dpo_schools(request)
    person = _person(request, schools, user_id)
    also = (request.POST.get("also_search") or "")[:MAX_TERMS_CHARS]
    cases = sar.find_cases(person=person, school_ids=schools, dpo=request.user, also_search=also)
    parties = sar.third_parties(person=person, cases=cases, school_ids=schools)
    form = ExportForm(request.POST, parties=parties, cases=cases)
    if not form.is_valid():
        _audit_preview(request, person, cases)  # the preview is shown again, cases and all
        context = {
            "person": person,
            "cases": [(c, sar.relation(c, person)) for c in cases],
            "form": form,
            "search": SearchForm(initial={"also_search": also}),
            "memberships": person.memberships.filter(school__in=schools).select_related("school"),
            "other_dpos": sar.other_dpos(request.user, schools),
        }
        return render(request, "sar/preview.html", context, status=400)
    data = form.cleaned_data
    result = sar.build_export(
        dpo=request.user,
        person=person,
        school_ids=schools,
        redact=set(data["redact"]),
        offered={k for k in data["offered"].split(",") if k},
        release=set(data["release"]),
        also_redact=data["also_redact"],
        also_search=also,
        request=request,
    )
    response = HttpResponse(result.content, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="subject-access-{person.pk}-{timezone.localdate():%Y-%m-%d}.zip"'
    )
    response["Cache-Control"] = "no-store"
    return response
