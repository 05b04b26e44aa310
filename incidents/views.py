"""Views of the incidents feature. Short: fetch through visible_to (else 404), check the person's
relation to the case against the transitions table (else 403), validate a form, call a service,
redirect. What a page shows depends on that relation: the reporter sees their report and its
status, governors see the review, owners see everything."""

import logging
from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Prefetch, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role, User
from policyhub.models import PolicyVersion

from . import evidence, forms, services
from .models import (
    NON_BREACH_OUTCOMES,
    OPEN_STATUSES,
    Category,
    Evidence,
    GovernorReview,
    Incident,
    ReferralKind,
    ReviewDecision,
    Route,
    Status,
    TimelineKind,
)
from .transitions import (
    OWNERS,
    ActionRefused,
    CaseRole,
    NotAllowed,
    available,
    case_roles,
    review_panel,
    unmet,
)
from .transitions import TRANSITIONS as T

log = logging.getLogger(__name__)
PAGE_SIZE = 50

# The form each action takes, keyed by transition name (None: a plain button).
ACTION_FORMS = {
    "acknowledge": None,
    "triage": forms.TriageForm,
    "start_investigation": None,
    "propose_outcome": forms.OutcomeForm,
    "close": forms.CloseForm,
    "refer_to_governors": forms.ReferToGovernorsForm,
    "uphold": forms.DecisionForm,
    "reopen": forms.ReopenForm,
    "add_note": forms.NoteForm,
    "record_referral": forms.ReferralForm,
    "add_evidence": forms.EvidenceForm,
    "declare_conflict": forms.ConflictForm,
}


# Transitions whose view is named differently (one governors' form decides both ways).
ACTION_URLS = {"uphold": "decide"}


# --- Helpers -------------------------------------------------------------------------------------


def _incident_or_404(request, reference) -> Incident:
    return get_object_or_404(
        Incident.objects.visible_to(request.user).select_related("school", "reporter", "subject", "owner", "dsl"),
        reference=reference,
    )


def _roles(request, incident) -> frozenset:
    school_roles = frozenset(m.role for m in request.ctx.memberships if m.school_id == incident.school_id)
    return case_roles(request.user, incident, school_roles)


def _require_role(roles, name) -> None:
    if not roles & T[name].roles:
        raise PermissionDenied(f"You cannot {T[name].label.lower()} on this case.")


def _version_for(incident):
    return PolicyVersion.objects.in_force_on(incident.school, services.incident_date(incident))


def _form_for(name, incident, data=None, files=None):
    form_class = ACTION_FORMS.get(name)
    if form_class is None:
        return None
    kwargs = {}
    if form_class is forms.TriageForm:
        kwargs["version"] = _version_for(incident)
    if form_class in (forms.TriageForm, forms.OutcomeForm):
        kwargs["incident"] = incident
    return form_class(data, files, prefix=name, **kwargs) if data is not None else form_class(prefix=name, **kwargs)


def _mode(roles, incident) -> str:
    """Which page the person gets: owners see everything, governors the review, reporters their report."""
    if roles & OWNERS:
        return "owner"
    if CaseRole.GOVERNOR in roles and (
        incident.status == Status.GOVERNOR_REVIEW
        or (
            incident.status == Status.CLOSED
            and incident.governor_reviews.filter(decision=ReviewDecision.UPHOLD).exists()
        )
    ):
        return "governor"
    return "reporter"


def _detail(request, incident, *, bound: dict | None = None, status=200):
    roles = _roles(request, incident)
    mode = _mode(roles, incident)
    actions = available(roles, incident)
    if mode != "owner":  # the reporter and governors act only through their own forms
        actions = {
            k: v for k, v in actions.items() if k in {"add_evidence", "uphold", "refer_back", "declare_conflict"}
        }
    review = _review_box(request, incident, roles, mode)
    if (
        "declare_conflict" in actions
        and incident.timeline.filter(kind=TimelineKind.CONFLICT, actor=request.user).exists()
    ):
        actions.pop("declare_conflict")  # declared already (the service refuses a second)
    panels = [
        {
            "name": name,
            "transition": t,
            "form": (bound or {}).get(name) or _form_for(name, incident),
            "problems": unmet(incident, name),
            "url": reverse(f"incidents:{ACTION_URLS.get(name, name)}", args=[incident.reference]),
        }
        for name, t in actions.items()
        if name in ACTION_FORMS
    ]
    timeline = incident.timeline.select_related("actor")
    items = incident.evidence.select_related("uploaded_by", "withdrawn_by")
    if mode == "reporter":
        timeline = timeline.filter(internal=False)
        items = items.filter(uploaded_by=request.user)
    context = {
        "incident": incident,
        "mode": mode,
        "roles": roles,
        "actions": actions,
        "panels": panels,
        "timeline": list(timeline) if mode != "governor" else [],
        "evidence": list(items) if mode != "governor" else [],
        "clauses": list(incident.clauses.order_by("order")) if mode != "reporter" else [],
        "referrals": list(incident.referrals.select_related("recorded_by")) if mode == "owner" else [],
        "reviews": list(incident.governor_reviews.select_related("decided_by")) if mode != "reporter" else [],
        "withdraw_form": forms.WithdrawForm(prefix="withdraw") if "withdraw_evidence" in actions else None,
        "is_allegation": incident.route == Route.ALLEGATION,
        "referral_prompts": _referral_prompts(incident) if mode == "owner" else [],
        "review": review,
    }
    return render(request, "incidents/detail.html", context, status=status)


def _review_box(request, incident, roles, mode) -> dict | None:
    """Who may decide the review in progress, for its owners and its readers; and, to a governor
    who may not, why (their own reason only: the others' would name the reporter)."""
    if incident.status != Status.GOVERNOR_REVIEW or mode == "reporter":
        return None
    panel = review_panel(incident)
    mine = panel.excluded.get(request.user.pk) if CaseRole.GOVERNOR in roles else None
    return {"deciders": panel.deciders, "by_trust": panel.by_trust, "mine": mine}


# Referrals docs/specification.md says to prompt for, by category or route, until one of that kind is recorded.
PROMPTS = {
    Category.ILLEGAL_CONTENT: (ReferralKind.POLICE, "Illegal content: refer it to the police."),
    Category.DATA_BREACH: (
        ReferralKind.DPO,
        "A data breach: tell the data-protection officer / local-authority data team.",
    ),
}


def _referral_prompts(incident) -> list[str]:
    wanted = []
    if incident.category in PROMPTS:
        wanted.append(PROMPTS[incident.category])
    if incident.route == Route.ALLEGATION:
        wanted.append((ReferralKind.LADO, "The harm threshold is met: refer to the LADO within one working day."))
    made = set(incident.referrals.values_list("kind", flat=True)) if wanted else set()
    return [text for kind, text in wanted if kind not in made]


def _act(request, incident, name, call, success: str, *, form=None):
    """Run a service; turn refusals into a message (nothing changed) or a 403."""
    try:
        call()
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except evidence.EvidenceRejected as exc:
        if form is not None:
            for problem in exc.messages:
                form.add_error("files", problem)
            return _detail(request, incident, bound={name: form}, status=400)
        messages.error(request, str(exc))
    except ActionRefused as exc:
        messages.error(request, str(exc))
    except OSError:
        log.exception("Incident %s: could not store evidence", incident.reference)
        messages.error(request, "The file could not be saved, so nothing was changed. Please try again later.")
    else:
        messages.success(request, success)
    return redirect("incidents:detail", reference=incident.reference)


def _transition_view(name, call, success):
    """A state change from the detail page: 404 → 403 → form → service (which re-checks)."""

    @require_POST
    def view(request, reference):
        incident = _incident_or_404(request, reference)
        _require_role(_roles(request, incident), name)
        form = _form_for(name, incident, request.POST, request.FILES)
        if form is not None and not form.is_valid():
            if incident.status not in T[name].sources:  # say the real problem, not the form's
                messages.error(request, f"{incident.reference} is now “{incident.get_status_display()}”.")
                return redirect("incidents:detail", reference=incident.reference)
            return _detail(request, incident, bound={name: form}, status=400)
        data = form.cleaned_data if form is not None else {}
        return _act(request, incident, name, lambda: call(request, incident, data), success, form=form)

    view.__name__ = name
    return view


# --- Reporting -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def report(request):
    school = request.ctx.school
    if school is None or not request.ctx.has_role(Role.STAFF, Role.HEAD, Role.DSL):
        raise PermissionDenied("Only staff of a school can report a concern.")
    form = forms.ReportForm(request.POST or None, request.FILES or None, school=school, reporter=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.incident_report(
                reporter=request.user,
                school=school,
                category=data["category"],
                platform=data["platform"],
                links=data["links"],
                happened_at=data["happened_at"],
                seen_at=data["seen_at"],
                involved=data["involved"],
                subject=data["subject"],
                involved_detail=data["involved_detail"],
                description=data["description"],
                child_at_risk=data["child_at_risk"],
                files=data["files"],
                captured_at=data["captured_at"],
                captured_url=data["captured_url"],
            )
        except evidence.EvidenceRejected as exc:
            for problem in exc.messages:
                form.add_error("files", problem)
        except services.Invalid as exc:
            form.add_error(None, str(exc))
        except OSError:
            log.exception("Could not store evidence for a report at %s", school.code)
            form.add_error("files", "The files could not be saved. Nothing was sent: please try again.")
        else:
            return redirect("incidents:report_done", reference=incident.reference)
    status = 200
    if form.is_bound and form.errors:
        status = 400
        if request.FILES:
            messages.warning(
                request, "Your text is kept below, but browsers cannot keep attached files: please attach them again."
            )
    return render(request, "incidents/report.html", {"form": form, "school": school}, status=status)


@require_GET
def report_done(request, reference):
    incident = get_object_or_404(
        Incident.objects.visible_to(request.user).filter(reporter=request.user), reference=reference
    )
    return render(request, "incidents/report_done.html", {"incident": incident})


@require_GET
def my_reports(request):
    reports = Incident.objects.visible_to(request.user).filter(reporter=request.user).order_by("-received_at", "-pk")
    page = Paginator(reports.only("pk", "reference", "category", "status", "received_at"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "incidents/my_reports.html", {"page": page})


# --- Owners --------------------------------------------------------------------------------------


def _is_owner(request) -> bool:
    return any(m.role in (Role.HEAD, Role.DSL, Role.CHAIR) for m in request.ctx.memberships)


@require_GET
def queue(request):
    if not _is_owner(request):
        raise PermissionDenied("The triage queue is for head teachers, DSLs and chairs of governors.")
    filters = forms.QueueFilterForm(request.GET or None)
    cases = Incident.objects.owned_by(request.user).filter(status__in=OPEN_STATUSES).select_related("school")
    if filters.is_valid():
        for field in ("status", "category", "severity"):
            if filters.cleaned_data[field]:
                cases = cases.filter(**{field: filters.cleaned_data[field]})
    cases = cases.annotate(
        waiting=Case(When(status=Status.SUBMITTED, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("waiting", "response_due_at", "received_at", "pk")
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    many_schools = len({m.school_id for m in request.ctx.memberships}) > 1
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/queue.html",
        {"page": page, "filters": filters, "many_schools": many_schools, "query": query.urlencode()},
    )


@require_GET
def person(request, user_id):
    """Low-level concerns about one adult, together, so a pattern is visible (owners only)."""
    owned_schools = {m.school_id for m in request.ctx.memberships if m.role in (Role.HEAD, Role.DSL, Role.CHAIR)}
    if not owned_schools:
        raise PermissionDenied("This page is for head teachers, DSLs and chairs of governors.")
    adult = get_object_or_404(
        User.objects.filter(memberships__school__in=owned_schools).exclude(pk=request.user.pk).distinct(), pk=user_id
    )
    cases = Incident.objects.owned_by(request.user).filter(subject=adult).select_related("school")
    cases = list(cases.order_by("received_at", "pk"))
    low_level = [c for c in cases if c.route == Route.LOW_LEVEL]
    others = [c for c in cases if c.route != Route.LOW_LEVEL]
    return render(request, "incidents/person.html", {"adult": adult, "low_level": low_level, "others": others})


# --- Governors -----------------------------------------------------------------------------------


def _is_governor(request) -> bool:
    return any(m.role in (Role.GOVERNOR, Role.CHAIR) for m in request.ctx.memberships)


@require_GET
def reviews(request):
    if not _is_governor(request):
        raise PermissionDenied("Governor reviews are for governors.")
    cases = (
        Incident.objects.under_review_for(request.user)
        .select_related("school")
        .annotate(waiting=Case(When(status=Status.GOVERNOR_REVIEW, then=Value(0)), default=Value(1)))
        .order_by("waiting", "-updated_at", "pk")
    )
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "incidents/reviews.html", {"page": page})


TERMS = (("autumn", "Autumn", 9, 12), ("spring", "Spring", 1, 3), ("summer", "Summer", 4, 8))


def _term_bounds(year: int, term: str) -> tuple[date, date]:
    _key, _label, first, last = next(t for t in TERMS if t[0] == term)
    end = date(year + 1, 1, 1) if last == 12 else date(year, last + 1, 1)
    return date(year, first, 1), end


def _current_term(today: date) -> tuple[int, str]:
    for key, _label, first, last in TERMS:
        if first <= today.month <= last:
            return today.year, key
    raise AssertionError("every month is in a term")


@require_GET
def termly_report(request):
    """Upheld breaches per term, for the governors' termly report (journey 5)."""
    if not _is_governor(request):
        raise PermissionDenied("The termly report is for governors.")
    year, term = _current_term(timezone.localdate())
    asked = request.GET.get("term", "")
    if asked:
        try:
            y, t = asked.split("-", 1)
            _term_bounds(int(y), t)
            year, term = int(y), t
        except (ValueError, StopIteration):
            messages.error(request, "That term was not recognised; showing the current term.")
    start, end = _term_bounds(year, term)
    upheld = (
        GovernorReview.objects.filter(
            decision=ReviewDecision.UPHOLD,
            decided_at__date__gte=start,
            decided_at__date__lt=end,
            incident__in=Incident.objects.under_review_for(request.user).filter(status=Status.CLOSED),
        )
        .exclude(incident__outcome__in=NON_BREACH_OUTCOMES)
        .select_related("incident", "incident__school")
        .prefetch_related(Prefetch("incident__clauses"))
        .order_by("decided_at", "pk")
    )
    upheld = list(upheld)
    by_category: dict[str, int] = {}
    for review in upheld:
        label = review.incident.get_category_display()
        by_category[label] = by_category.get(label, 0) + 1
    # The last two years' terms in date order (TERMS starts with autumn, which ends the year).
    terms = sorted(
        ((_term_bounds(y, k)[0], f"{y}-{k}", f"{label} {y}") for y in (year - 1, year) for k, label, _f, _l in TERMS),
    )
    terms = [(key, label) for _start, key, label in terms]
    label = next(lbl for k, lbl, _f, _l in TERMS if k == term)
    return render(
        request,
        "incidents/termly_report.html",
        {
            "upheld": upheld,
            "total": len(upheld),
            "by_category": sorted(by_category.items()),
            "term_label": f"{label} term {year}",
            "term_key": f"{year}-{term}",
            "terms": terms,
        },
    )


# --- One case ------------------------------------------------------------------------------------


@require_GET
def detail(request, reference):
    incident = _incident_or_404(request, reference)
    log.info("Incident %s viewed by user %s", incident.reference, request.user.pk)
    return _detail(request, incident)


acknowledge = _transition_view(
    "acknowledge",
    lambda request, incident, data: services.incident_acknowledge(incident=incident, actor=request.user),
    "Acknowledged. The reporter has been told the concern is received.",
)
triage = _transition_view(
    "triage",
    lambda request, incident, data: services.incident_triage(
        incident=incident,
        actor=request.user,
        severity=data["severity"],
        clauses=list(data["clauses"]),
        route=data.get("route") or "",
        harm_harmed_child=data.get("harm_harmed_child"),
        harm_offence=data.get("harm_offence"),
        harm_risk_to_children=data.get("harm_risk_to_children"),
        harm_unsuitable=data.get("harm_unsuitable"),
        harm_reason=data.get("harm_reason") or "",
    ),
    "Triage recorded.",
)
start_investigation = _transition_view(
    "start_investigation",
    lambda request, incident, data: services.incident_start_investigation(incident=incident, actor=request.user),
    "Investigation started.",
)
propose_outcome = _transition_view(
    "propose_outcome",
    lambda request, incident, data: services.incident_propose_outcome(
        incident=incident,
        actor=request.user,
        outcome=data["outcome"],
        reason=data["reason"],
        allegation_outcome=data.get("allegation_outcome") or "",
    ),
    "Outcome recorded.",
)
close = _transition_view(
    "close",
    lambda request, incident, data: services.incident_close(incident=incident, actor=request.user, note=data["note"]),
    "Case closed.",
)
refer_to_governors = _transition_view(
    "refer_to_governors",
    lambda request, incident, data: services.incident_refer_to_governors(
        incident=incident, actor=request.user, summary=data["summary"]
    ),
    "Referred to the governors for review.",
)
reopen = _transition_view(
    "reopen",
    lambda request, incident, data: services.incident_reopen(
        incident=incident, actor=request.user, reason=data["reason"]
    ),
    "Case reopened.",
)
add_note = _transition_view(
    "add_note",
    lambda request, incident, data: services.incident_add_note(
        incident=incident, actor=request.user, note=data["note"]
    ),
    "Note added.",
)
record_referral = _transition_view(
    "record_referral",
    lambda request, incident, data: services.referral_record(
        incident=incident,
        actor=request.user,
        kind=data["kind"],
        made_on=data["made_on"],
        reference=data["reference"],
        note=data["note"],
    ),
    "Referral recorded.",
)
declare_conflict = _transition_view(
    "declare_conflict",
    lambda request, incident, data: services.incident_declare_conflict(
        incident=incident, actor=request.user, reason=data["reason"]
    ),
    "Your conflict of interest is recorded. You will not decide this review.",
)
add_evidence = _transition_view(
    "add_evidence",
    lambda request, incident, data: services.evidence_add(
        incident=incident,
        actor=request.user,
        files=data["files"],
        captured_at=data["captured_at"],
        captured_url=data["captured_url"],
    ),
    "Evidence added.",
)


@require_POST
def decide(request, reference):
    """Governors uphold or refer back (two rows of the transitions table, one form)."""
    incident = _incident_or_404(request, reference)
    _require_role(_roles(request, incident), "uphold")
    form = forms.DecisionForm(request.POST, prefix="uphold")
    if not form.is_valid():
        if incident.status != Status.GOVERNOR_REVIEW:
            messages.error(request, f"{incident.reference} is no longer waiting for the governors' review.")
            return redirect("incidents:detail", reference=incident.reference)
        return _detail(request, incident, bound={"uphold": form}, status=400)
    decision = form.cleaned_data["decision"]
    return _act(
        request,
        incident,
        decision,
        lambda: services.incident_governor_decide(
            incident=incident, actor=request.user, decision=decision, comment=form.cleaned_data["comment"]
        ),
        "Decision recorded: " + ReviewDecision(decision).label.lower() + ".",
    )


# --- Evidence files ------------------------------------------------------------------------------


def _evidence_or_404(request, public_id) -> Evidence:
    """A file the person may open: the case must be visible to them (404 otherwise), and they must
    own it or have uploaded the file themselves (governors see the review, not the evidence)."""
    item = get_object_or_404(
        Evidence.objects.select_related("incident").filter(incident__in=Incident.objects.visible_to(request.user)),
        public_id=public_id,
    )
    roles = _roles(request, item.incident)
    if roles & OWNERS:
        return item
    if CaseRole.REPORTER in roles and item.uploaded_by_id == request.user.pk:
        return item
    raise Http404("No such file.")


def _private_file(response):
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
def evidence_download(request, public_id):
    item = _evidence_or_404(request, public_id)
    try:
        handle = evidence.path_of(item.stored_name).open("rb")
    except FileNotFoundError as exc:
        log.error("Evidence %s of incident %s is missing from storage", item.pk, item.incident.reference)
        raise Http404("The file is missing.") from exc
    content_type = item.content_type if item.content_type in evidence.SERVED_TYPES else "application/octet-stream"
    extension = item.stored_name.rsplit(".", 1)[-1]
    filename = (
        item.original_name
        if item.original_name.lower().endswith("." + extension)
        else f"{item.original_name}.{extension}"
    )
    log.info("Evidence %s of incident %s downloaded by user %s", item.pk, item.incident.reference, request.user.pk)
    return _private_file(FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type))


@require_GET
def evidence_preview(request, public_id):
    item = _evidence_or_404(request, public_id)
    if not item.preview_name:
        raise Http404("No preview.")
    try:
        handle = evidence.path_of(item.preview_name).open("rb")
    except FileNotFoundError as exc:
        raise Http404("The preview is missing.") from exc
    return _private_file(FileResponse(handle, content_type="image/jpeg"))


@require_POST
def evidence_withdraw(request, public_id):
    item = _evidence_or_404(request, public_id)
    incident = _incident_or_404(request, item.incident.reference)
    _require_role(_roles(request, incident), "withdraw_evidence")
    form = forms.WithdrawForm(request.POST, prefix="withdraw")
    if not form.is_valid():
        messages.error(request, "Please give the reason for withdrawing the file. Nothing was changed.")
        return redirect("incidents:detail", reference=incident.reference)
    item.incident = incident
    return _act(
        request,
        incident,
        "withdraw_evidence",
        lambda: services.evidence_withdraw(item=item, actor=request.user, reason=form.cleaned_data["reason"]),
        "The file is marked withdrawn. It is kept, with your reason, on the case.",
    )
