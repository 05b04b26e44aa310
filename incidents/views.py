"""Views of the incidents feature. Short: fetch through visible_to (else 404), check the person's
relation to the case against the transitions table (else 403), validate a form, call a service,
redirect. What a page shows depends on that relation: the reporter sees their report and its
status, governors see the review, owners see everything."""

import logging
from functools import cache, cached_property
from inspect import signature

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import audit_reads
from accounts.models import User
from accounts.pages import page, schools_for
from policyhub.models import PolicyVersion
from policyhub.templatetags.plain_crispy import (
    current_locale,
    fixed_around_options,
    fixed_markup,
    options_markup,
    plain_crispy,
)

from . import (
    access,
    allegations,
    assignments,
    case_lists,
    evidence,
    forms,
    merging,
    reporter_channel,
    selectors,
    services,
    takedowns,
)
from .errors import ActionRefused, NotAllowed
from .models import (
    Category,
    Evidence,
    Incident,
    ReferralKind,
    Route,
    Status,
    TimelineKind,
)
from .rows import case_urls
from .transitions import (
    OWNERS,
    CaseRole,
    Transition,
    allowed,
    available,
    case_roles,
    known_answers,
    page_roles,
    review_panel,
    unmet,
)
from .transitions import TRANSITIONS as T

log = logging.getLogger(__name__)
PAGE_SIZE = 50

# --- Helpers -------------------------------------------------------------------------------------


def _case_page_flags(user) -> dict:
    """Read with the case for its page: which of its lists it has (case_lists.presence), whether
    the person holds an open task on it (access.open_task_flag: their relation to it) and, for an
    owner, the people the task form offers (assignments.read_with_the_case)."""
    return case_lists.presence() | access.open_task_flag(user) | assignments.read_with_the_case(user)


def _incident_or_404(request, reference, *, with_lists: bool = False) -> Incident:
    """`with_lists`: with _case_page_flags."""
    annotations = _case_page_flags if with_lists else None
    incident = Incident.objects.visible_case(request.user, reference, annotations=annotations)
    if incident is None:
        raise Http404("No such case.")
    audit_reads.fetched(request, reference, incident.pk)
    return incident


def _school_roles(request, incident) -> frozenset:
    return frozenset(m.role for m in request.ctx.memberships if m.school_id == incident.school_id)


def _roles(request, incident) -> frozenset:
    return case_roles(request.user, incident, _school_roles(request, incident))


def _require_role(roles, name) -> None:
    if not roles & T[name].roles:
        raise PermissionDenied(f"You cannot {T[name].label.lower()} on this case.")


def _version_for(incident):
    return PolicyVersion.objects.in_force_on(incident.school, services.incident_date(incident))


@cache
def _form_class(path: str) -> tuple[type, frozenset]:
    """The form class a transition names, and the names its constructor takes (found once: the case
    page builds a form per action shown, and inspecting each constructor cost more than building it)."""
    form_class = import_string(path)
    return form_class, frozenset(signature(form_class.__init__).parameters)


def _form_for(t: Transition, incident, data=None, files=None, fetched: dict | None = None):
    """The action's form from its table row (None: a plain button), given the case when it asks for
    it, and what the page has fetched already when it takes that (`fetched`: the take-downs)."""
    if not t.form:
        return None
    form_class, params = _form_class(t.form)
    kwargs = {"prefix": t.name}
    if "incident" in params:
        kwargs["incident"] = incident
    for name, value in (fetched or {}).items():
        if name in params and value is not None:
            kwargs[name] = value
    if "version" in params:  # triage offers the clauses of the version in force on the incident date
        kwargs["version"] = _version_for(incident)
    return form_class(data, files, **kwargs) if data is not None else form_class(**kwargs)


def _mode(roles, incident) -> str:
    """Which page the person gets: owners see everything, governors the review, reporters their report.
    The governors' relation holds only while the case is in review or closed after an upheld
    review (incidents/access.py)."""
    if roles & OWNERS:
        return "owner"
    # Someone working on a task of the case sees what the task needs (before the governors' page:
    # the review shows no evidence), also when they reported it.
    if CaseRole.ASSIGNEE in roles:
        return "assignee"
    if CaseRole.GOVERNOR in roles:
        return "governor"
    return "reporter"


# The actions a page other than the owner's offers: the reporter adds evidence; governors decide the
# review or step out of it; an assignee completes their task and records take-downs (owners get
# every action the table allows them).
NON_OWNER_ACTIONS = frozenset(
    {
        "add_evidence",
        "uphold",
        "refer_back",
        "declare_conflict",
        "complete_task",
        "message_owner",
        "request_takedown",
        "record_removal",
        "record_platform_refusal",
        "record_escalation_step",
    }
)
# Rows that act on one task: their forms sit beside each task (_case_tasks.html), not in the column.
PER_TASK_ACTIONS = frozenset({"complete_task", "cancel_task"})


def _detail(request, incident, *, bound: dict | None = None, status=200):
    """The case page: `_mode` says which of the three pages the person gets, and that page's own
    function says what goes on it; the actions column is common."""
    roles, panel = page_roles(request.user, incident, _school_roles(request, incident))
    request.case_review_panel = panel  # for _review_box: the panel is worked out once per page
    mode = _mode(roles, incident)
    if mode == "owner" and incident.status == Status.MERGED:
        # A merged report is read inside its survivor (its owners own both: incidents/merging.py).
        survivor = merging.survivor_for(request.user, incident)
        if survivor is not None:
            return redirect("incidents:detail", reference=survivor.reference)
    actions = available(roles, incident)
    if mode != "owner":
        actions = {k: v for k, v in actions.items() if k in NON_OWNER_ACTIONS}
    if (
        "declare_conflict" in actions
        and incident.timeline.filter(kind=TimelineKind.CONFLICT, actor=request.user).exists()
    ):
        actions.pop("declare_conflict")  # declared already (the service refuses a second)
    template, context = CASE_PAGES[mode](request, incident, roles, actions)
    # Each requirement is checked once for the page, from the take-downs and referrals the page has
    # fetched when it has them (the three take-down rows ask the same question: one answer, no query).
    known = known_answers(incident, takedowns=context.get("takedowns"), referrals=context.get("referrals"))
    fetched = {"takedowns": context.get("takedowns")}
    context.update(incident=incident, panels=_panels(incident, actions, bound or {}, known, fetched), bound=bound or {})
    context.setdefault("task_actions", {name for name in actions if name in PER_TASK_ACTIONS})
    return render(request, template, context, status=status)


_CARD_TEMPLATE = "incidents/_action.html"
# incidents/_action.html, as its template writes it (with no partial's blocks): _Panel.card.
_CARD = (
    '<div class="card mb-3"><div class="card-body">\n'
    '  <h3 class="h6" id="panel-{}">{}</h3>\n'
    "  {}\n"
    '  <form method="post" action="{}"{} novalidate aria-labelledby="panel-{}">\n'
    "    {}\n"
    "    {}\n"
    '    <button type="submit" class="btn {}"{}>{}</button>\n'
    "  </form>\n"
    "</div></div>\n"
)
_PROBLEM = '<p class="text-danger small mb-2">{}</p>'
_MULTIPART = mark_safe(' enctype="multipart/form-data"')  # noqa: S308  # nosec B308 B703
_DISABLED = mark_safe(' disabled aria-disabled="true"')  # noqa: S308  # nosec B308 B703


# What _CARD holds that differs from one view to the next, in its order; the rest is one action's own.
_CARD_SLOTS = ("problems", "url", "multipart", "csrf", "fields", "disabled")


@cache
def _card_parts(name: str, label: str, button: str) -> tuple[str, ...]:
    """_CARD for one action, escaped once per web process, in the seven pieces around _CARD_SLOTS."""
    slots = [f"\x00{slot}\x00" for slot in _CARD_SLOTS]  # escape() leaves these as they are
    written = format_html(_CARD, name, label, slots[0], slots[1], slots[2], name, *slots[3:5], button, slots[5], label)
    pieces = written.split("\x00")
    if tuple(pieces[1::2]) != _CARD_SLOTS:
        raise ValueError(f"A card's name, label or button holds a character _card_parts uses: {name}")
    return tuple(pieces[0::2])


@cache
def _card_template(name: str) -> str:
    """An action's card: its own partial, incidents/_action_<name>.html, or else _action.html. Found once
    per web process (an include of the two names looked for the missing partial on every view)."""
    return select_template([f"incidents/_action_{name}.html", _CARD_TEMPLATE]).template.name


class _Panel:
    """One action's card on the case page. Its form is built when the card asks for it. An unbound
    form whose markup never changes (most of them: plain_crispy.fixed_markup) is not built: its
    markup is written once per web process. A card without a partial of its own is written by
    `card` (_case_actions.html), not by its template."""

    def __init__(self, name, t: Transition, incident, bound_form, problems, fetched: dict, locale=None):
        self.name, self.transition, self.problems = name, t, problems
        self.url = case_urls(t.url_name)(incident.reference)
        self.template = _card_template(name)
        self.plain = self.template == _CARD_TEMPLATE
        self.incident, self._bound, self._fetched = incident, bound_form, fetched
        self.locale = locale  # the page's language and time zone (plain_crispy.current_locale), asked once

    def card(self, csrf_field: str) -> str:
        """incidents/_action.html for this card, `csrf_field` being what {% csrf_token %} writes.
        Written in Python: ten cards a view through the template engine cost a fifth of the page
        (docs/performance.md); tests/incidents/test_action_markup.py compares the two."""
        fixed = _card_parts(self.name, self.transition.label, self.transition.button)
        problems = format_html_join("", _PROBLEM, ((problem,) for problem in self.problems))
        # Each part is escaped (conditional_escape), written by format_html, or one of _CARD's own.
        return mark_safe(  # noqa: S308  # nosec B308 B703
            "".join(
                (
                    fixed[0],
                    problems,
                    fixed[1],
                    conditional_escape(self.url),
                    fixed[2],
                    _MULTIPART if self.multipart else "",
                    fixed[3],
                    conditional_escape(csrf_field),
                    fixed[4],
                    conditional_escape(self.fields),
                    fixed[5],
                    _DISABLED if self.problems else "",
                    fixed[6],
                )
            )
        )

    @cached_property
    def form(self):
        if self._bound is not None:
            return self._bound
        return _form_for(self.transition, self.incident, fetched=self._fetched)

    @cached_property
    def _fixed(self) -> tuple[str, bool] | None:
        if self._bound is not None or not self.transition.form:
            return None
        form_class = _form_class(self.transition.form)[0]
        if hasattr(form_class, "options_for"):  # fixed but for one select's options (the task form)
            around = fixed_around_options(form_class, self.name, self.locale)
            if around is not None:
                before, after, multipart = around
                return before + options_markup(form_class.options_for(self.incident)) + after, multipart
        return fixed_markup(form_class, self.name, self.locale)

    @property
    def fields(self) -> str:
        """The form's fields as markup (_action.html; a card of its own may write them itself)."""
        if self._fixed is not None:
            return self._fixed[0]
        return plain_crispy(self.form) if self.form is not None else ""

    @property
    def multipart(self) -> bool:
        if self._fixed is not None:
            return self._fixed[1]
        return self.form is not None and self.form.is_multipart()

    @property
    def refused(self) -> bool:
        """Whether the form came back from a post with errors (a take-down card shows then)."""
        return self._bound is not None and bool(self._bound.errors)


def _while_a_request_waits(panel: _Panel) -> bool:
    """A take-down record (the removal, the refusal, an escalation): offered while a request waits for
    the platform, or when its post came back refused. The Take-downs section says when none waits."""
    return not panel.problems or panel.refused


def _on_the_allegation_route(panel: _Panel) -> bool:
    """An allegation record (incidents/allegations.py): offered only on the allegation route."""
    return panel.incident.route == Route.ALLEGATION


# Cards offered only in some states of the case; every other card is always offered, its button
# disabled (with the reasons) while a requirement is unmet.
_OFFERED_WHEN = {
    "record_removal": _while_a_request_waits,
    "record_platform_refusal": _while_a_request_waits,
    "record_escalation_step": _while_a_request_waits,
    "decide_to_investigate": _on_the_allegation_route,
    "record_investigation_report": _on_the_allegation_route,
    "record_hearing_held": _on_the_allegation_route,
    "record_formal_action": _on_the_allegation_route,
}


def _panels(incident, actions, bound: dict, known: dict, fetched: dict) -> list[_Panel]:
    """A card per action this page posts to views.case_action (rows with a `path`) and offers in the
    case's state (_OFFERED_WHEN); the rows served elsewhere (evidence files, access history,
    retention) are links or forms of their own."""
    locale = current_locale()
    panels = [
        _Panel(name, t, incident, bound.get(name), unmet(incident, name, known), fetched, locale)
        for name, t in actions.items()
        if t.path and name not in PER_TASK_ACTIONS
    ]
    return [panel for panel in panels if panel.name not in _OFFERED_WHEN or _OFFERED_WHEN[panel.name](panel)]


def _owner_page(request, incident, roles, actions) -> tuple[str, dict]:
    """Everything: the report and who made it, every file, triage, referrals, the review, the full timeline."""
    history = T["access_history"]
    timeline = case_lists.timeline(incident)
    # Fetched once and lent to the parts that read them again (duplicates, referral prompts).
    files = case_lists.evidence(incident)
    referrals = case_lists.referrals(incident)
    return "incidents/case_owner.html", {
        "timeline": timeline,
        "evidence": files,
        "withdraw_form": forms.WithdrawForm(prefix="withdraw")
        if allowed(roles, incident, "withdraw_evidence")
        else None,
        "clauses": case_lists.clauses(incident),
        "referrals": referrals,
        "referral_prompts": _referral_prompts(incident, referrals),
        "reviews": case_lists.reviews(incident),
        "review": _review_box(request, incident, roles),
        "history_url": reverse(history.url_name, args=[incident.reference])
        if allowed(roles, incident, history.name)
        else "",
        "tasks": assignments.tasks_of_case(incident),
        **merging.owner_context(request, incident, roles, evidence=files),
        "thread": reporter_channel.thread_for_owner(incident),
        "takedowns": takedowns.for_case(incident),
        "allegation": allegations.case_panel(incident, timeline),
    }


def _reporter_page(request, incident, roles, actions) -> tuple[str, dict]:
    """Their report, their own files, when a response is due, and the public timeline: nothing internal,
    no clauses, referrals, outcome reasons or review, and nobody's name."""
    due = incident.response_due_at
    return "incidents/case_reporter.html", {
        "timeline": list(incident.timeline.filter(internal=False)),
        "evidence": list(incident.evidence.filter(uploaded_by=request.user)),
        "response_overdue": due is not None and due <= timezone.now(),
        "thread": reporter_channel.thread_for_reporter(incident, request.user),
    }


def _governor_page(request, incident, roles, actions) -> tuple[str, dict]:
    """The review only: summary, clauses, outcome and reasons, who decides, decisions so far."""
    return "incidents/case_governor.html", {
        "clauses": list(incident.clauses.order_by("order")),
        "reviews": list(incident.governor_reviews.select_related("decided_by")),
        "review": _review_box(request, incident, roles),
        # A reporter who is also a governor keeps their own thread during the review.
        "thread": reporter_channel.thread_for_reporter(incident, request.user) if CaseRole.REPORTER in roles else None,
    }


def _assignee_page(request, incident, roles, actions) -> tuple[str, dict]:
    """What a task needs: the report (not who made it), the files (not withdrawn ones), the clauses
    and the person's own tasks. No timeline, notes, other tasks, referrals, outcome or review."""
    return "incidents/case_assignee.html", {
        "evidence": list(incident.evidence.filter(withdrawn_at__isnull=True)),
        "clauses": list(incident.clauses.order_by("order")),
        "tasks": assignments.tasks_of_assignee(incident, request.user),
        # A task may be the take-down: the assignee records it (transitions.TAKEDOWN_ROLES).
        "takedowns": takedowns.for_case(incident),
        # An assignee who also reported the case keeps their own thread with its owners.
        "thread": reporter_channel.thread_for_reporter(incident, request.user) if CaseRole.REPORTER in roles else None,
    }


CASE_PAGES = {
    "owner": _owner_page,
    "reporter": _reporter_page,
    "governor": _governor_page,
    "assignee": _assignee_page,
}


def _review_box(request, incident, roles) -> dict | None:
    """Who may decide the review in progress, for its owners and its readers; and, to a governor
    who may not, why (their own reason only: the others' would name the reporter)."""
    if incident.status != Status.GOVERNOR_REVIEW:
        return None
    panel = getattr(request, "case_review_panel", None) or review_panel(incident)
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


def _referral_prompts(incident, referrals: list) -> list[str]:
    """`referrals`: the case's referrals, as the owner's page lists them."""
    wanted = []
    if incident.category in PROMPTS:
        wanted.append(PROMPTS[incident.category])
    if incident.route == Route.ALLEGATION:
        wanted.append((ReferralKind.LADO, "The harm threshold is met: refer to the LADO within one working day."))
    made = {r.kind for r in referrals}
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


# --- Reporting -----------------------------------------------------------------------------------

# What the report form passes to services.incident_report, by name.
REPORT_FIELDS = (
    "category",
    "platform",
    "links",
    "happened_at",
    "seen_at",
    "involved",
    "subject",
    "involved_detail",
    "description",
    "child_at_risk",
    "files",
    "captured_at",
    "captured_url",
)


@require_http_methods(["GET", "POST"])
@page("incidents:report")
def report(request):
    school = request.ctx.school
    form = forms.ReportForm(request.POST or None, request.FILES or None, school=school, reporter=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            fields = {name: data[name] for name in REPORT_FIELDS}
            incident = services.incident_report(reporter=request.user, school=school, **fields)
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
@page("incidents:mine")
def my_reports(request):
    page = selectors.my_reports_page(request.user, request.GET.get("page"))
    return render(request, "incidents/my_reports.html", {"page": page})


# --- Owners --------------------------------------------------------------------------------------


@require_GET
@page("incidents:queue")
def queue(request):
    # A form only when a filter is asked for: the queue as it opens writes the unbound form's markup,
    # kept (incident_tags.queue_filters).
    asked = any(name in request.GET for name in forms.QueueFilterForm.base_fields)
    filters = forms.QueueFilterForm(request.GET) if asked else None
    many_schools = len({m.school_id for m in request.ctx.memberships}) > 1
    wanted = filters.cleaned_data if filters is not None and filters.is_valid() else {}
    page = selectors.queue_page(request.user, wanted, request.GET.get("page"), many_schools)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/queue.html",
        {"page": page, "filters": filters, "many_schools": many_schools, "query": query.urlencode()},
    )


@require_GET
@page("incidents:person")
def person(request, user_id):
    """Low-level concerns about one adult, together, so a pattern is visible (owners only)."""
    owned_schools = schools_for(request.ctx, "incidents:person")
    adult = get_object_or_404(
        User.objects.filter(memberships__school__in=owned_schools).exclude(pk=request.user.pk).distinct(), pk=user_id
    )
    cases = Incident.objects.owned_by(request.user).filter(subject=adult).select_related("school")
    cases = list(cases.order_by("received_at", "pk"))
    low_level = [c for c in cases if c.route == Route.LOW_LEVEL]
    others = [c for c in cases if c.route != Route.LOW_LEVEL]
    return render(request, "incidents/person.html", {"adult": adult, "low_level": low_level, "others": others})


# --- Governors -----------------------------------------------------------------------------------


@require_GET
@page("incidents:reviews")
def reviews(request):
    listing = selectors.reviews_page(request.user, request.GET.get("page"))
    return render(request, "incidents/reviews.html", {"page": listing})


# --- One case ------------------------------------------------------------------------------------


@require_GET
def detail(request, reference):
    incident = _incident_or_404(request, reference, with_lists=True)
    log.info("Incident %s viewed by user %s", incident.reference, request.user.pk)
    return _detail(request, incident)


@require_POST
def case_action(request, reference, name):
    """Every change made from the case page, by its row of transitions.TABLE (incidents/urls.py
    routes each row's path here): 404 unless visible → 403 unless the row's roles → the row's form →
    the row's service (which checks the table again, inside its transaction)."""
    t = T[name]
    incident = _incident_or_404(request, reference)
    _require_role(_roles(request, incident), name)
    form = _form_for(t, incident, request.POST, request.FILES)
    if form is not None and not form.is_valid():
        if incident.status not in t.sources:  # say the real problem, not the form's
            messages.error(request, f"{incident.reference} is now “{incident.get_status_display()}”.")
            return redirect("incidents:detail", reference=incident.reference)
        return _detail(request, incident, bound={name: form}, status=400)
    data = form.cleaned_data if form is not None else {}
    service = import_string(t.service)
    success = form.success_message() if hasattr(form, "success_message") else t.success
    return _act(
        request, incident, name, lambda: service(incident=incident, actor=request.user, **data), success, form=form
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
    readers = T["view_evidence"].roles
    if roles & readers & OWNERS:
        return item
    # Someone working on a task opens every file the case still relies on (not withdrawn ones).
    if CaseRole.ASSIGNEE in roles & readers and item.withdrawn_at is None:
        return item
    # Readers who do not own the case (the reporter) open only the files they uploaded themselves.
    if roles & readers and item.uploaded_by_id == request.user.pk:
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
        T["withdraw_evidence"].success,
    )
