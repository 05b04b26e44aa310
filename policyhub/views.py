import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import ACKNOWLEDGING_ROLES, Membership, Role, User
from accounts.pages import may_open, page
from accounts.prepared import PreparedObjects
from incidents import assignments
from incidents import selectors as incident_selectors

from . import liveness, review, services
from .forms import ImportForm, PublishForm, ReviewForm, SearchForm, section_formsets, section_from_formsets
from .models import Acknowledgement, Clause, Policy, PolicyVersion, Section, VersionStatus
from .search import MAX_RESULTS, search_clauses
from .structure import (
    StructureError,
    diff_clauses,
    merge_into_previous,
    renumber_section,
    split_clause,
    validate_structure,
)
from .topics import TOPIC_LABELS


@require_GET
@page("home")
def home(request):
    """Tiles for the pages the person may open (`pages`, from accounts/pages.py, in the template),
    and for a trust admin at this school an overview of the trust's schools (content, not a page)."""
    ctx = request.ctx
    trust_overview = ctx.has_role(Role.TRUST_ADMIN)
    # Each card's figures only for a person whose tile shows (the tiles follow the page table).
    cards = {
        "is_staff_member": may_open(ctx, "incidents:report"),
        "is_owner": may_open(ctx, "incidents:queue"),
        "is_governor": may_open(ctx, "incidents:reviews"),
    }
    return render(
        request,
        "home.html",
        {
            "summary": incident_selectors.home(request, **cards) if ctx.school else None,
            "trust_overview": trust_overview,
            "short_of_dpos": _short_of_dpos(ctx.schools) if trust_overview else [],
            "tasks": assignments.home_tasks(request) if ctx.school else [],
        },
    )


def _short_of_dpos(schools):
    """(school, number of DPOs) for schools with fewer than two: a case about their DPO (never shown
    to them) needs another DPO to answer subject access and retention for it. One query; the same
    whether or not such a case exists."""
    from django.db.models import Count

    counts = dict(
        Membership.objects.filter(school__in=schools, role=Role.DPO, user__is_active=True)
        .values_list("school_id")
        .annotate(n=Count("user_id", distinct=True))
    )
    return [(school, counts.get(school.pk, 0)) for school in schools if counts.get(school.pk, 0) < 2]


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """For load balancers and compose health checks: the database answers and the beat's deadline sweep
    ran in the last five minutes (policyhub/liveness.py). One word, nothing else: anyone may ask."""
    try:
        state = liveness.liveness_state(now=timezone.now())
    except DatabaseError:
        state = "unavailable"
    status = 200 if state in liveness.HEALTHY else 503
    return HttpResponse(f"{state}\n", content_type="text/plain; charset=utf-8", status=status)


# --- The policy feature (/policy/) ----------------------------------------------------------------
# Reading views fetch through PolicyVersion.objects.visible_to(user); managing views fetch through
# Policy.objects.related_to(user) (another school's policy is a 404) and let the service check the role
# (a 403). Services raise PolicyStateError for a wrong state, shown as a message.

IMPORT_SESSION_KEY = "policy_import"


def _school_or_404(request):
    if request.ctx.school is None:
        raise Http404("You are not a member of any school.")
    return request.ctx.school


_PUBLISHED = [VersionStatus.ACTIVE, VersionStatus.ARCHIVED]
TEXT = "policyhub/_policy_text.html"  # a version's contents and clauses, kept as text (`_text`)


def _adopted_versions(request):
    """Published versions of the current school's adopted policy, newest first (one query)."""
    school = _school_or_404(request)
    return (
        PolicyVersion.objects.visible_to(request.user)
        .filter(policy__adoptions__school=school, status__in=_PUBLISHED)
        .select_related("policy", "approved_by")
        .order_by("-number")
    )


# The policy page's reads, written by the ORM once per web process (accounts/prepared.py): building
# them was most of the page's time. Each is the queryset named beside it, run with this view's values;
# tests/policyhub/test_policy_reads.py compares the two.
# _adopted_versions(request), for the person (by id) and the school.
_ADOPTED = PreparedObjects(
    lambda user_id, school_id: (
        PolicyVersion.objects.visible_to(User(pk=user_id))
        .filter(policy__adoptions__school=school_id, status__in=_PUBLISHED)
        .select_related("policy", "approved_by")
        .order_by("-number")
    ),
    2,
)
_SECTIONS = PreparedObjects(lambda version: Section.objects.filter(version=version), 1)  # version.sections.all()
_CLAUSES = PreparedObjects(lambda version: Clause.objects.filter(version=version), 1)  # version.clauses.all()
# Acknowledgement.objects.filter(user=..., version=...).first()
_ACKNOWLEDGEMENT = PreparedObjects(
    lambda user_id, version: Acknowledgement.objects.filter(user=user_id, version=version)[:1], 2
)


def _tree(version):
    """Sections with their clauses (and each clause's depth), in two queries whatever the size."""
    sections = _SECTIONS.objects(version.pk, known={"version": version})
    by_section = {s.pk: [] for s in sections}
    depth = {}
    for clause in _CLAUSES.objects(version.pk, known={"version": version}):
        depth[clause.pk] = depth.get(clause.parent_id, -1) + 1 if clause.parent_id else 0
        clause.depth = depth[clause.pk]
        by_section[clause.section_id].append(clause)
    for section in sections:
        section.clause_list = by_section[section.pk]
    return sections


def _text(user, version) -> str:
    """The version's contents and its sections with their clauses, each clause with how often it was
    found breached among the cases the person may count: rendered once and kept while none of it
    changes (incidents/selectors.kept_with_breach_counts; its stamp moves with every change of a
    version, section or clause). Kept, no section or clause is read."""

    def render_text(counts) -> str:
        sections = _tree(version)
        breaches = counts([c.pk for s in sections for c in s.clause_list])
        for section in sections:
            for clause in section.clause_list:
                clause.breaches = breaches.get(clause.pk, 0)
        return render_to_string(TEXT, {"sections": sections})

    return incident_selectors.kept_with_breach_counts(user, ("text", version.pk, get_script_prefix()), render_text)


def _render_version(request, version, versions, *, is_policy_page):
    user = request.user
    must_acknowledge = acknowledged = None
    if version.status == VersionStatus.ACTIVE and request.ctx.has_role(*ACKNOWLEDGING_ROLES):
        acknowledgement = next(iter(_ACKNOWLEDGEMENT.objects(user.pk, version.pk)), None)
        acknowledged = acknowledgement.at if acknowledgement else None
        must_acknowledge = acknowledgement is None
    can_manage = services.can_manage(user, version.policy, request.ctx.memberships)
    return render(
        request,
        "policyhub/policy.html",
        {
            "version": version,
            "versions": versions,
            "text": _text(user, version),
            "must_acknowledge": must_acknowledge,
            "acknowledged_at": acknowledged,
            "can_manage": can_manage,
            "is_policy_page": is_policy_page,
            "review": review.state(version, timezone.localdate()),
            "review_form": ReviewForm(prefix="review") if can_manage and version.is_in_force else None,
        },
    )


@require_GET
@page("policy:page")
def policy_page(request):
    versions = _ADOPTED.objects(request.user.pk, _school_or_404(request).pk)
    if not versions:
        return render(request, "policyhub/no_policy.html", {"can_manage": request.ctx.has_role(Role.HEAD)})
    wanted = request.GET.get("version")
    if wanted:
        version = next((v for v in versions if str(v.pk) == wanted), None)
        if version is None:
            raise Http404("No such version of this policy.")
    else:
        version = next((v for v in versions if v.status == VersionStatus.ACTIVE), versions[0])
    return _render_version(request, version, versions, is_policy_page=True)


@require_GET
def version_detail(request, pk):
    version = get_object_or_404(
        PolicyVersion.objects.visible_to(request.user).select_related("policy", "approved_by"), pk=pk
    )
    versions = list(PolicyVersion.objects.visible_to(request.user).filter(policy=version.policy).order_by("-number"))
    return _render_version(request, version, versions, is_policy_page=False)


@require_GET
def clause_detail(request, pk):
    clause = get_object_or_404(
        Clause.objects.visible_to(request.user).select_related("version__policy", "section", "parent"), pk=pk
    )
    return render(
        request,
        "policyhub/clause.html",
        {
            "clause": clause,
            "children": list(clause.children.order_by("order")),
            "citing": incident_selectors.clause_citations(request, clause),
        },
    )


@require_GET
@page("policy:search")
def search(request):
    form = SearchForm(request.GET)
    valid = form.is_valid()
    query = form.cleaned_data["q"] if valid else ""
    everything = bool(form.cleaned_data.get("all")) if valid else False
    versions = _adopted_versions(request)
    if not everything:
        versions = versions.filter(status=VersionStatus.ACTIVE)
    results = []
    if query:
        clauses = Clause.objects.filter(version__in=versions.values("pk")).select_related("section", "version")
        results = list(search_clauses(clauses, query)[: MAX_RESULTS + 1])
    return render(
        request,
        "policyhub/search.html",
        {
            "query": query,
            "everything": everything,
            "results": results[:MAX_RESULTS],
            "more": len(results) > MAX_RESULTS,
            "errors": [] if valid else [e for errors in form.errors.values() for e in errors],
        },
        status=200 if valid else 400,
    )


@require_GET
@page("policy:diff")
def diff(request):
    versions = list(
        PolicyVersion.objects.visible_to(request.user)
        .filter(policy__in=Policy.objects.related_to(request.user))
        .filter(policy__adoptions__school=_school_or_404(request))
        .order_by("-number")
    )
    by_pk = {str(v.pk): v for v in versions}
    if request.GET.get("from") or request.GET.get("to"):
        old, new = by_pk.get(request.GET.get("from", "")), by_pk.get(request.GET.get("to", ""))
        if old is None or new is None:
            raise Http404("No such version of this policy.")
    elif len(versions) >= 2:
        new, old = versions[0], versions[1]
    else:
        old = new = None
    entries = []
    if old and new:
        entries = diff_clauses(list(old.clauses.all()), list(new.clauses.all()))
    counts = {kind: sum(e["kind"] == kind for e in entries) for kind in ("added", "removed", "changed")}
    return render(
        request,
        "policyhub/diff.html",
        {"versions": versions, "old": old, "new": new, "entries": entries, "counts": counts},
    )


@require_POST
def acknowledge(request, pk):
    version = get_object_or_404(PolicyVersion.objects.visible_to(request.user), pk=pk)
    try:
        _, created = services.acknowledgement_record(user=request.user, version=version)
    except services.PolicyStateError as error:
        messages.error(request, str(error))
        return redirect("policy:page")
    if created:
        messages.success(request, f"Thank you: you have acknowledged version {version.number} of the policy.")
    return redirect("policy:page")


# The session key remembering which policy version's banner was hidden (read by context_processors).
BANNER_HIDDEN_KEY = "policy_banner_hidden"


@require_POST
def hide_banner(request):
    """Hide the "acknowledge the new policy" banner for the rest of this session: a plain form post,
    so it works without JavaScript under the strict CSP. Only the version's number is remembered, so
    the banner comes back on the next sign-in, and at once for a newer version, until acknowledged."""
    try:
        request.session[BANNER_HIDDEN_KEY] = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, "That banner could not be hidden: please try again.")
    # Back to the page it was hidden on. The page is not echoed into the banner's form (a "next"
    # field would copy case references and link tokens from the address into every page's HTML).
    target = request.headers.get("referer", "")
    hosts = {request.get_host()}
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=hosts, require_https=request.is_secure()):
        target = reverse("home")
    return redirect(target)


def _compliance_context(request):
    school = _school_or_404(request)
    version = _adopted_versions(request).filter(status=VersionStatus.ACTIVE).first()
    rows = services.school_compliance(school=school, version=version) if version else []
    done = sum(1 for r in rows if r.acknowledged_at)
    percent = round(100 * done / len(rows)) if rows else 0
    return {"school": school, "version": version, "rows": rows, "done": done, "percent": percent}


@require_GET
@page("policy:compliance")
def compliance(request):
    return render(request, "policyhub/compliance.html", _compliance_context(request))


def csv_safe(value) -> str:
    """A spreadsheet must not run a cell as a formula (CSV injection): quote those that look like one."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
@page("policy:compliance_csv")
def compliance_csv(request):
    context = _compliance_context(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="policy-acknowledgements-{context["school"].slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(["Name", "Email", "Acknowledged", "Acknowledged at (UK time)"])
    for row in context["rows"]:
        at = timezone.localtime(row.acknowledged_at).strftime("%Y-%m-%d %H:%M") if row.acknowledged_at else ""
        writer.writerow([csv_safe(row.full_name), csv_safe(row.email), "yes" if at else "no", at])
    return response


# --- Managing: import, edit drafts, publish, adopt ---------------------------------------------------


def _manager_owners(request):
    """The owners the current user may import for, at the current school: [(key, label)]."""
    school = _school_or_404(request)
    owners = []
    if request.ctx.has_role(Role.HEAD):
        owners.append(("school", f"{school.name}'s own policy"))
    if school.trust_id and request.ctx.has_role(Role.TRUST_ADMIN):
        owners.append(("trust", f"{school.trust.name}'s model policy"))
    if not owners:
        raise PermissionDenied("Only the head teacher or a trust admin manages the policy.")
    return owners


@require_GET
@page("policy:manage")
def manage(request):
    school = _school_or_404(request)
    _manager_owners(request)
    adoption = getattr(school, "adoption", None)
    policies = (
        Policy.objects.related_to(request.user)
        .filter(Q(school=school) | Q(trust_id=school.trust_id, trust__isnull=False))
        .prefetch_related("versions")
        .annotate(manageable=Exists(Policy.objects.managed_by(request.user).filter(pk=OuterRef("pk"))))
    )
    return render(
        request,
        "policyhub/manage.html",
        {"school": school, "policies": policies, "adopted_id": adoption.policy_id if adoption else None},
    )


@require_http_methods(["GET", "POST"])
@page("policy:import")
def import_start(request):
    owners = _manager_owners(request)
    form = ImportForm(request.POST or None, request.FILES or None, owners=owners)
    if request.method == "POST" and form.is_valid():
        request.session[IMPORT_SESSION_KEY] = {
            "school_id": request.ctx.school.pk,
            "owner": form.cleaned_data["owner"],
            "title": form.cleaned_data["title"],
            "source_name": form.source_name,
            "structure": form.parsed.to_dict(),
            "review": _import_review(form.parsed),
        }
        return redirect("policy:import_preview")
    return render(request, "policyhub/import.html", {"form": form}, status=400 if form.errors else 200)


def _import_review(parsed):
    """What the importer was unsure of, for the preview: session-safe plain data."""
    return {
        "confidence": round(parsed.confidence, 2),
        "unsure_count": parsed.unsure_count,
        "doubts": [{"ref": d.ref or "", "line": d.line, "reason": d.reason} for d in parsed.doubts],
        "metadata": list(parsed.metadata),
    }


def _review_context(raw, sections, section_url):
    """The stored import review, checked again (it comes back from the session), with each doubt linked to the
    section now holding its clause. None when there is nothing usable."""
    if not isinstance(raw, dict):
        return None
    try:
        confidence = float(raw.get("confidence"))
        unsure_count = int(raw.get("unsure_count"))
    except (TypeError, ValueError):
        return None
    where = {c.get("ref"): i for i, s in enumerate(sections) for c in s.get("clauses", [])}

    def strings(items, *keys):
        if not isinstance(items, list):
            return []
        if not keys:
            return [str(x)[:500] for x in items if isinstance(x, str)][:200]
        return [{k: str(x.get(k, ""))[:500] for k in keys} for x in items if isinstance(x, dict)][:200]

    doubts = strings(raw.get("doubts"), "ref", "line", "reason")
    for doubt in doubts:
        index = where.get(doubt["ref"])
        doubt["edit_url"] = section_url(index) if index is not None else ""
    return {
        "confidence_percent": round(max(0.0, min(1.0, confidence)) * 100),
        "unsure_count": max(0, unsure_count),
        "doubts": doubts,
        "unsure_refs": {d["ref"] for d in doubts if d["ref"]},
        "metadata": strings(raw.get("metadata")),
    }


class _WorkingCopy:
    """A structure being corrected in the browser, kept in the session between requests.

    What comes back from the session is validated again (shape only) before use: never trusted.
    """

    def __init__(self, request, key, state, *, overview_url, section_url_name, url_args):
        self.request, self.key, self.state = request, key, state
        self.overview_url, self.section_url_name, self.url_args = overview_url, section_url_name, url_args

    @property
    def structure(self):
        return self.state["structure"]

    def store(self, structure):
        self.state["structure"] = structure
        self.request.session[self.key] = self.state

    def discard(self):
        self.request.session.pop(self.key, None)

    def section_url(self, index):
        return reverse(self.section_url_name, args=[*self.url_args, index])


def _load_structure(raw):
    try:
        return validate_structure(raw, strict=False)
    except StructureError:
        return None


def _import_copy(request):
    state = request.session.get(IMPORT_SESSION_KEY)
    school = _school_or_404(request)
    owners = dict(_manager_owners(request))
    if not isinstance(state, dict) or state.get("school_id") != school.pk or state.get("owner") not in owners:
        return None
    structure = _load_structure(state.get("structure"))
    if structure is None:
        return None
    state["structure"] = structure
    return _WorkingCopy(
        request,
        IMPORT_SESSION_KEY,
        state,
        overview_url=reverse("policy:import_preview"),
        section_url_name="policy:import_section",
        url_args=[],
    )


def _managed_draft(request, pk):
    version = get_object_or_404(
        PolicyVersion.objects.filter(policy__in=Policy.objects.related_to(request.user)).select_related("policy"),
        pk=pk,
    )
    if not services.can_manage(request.user, version.policy):
        raise PermissionDenied("Only the head teacher (school policies) or a trust admin (trust policies) may do this.")
    return version


def _draft_copy(request, version):
    key = f"policy_edit_{version.pk}"
    state = request.session.get(key)
    structure = _load_structure(state.get("structure")) if isinstance(state, dict) else None
    if structure is None:
        structure = services.version_structure(version)
    return _WorkingCopy(
        request,
        key,
        {"structure": structure},
        overview_url=reverse("policy:draft_edit", args=[version.pk]),
        section_url_name="policy:draft_section",
        url_args=[version.pk],
    )


def _overview(request, copy, *, template_context, save):
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "cancel":
            copy.discard()
            messages.info(request, "Your corrections were discarded.")
            return redirect(template_context["cancel_url"])
        if action == "save":
            try:
                version = save(copy.structure)
            except services.PolicyStateError as error:
                messages.error(request, str(error))
                return redirect(copy.overview_url)
            copy.discard()
            messages.success(request, f"Draft version {version.number} saved. Check it, then publish it.")
            return redirect("policy:version", version.pk)
        return HttpResponse("Unknown action.", status=400)
    sections = copy.structure["sections"]
    for index, section in enumerate(sections):
        section["index"] = index
        section["edit_url"] = copy.section_url(index)
        for clause in section["clauses"]:
            clause["topic_labels"] = [TOPIC_LABELS.get(t, t) for t in clause["topics"]]
    n_clauses = sum(len(s["clauses"]) for s in sections)
    review = _review_context(copy.state.get("review"), sections, copy.section_url)
    if review:
        for section in sections:
            for clause in section["clauses"]:
                clause["unsure"] = clause["ref"] in review["unsure_refs"]
    return render(
        request,
        "policyhub/preview.html",
        {**template_context, "sections": sections, "n_clauses": n_clauses, "review": review},
    )


def _section_editor(request, copy, index, *, title):
    sections = copy.structure["sections"]
    if not 0 <= index < len(sections):
        raise Http404("No such section.")
    if request.method == "GET":
        heading, clauses = section_formsets(sections[index])
        return _render_section(request, copy, index, heading, clauses, title)
    heading, clauses = section_formsets(sections[index], request.POST)
    if not (heading.is_valid() and clauses.is_valid()):
        return _render_section(request, copy, index, heading, clauses, title, status=400)
    edited, renamed = section_from_formsets(heading, clauses)
    structure = {"sections": [*sections[:index], edited, *sections[index + 1 :]]}
    for other in (c for s in structure["sections"] if s is not edited for c in s["clauses"]):
        other["parent"] = renamed.get(other["parent"], other["parent"])
    action = request.POST.get("action", "done")
    anchor = ""
    try:
        if action.startswith("merge-"):
            position = int(action.removeprefix("merge-"))
            structure = merge_into_previous(structure, index, position)
            anchor = f"#edit-clause-{max(position - 1, 0)}"
        elif action.startswith("split-"):
            position = int(action.removeprefix("split-"))
            structure = split_clause(structure, index, position)
            anchor = f"#edit-clause-{position}"
        elif action == "renumber":
            structure = renumber_section(structure, index)
        elif action != "done":
            return HttpResponse("Unknown action.", status=400)
    except (StructureError, ValueError) as error:
        messages.error(request, str(error) if isinstance(error, StructureError) else "Unknown action.")
    copy.store(structure)
    if action == "done":
        return redirect(f"{copy.overview_url}#section-{index}")
    return redirect(copy.section_url(index) + anchor)


def _render_section(request, copy, index, heading, clauses, title, status=200):
    return render(
        request,
        "policyhub/section_edit.html",
        {
            "title": title,
            "index": index,
            "heading_formset": heading,
            "clause_formset": clauses,
            "overview_url": copy.overview_url,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@page("policy:import_preview")
def import_preview(request):
    copy = _import_copy(request)
    if copy is None:
        messages.info(request, "There is no imported document to preview: import one first.")
        return redirect("policy:import")
    school = request.ctx.school
    owner = school if copy.state["owner"] == "school" else school.trust

    def save(structure):
        return services.policy_import_draft(
            actor=request.user,
            owner=owner,
            structure=structure,
            title=copy.state.get("title", ""),
            source_name=copy.state.get("source_name", ""),
        )

    context = {
        "heading": "Check the imported policy",
        "source_name": copy.state.get("source_name", ""),
        "owner_label": dict(_manager_owners(request))[copy.state["owner"]],
        "cancel_url": reverse("policy:import"),
        "save_label": "Save as draft",
    }
    return _overview(request, copy, template_context=context, save=save)


@require_http_methods(["GET", "POST"])
@page("policy:import_section")
def import_section(request, index):
    copy = _import_copy(request)
    if copy is None:
        messages.info(request, "There is no imported document to preview: import one first.")
        return redirect("policy:import")
    return _section_editor(request, copy, index, title="Correct the imported section")


@require_http_methods(["GET", "POST"])
def draft_edit(request, pk):
    version = _managed_draft(request, pk)
    if version.status != VersionStatus.DRAFT:
        messages.error(request, "Only a draft can be edited; start a new draft from this version instead.")
        return redirect("policy:version", version.pk)
    copy = _draft_copy(request, version)

    def save(structure):
        return services.policy_version_update_draft(actor=request.user, version=version, structure=structure)

    context = {
        "heading": f"Edit draft version {version.number}",
        "source_name": version.source_name,
        "owner_label": str(version.policy),
        "cancel_url": reverse("policy:version", args=[version.pk]),
        "save_label": "Save draft",
    }
    return _overview(request, copy, template_context=context, save=save)


@require_http_methods(["GET", "POST"])
def draft_section(request, pk, index):
    version = _managed_draft(request, pk)
    if version.status != VersionStatus.DRAFT:
        messages.error(request, "Only a draft can be edited; start a new draft from this version instead.")
        return redirect("policy:version", version.pk)
    return _section_editor(request, _draft_copy(request, version), index, title=f"Edit draft version {version.number}")


@require_http_methods(["GET", "POST"])
def publish(request, pk):
    version = _managed_draft(request, pk)
    if version.status != VersionStatus.DRAFT:
        messages.error(request, f"Version {version.number} is already published; only a draft can be published.")
        return redirect("policy:version", version.pk)
    form = PublishForm(request.POST or None, initial={"effective_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_version_publish(actor=request.user, version=version, **form.cleaned_data)
        except services.PolicyStateError as error:
            messages.error(request, str(error))
            return redirect("policy:version", version.pk)
        messages.success(request, f"Version {version.number} is now in force. Staff have been asked to acknowledge it.")
        return redirect("policy:version", version.pk)
    return render(
        request, "policyhub/publish.html", {"version": version, "form": form}, status=400 if form.errors else 200
    )


@require_POST
def record_review(request, pk):
    """The version in force was reviewed without changing its text: the next review date moves on."""
    version = _managed_draft(request, pk)
    form = ReviewForm(request.POST, prefix="review")
    if not form.is_valid():
        messages.error(request, "Nothing was changed: give the date the next review is due.")
        return redirect("policy:version", version.pk)
    try:
        services.policy_review_record(actor=request.user, version=version, **form.cleaned_data)
    except services.PolicyStateError as error:
        messages.error(request, f"Nothing was changed: {error}")
        return redirect("policy:version", version.pk)
    messages.success(
        request, f"Review recorded. The next review is due on {version.next_review_date:%-d %B %Y}; reminders follow."
    )
    return redirect("policy:version", version.pk)


@require_POST
def new_draft(request, pk):
    version = _managed_draft(request, pk)
    try:
        draft = services.policy_version_new_draft(actor=request.user, from_version=version)
    except services.PolicyStateError as error:
        messages.error(request, str(error))
        return redirect("policy:version", version.pk)
    messages.success(request, f"Draft version {draft.number} started as a copy of version {version.number}.")
    return redirect("policy:draft_edit", draft.pk)


@require_POST
def adopt(request, pk):
    school = _school_or_404(request)
    policy = get_object_or_404(Policy.objects.related_to(request.user), pk=pk)
    try:
        services.policy_adopt(actor=request.user, school=school, policy=policy)
    except services.PolicyStateError as error:
        messages.error(request, str(error))
        return redirect("policy:manage")
    messages.success(request, f"{school.name} now works under “{policy}”. Staff have been asked to acknowledge it.")
    return redirect("policy:manage")
