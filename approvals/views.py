"""Official accounts, authorisations and the do-not-publish list. Thin: forms check input,
approvals/access.py decides who sees what (404 for anything else), services write."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.audit import record
from accounts.models import AuditAction
from accounts.pages import page
from incidents.errors import ActionRefused, NotAllowed
from incidents.models import Incident

from . import access, csv_import, services
from .forms import (
    AccountRequestForm,
    ApproverForm,
    AuthorisationDecisionForm,
    AuthorisationRequestForm,
    CloseForm,
    ConcernLinkForm,
    DecisionForm,
    EntryForm,
    ListImportForm,
    ReplacementForm,
)
from .models import (
    AccountAdministrator,
    AccountStatus,
    AdministratorVacancy,
    Approver,
    AuthorisationRequest,
    AuthorisationStatus,
    DoNotPublishEntry,
    OfficialAccount,
)


def _accounts(request, viewer=None):
    active = AccountAdministrator.objects.filter(ended_at__isnull=True).select_related("user")
    return access.visible(
        OfficialAccount.objects.all(), request.user, access.ACCOUNT_RELATIONS, viewer
    ).prefetch_related(Prefetch("administrators", queryset=active, to_attr="current_admins"))


def _authorisations(request, viewer=None):
    return access.visible(
        AuthorisationRequest.objects.all(), request.user, access.AUTHORISATION_RELATIONS, viewer
    ).select_related("kind", "requested_by")


def _refused(request, exc):
    if isinstance(exc, NotAllowed):
        raise PermissionDenied(str(exc))
    messages.error(request, str(exc))


# --- Overview -----------------------------------------------------------------------------------------


@require_GET
@page("approvals:index")
def index(request):
    school = request.ctx.school
    viewer = access.Viewer.of(request.user)
    approver = school.pk in viewer.approves_at
    here = Q(school=school)
    accounts = _accounts(request, viewer).filter(here)
    authorisations = _authorisations(request, viewer).filter(here)
    waiting = Q(status="requested") & ~Q(requested_by=request.user)
    context = {
        "approver": approver,
        "is_head": school.pk in viewer.heads_at,
        "sees_list": access.sees_list(request.user, school.pk, viewer),
        "my_accounts": accounts.filter(requested_by=request.user)[:20],
        "my_authorisations": authorisations.filter(requested_by=request.user)[:20],
        "to_decide_accounts": accounts.filter(waiting) if approver else [],
        "to_decide_authorisations": authorisations.filter(waiting) if approver else [],
        "vacancies": _vacancies(school) if approver else [],
    }
    return render(request, "approvals/index.html", context)


def _vacancies(school):
    return (
        AdministratorVacancy.objects.filter(
            account__school=school, account__status=AccountStatus.OPEN, filled_at__isnull=True
        )
        .select_related("account", "left_user")
        .order_by("created_at")
    )


# --- Official accounts ------------------------------------------------------------------------------------


@require_GET
@page("approvals:register")
def register(request):
    school = request.ctx.school
    viewer = access.Viewer.of(request.user)
    accounts = _accounts(request, viewer).filter(school=school).exclude(status=AccountStatus.REFUSED)
    approver = school.pk in viewer.approves_at
    status = request.GET.get("status")
    if status in (AccountStatus.OPEN, AccountStatus.CLOSED, AccountStatus.REQUESTED):
        accounts = accounts.filter(status=status)
    return render(
        request,
        "approvals/register.html",
        {
            "accounts": accounts.select_related("requested_by"),
            "approver": approver,
            "vacancies": _vacancies(school) if approver else [],
            "status": status,
        },
    )


@require_http_methods(["GET", "POST"])
@page("approvals:account_new")
def account_new(request):
    school = request.ctx.school
    members = services.active_members(school)
    form = AccountRequestForm(request.POST or None, members=members)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                account = services.account_request(
                    user=request.user,
                    school=school,
                    **{k: form.cleaned_data[k] for k in ("platform", "name", "purpose", "audience", "moderation_plan")},
                    administrators=list(form.cleaned_data["administrators"]),
                )
            except ActionRefused as exc:
                _refused(request, exc)
            else:
                messages.success(request, f"{account.label} sent to the head for a decision.")
                return redirect("approvals:account", account.pk)
        status = 400
    return render(request, "approvals/account_new.html", {"form": form}, status=status)


def _account_or_404(request, pk):
    viewer = access.Viewer.of(request.user)
    account = get_object_or_404(_accounts(request, viewer).select_related("school", "requested_by"), pk=pk)
    return account, viewer


def _deciding(request, obj, viewer):
    """Seen but not theirs to decide: 403, before any form is read."""
    if not access.may_decide(request.user, obj, viewer):
        raise PermissionDenied("Only the head or an approver the head named decides this request, never their own.")


def _approving(request, account, viewer):
    if "approver" not in access.relations(request.user, account, access.ACCOUNT_RELATIONS, viewer):
        raise PermissionDenied("Only the head or an approver the head named does this.")


@require_GET
def account(request, pk):
    account, viewer = _account_or_404(request, pk)
    return _account_page(request, account, viewer)


def _account_page(request, account, viewer, *, forms=None, status=200):
    relations = access.relations(request.user, account, access.ACCOUNT_RELATIONS, viewer)
    approver = "approver" in relations
    members = services.active_members(account.school)
    forms = forms or {}
    context = {
        "account": account,
        "approver": approver,
        "may_decide": approver and account.requested_by_id != request.user.pk,
        "former": account.administrators.filter(ended_at__isnull=False).select_related("user") if approver else [],
        "vacancies": account.vacancies.filter(filled_at__isnull=True).select_related("left_user") if approver else [],
        "decision_form": forms.get("decide") or DecisionForm(),
        "close_form": forms.get("close") or CloseForm(),
        "replacement_form": ReplacementForm(members=members),
    }
    return render(request, "approvals/account.html", context, status=status)


@require_POST
def account_decide(request, pk):
    account, viewer = _account_or_404(request, pk)
    _deciding(request, account, viewer)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _account_page(request, account, viewer, forms={"decide": form}, status=400)
    try:
        services.account_decide(
            user=request.user,
            account=account,
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
        )
    except ActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Decision recorded.")
    return redirect("approvals:account", account.pk)


@require_POST
def account_review(request, pk):
    account, viewer = _account_or_404(request, pk)
    _approving(request, account, viewer)
    try:
        services.account_reviewed(user=request.user, account=account)
    except ActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Review recorded. The next one is due in a year.")
    return redirect("approvals:account", account.pk)


@require_POST
def account_close(request, pk):
    account, viewer = _account_or_404(request, pk)
    _approving(request, account, viewer)
    form = CloseForm(request.POST)
    if not form.is_valid():
        return _account_page(request, account, viewer, forms={"close": form}, status=400)
    try:
        services.account_close(user=request.user, account=account, reason=form.cleaned_data["reason"])
    except ActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, "The account is closed.")
    return redirect("approvals:account", account.pk)


@require_POST
def vacancy_fill(request, pk):
    vacancy = get_object_or_404(AdministratorVacancy.objects.select_related("account"), pk=pk)
    account, viewer = _account_or_404(request, vacancy.account_id)
    _approving(request, account, viewer)
    form = ReplacementForm(request.POST, members=services.active_members(account.school))
    if not form.is_valid():
        messages.error(request, "Choose a member of staff. Nothing was changed.")
        return redirect("approvals:account", account.pk)
    try:
        services.vacancy_fill(user=request.user, vacancy=vacancy, replacement=form.cleaned_data["replacement"])
    except ActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Replacement named.")
    return redirect("approvals:account", account.pk)


# --- Authorisations ------------------------------------------------------------------------------------


@require_GET
@page("approvals:authorisations")
def authorisations(request):
    school = request.ctx.school
    rows = _authorisations(request).filter(school=school)
    status = request.GET.get("status")
    if status in AuthorisationStatus.values:
        rows = rows.filter(status=status)
    return render(
        request,
        "approvals/authorisations.html",
        {"rows": rows[:200], "status": status, "statuses": AuthorisationStatus.choices},
    )


@require_http_methods(["GET", "POST"])
@page("approvals:authorisation_new")
def authorisation_new(request):
    school = request.ctx.school
    open_accounts = OfficialAccount.objects.filter(school=school, status=AccountStatus.OPEN)
    form = AuthorisationRequestForm(request.POST or None, accounts=open_accounts)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                made = services.authorisation_request(user=request.user, school=school, **form.cleaned_data)
            except ActionRefused as exc:
                _refused(request, exc)
            else:
                messages.success(request, f"{made.label} sent for a decision.")
                return redirect("approvals:authorisation", made.pk)
        status = 400
    return render(request, "approvals/authorisation_new.html", {"form": form}, status=status)


def _authorisation_or_404(request, pk):
    viewer = access.Viewer.of(request.user)
    found = get_object_or_404(_authorisations(request, viewer).select_related("school", "account"), pk=pk)
    return found, viewer


@require_GET
def authorisation(request, pk):
    found, viewer = _authorisation_or_404(request, pk)
    return _authorisation_page(request, found, viewer)


def _authorisation_page(request, found, viewer, form=None, status=200):
    approver = "approver" in access.relations(request.user, found, access.AUTHORISATION_RELATIONS, viewer)
    context = {
        "req": found,
        "may_decide": approver and found.requested_by_id != request.user.pk,
        "sees_list": access.sees_list(request.user, found.school_id, viewer),
        "form": form or AuthorisationDecisionForm(needs_consent=found.images_of_pupils),
    }
    return render(request, "approvals/authorisation.html", context, status=status)


@require_POST
def authorisation_decide(request, pk):
    found, viewer = _authorisation_or_404(request, pk)
    _deciding(request, found, viewer)
    form = AuthorisationDecisionForm(request.POST, needs_consent=found.images_of_pupils)
    if not form.is_valid():
        return _authorisation_page(request, found, viewer, form=form, status=400)
    data = form.cleaned_data
    try:
        services.authorisation_decide(
            user=request.user,
            request=found,
            approve=data["decision"] == "approve",
            reason=data["reason"],
            conditions=data["conditions"],
            expires_on=data["expires_on"],
            consent_checked=data.get("consent_checked", False),
        )
    except ActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Decision recorded.")
    return redirect("approvals:authorisation", found.pk)


# --- The do-not-publish list ---------------------------------------------------------------------------


def _list_school(request):
    school = request.ctx.school
    if school is None or not access.sees_list(request.user, school.pk):
        # A refused look at the list is on record too (who tried, where), never silently dropped.
        record(
            AuditAction.REFUSED,
            request=request,
            object_type="do_not_publish",
            school_id=school.pk if school else None,
            detail={"view": request.resolver_match.view_name},
        )
        raise PermissionDenied("The do-not-publish list is for approvers and the DSL only.")
    return school


def _audit_list_view(request, school, shown: int):
    """Every look at the list is on record: who, when, how many pupils were shown."""
    record(
        AuditAction.VIEW,
        request=request,
        object_type="do_not_publish",
        school_id=school.pk,
        detail={"entries": shown, "view": request.resolver_match.view_name},
    )


@require_http_methods(["GET", "POST"])
@page("approvals:do_not_publish")
def do_not_publish(request):
    school = _list_school(request)
    form = EntryForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.list_add(user=request.user, school=school, **form.cleaned_data)
            messages.success(request, "Pupil added to the list.")
            return redirect("approvals:do_not_publish")
        status = 400
    entries = DoNotPublishEntry.objects.filter(school=school)
    query = (request.GET.get("q") or "").strip()[:60]
    if query:
        entries = entries.filter(Q(name__icontains=query) | Q(class_name__icontains=query))
    entries = list(entries[:2000])
    _audit_list_view(request, school, len(entries))
    counts = DoNotPublishEntry.objects.filter(school=school).aggregate(n=Count("pk"))
    return render(
        request,
        "approvals/do_not_publish.html",
        {"entries": entries, "form": form, "query": query, "total": counts["n"]},
        status=status,
    )


@require_POST
def do_not_publish_remove(request, pk):
    school = _list_school(request)
    entry = DoNotPublishEntry.objects.filter(school=school, pk=pk).first()
    if entry is None:
        raise Http404
    services.list_remove(user=request.user, entry=entry)
    messages.success(request, "Pupil removed from the list.")
    return redirect("approvals:do_not_publish")


@require_http_methods(["GET", "POST"])
@page("approvals:do_not_publish_import")
def do_not_publish_import(request):
    school = _list_school(request)
    form = ListImportForm(request.POST or None, request.FILES or None)
    errors, status = [], 200
    if request.method == "POST":
        if form.is_valid():
            parsed = csv_import.parse(form.cleaned_data["file"].read(csv_import.MAX_BYTES + 1))
            errors = parsed.errors
            if not errors:
                count = services.list_replace(user=request.user, school=school, rows=parsed.rows)
                messages.success(request, f"The list now has {count} pupils.")
                return redirect("approvals:do_not_publish")
        status = 400
    return render(request, "approvals/do_not_publish_import.html", {"form": form, "errors": errors}, status=status)


# --- Approvers ------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@page("approvals:approvers")
def approvers(request):
    school = request.ctx.school
    members = services.active_members(school)
    form = ApproverForm(request.POST or None, members=members)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.approver_name(actor=request.user, school=school, user=form.cleaned_data["user"])
            except ActionRefused as exc:
                _refused(request, exc)
            else:
                messages.success(request, "Approver named.")
                return redirect("approvals:approvers")
        status = 400
    named = Approver.objects.filter(school=school).select_related("user", "named_by")
    return render(request, "approvals/approvers.html", {"form": form, "named": named}, status=status)


@require_POST
def approver_remove(request, pk):
    found = get_object_or_404(Approver, pk=pk, school=request.ctx.school)
    try:
        services.approver_remove(actor=request.user, approver=found)
    except ActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Approver removed.")
    return redirect("approvals:approvers")


# --- A case about an official account -----------------------------------------------------------------


@require_POST
def concern_link(request):
    """From the case page (its owner): the case is about one of the school's official accounts."""
    form = ConcernLinkForm(request.POST)
    if not form.is_valid():
        raise Http404
    incident = Incident.objects.owned_by(request.user).filter(pk=form.cleaned_data["incident"]).first()
    if incident is None:
        raise Http404
    account = OfficialAccount.objects.filter(pk=form.cleaned_data["account"], school_id=incident.school_id).first()
    if account is None:
        messages.error(request, "Choose an official account of the case's school. Nothing was changed.")
    else:
        try:
            services.concern_link(user=request.user, incident=incident, account=account)
        except ActionRefused as exc:
            _refused(request, exc)
        else:
            messages.success(request, "Linked; the account's administrators have been told (no details).")
    return redirect("incidents:detail", incident.reference)
