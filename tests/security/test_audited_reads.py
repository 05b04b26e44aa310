"""Every response that shows case content writes its audit event, whatever the method and status
(accounts/audit_reads.py; docs/notes/subject-and-audited-reads.md).

Every URL pattern of the app is walked (django.urls.get_resolver(), as the access matrix does) and
must be in one of two hand-written tables: CASE_CONTENT, the routes whose responses show a case
(each with the requests that show it), or NO_CASE_CONTENT. A new route in neither fails here.

- A response that shows case content (200, or 400 with the page shown again) writes exactly one
  read event (view or download), naming the case when the page is about one case; a subject-access
  run writes one event for the person and one per case it shows.
- A refusal (403/404) writes one refusal event and no read; a redirect writes no read.
- The routes said to show no case content are opened by people who own, review, report or hold
  the cases, with every id: no case reference may appear on them.
"""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from accounts.audit_reads import CASE_READS
from accounts.models import AuditAction, AuditEvent
from incidents.models import Evidence, Incident, Status
from incidents.references import PATTERN
from tests.incidents.factories import advance, report
from tests.security.test_access_matrix import ADMIN_NAMESPACE, _routes, client_for
from tests.security.test_subject_leaks import _ids, _kind

pytestmark = pytest.mark.django_db

READS = (AuditAction.VIEW, AuditAction.DOWNLOAD, AuditAction.EXPORT)

# Routes that never show a case, by hand. Each is opened below and searched for case references.
NO_CASE_CONTENT = {
    "healthz",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "sign_in_link_request",
    "sign_in_link_sent",
    "sign_in_link",
    "switch_school",
    "account_security",
    "sign_out_everywhere",
    "two_factor_setup",
    "two_factor_verify",
    "recovery_codes",
    "sso_start",
    "sso_callback",
    "sso_providers",
    "sso_provider_new",
    "sso_provider_edit",
    "sso_mapping_add",
    "sso_mapping_remove",
    "policy:page",  # breach counts only (aggregates, counted_for)
    "policy:search",
    "policy:diff",
    "policy:version",  # breach counts only
    "policy:acknowledge",
    "policy:hide_banner",  # hides the policy banner for the session: a redirect
    "policy:compliance",
    "policy:compliance_csv",
    "policy:manage",
    "policy:import",
    "policy:import_preview",
    "policy:import_section",
    "policy:draft_edit",
    "policy:draft_section",
    "policy:publish",
    "policy:new_draft",
    "policy:record_review",  # a new review date: audited as a change (policyhub/services.py)
    "policy:adopt",
    "incidents:report",  # the form for a new report: no case exists yet
    "audit:log",  # events name cases by reference (a name, not content); the CSV export is itself audited
    "sar:start",  # the people a DPO answers for, no case
    "casefile:find",  # a reference typed in: sent on to the case's case file (audited there)
    "staff_import_confirm",  # saves the previewed staff list, then a redirect (the preview is staff_import)
    # Official accounts and authorisations: no case content (a case is linked to an account from the
    # case page; the account's pages never name the case). The do-not-publish list audits itself.
    "approvals:index",
    "approvals:register",
    "approvals:account_new",
    "approvals:account",
    "approvals:account_decide",
    "approvals:account_review",
    "approvals:account_close",
    "approvals:vacancy_fill",
    "approvals:authorisations",
    "approvals:authorisation_new",
    "approvals:authorisation",
    "approvals:authorisation_decide",
    "approvals:do_not_publish",
    "approvals:do_not_publish_import",
    "approvals:do_not_publish_remove",
    "approvals:approvers",
    "approvals:approver_remove",
    "approvals:concern_link",  # a POST that redirects to the case page
    # A member's own declarations, training and advice (obligations/): no case; a declaration or
    # question opened by someone else is audited as a view of that record (tests/obligations).
    "obligations:declarations",
    "obligations:declare",
    "obligations:declaration",
    "obligations:training",
    "obligations:training_csv",
    "obligations:my_training",
    "obligations:advice_list",
    "obligations:advice",
    # The governors' pack downloads and the trust view ([9]): counts and rates only; the downloads
    # write their own export event (tests/reporting/test_views.py).
    "reporting:pack_csv",
    "reporting:pack_pdf",
    "reporting:trust",
}

# Case-content routes that never show the page themselves (a plain button, or a form whose
# problems come back as a message on the case page): their refusals are recorded; a redirect is not
# a read (the change is recorded by its service).
REDIRECT_ONLY = {
    "incidents:acknowledge",
    "incidents:start_investigation",
    "incidents:evidence_withdraw",
    "incidents:split",
}

# The case actions, posted empty or with bad values: refused forms answer 400 with the case page.
ACTIONS = {
    "incidents:triage": ("helen", "in_triage", {"triage-severity": "catastrophic"}),
    "incidents:start_investigation": ("helen", "in_triage", {}),
    "incidents:propose_outcome": ("helen", "investigating", {"propose_outcome-outcome": "nonsense"}),
    "incidents:close": ("helen", "proposed", {"close-note": "x" * 1001}),
    "incidents:refer_to_governors": ("helen", "proposed", {}),
    "incidents:decide": ("gary", "review", {"uphold-decision": "maybe"}),
    "incidents:declare_conflict": ("gary", "review", {"declare_conflict-reason": ""}),
    "incidents:reopen": ("helen", "closed_nobreach", {}),
    "incidents:add_note": ("helen", "parent", {"add_note-note": ""}),
    "incidents:record_referral": ("helen", "parent", {"record_referral-kind": "nobody"}),
    "incidents:add_evidence": ("helen", "parent", {}),
    "incidents:acknowledge": ("helen", "parent", {}),
    # Tasks ([8]): no title; a task that is not open on the case.
    "incidents:assign_task": ("helen", "parent", {"assign_task-title": ""}),
    "incidents:complete_task": ("helen", "parent", {"complete_task-task": "not-a-task"}),
    "incidents:cancel_task": ("helen", "parent", {"cancel_task-task": "not-a-task"}),
    "incidents:link": ("helen", "parent", {"link-other": ""}),
    "incidents:unlink": ("helen", "parent", {"unlink-other": "not a reference"}),
    "incidents:merge": ("helen", "parent", {"merge-into": ""}),
    "incidents:split": ("helen", "parent", {}),
    "incidents:message_reporter": ("helen", "parent", {"message_reporter-body": " "}),
    "incidents:message_owner": ("sam", "parent", {"message_owner-body": "x" * 2001}),
    "incidents:what_we_did": ("helen", "closed_nobreach", {"what_we_did-body": ""}),
    # Take-downs: no address; and, with no request waiting, the recording forms are refused.
    "incidents:request_takedown": ("helen", "parent", {"request_takedown-url": ""}),
    "incidents:record_removal": ("helen", "parent", {}),
    "incidents:record_platform_refusal": ("helen", "parent", {}),
    "incidents:record_escalation_step": ("helen", "parent", {}),
    "incidents:decide_to_investigate": ("helen", "parent", {"decide_to_investigate-decided_on": "soon"}),
    "incidents:record_investigation_report": ("helen", "parent", {"record_investigation_report-received_on": ""}),
    "incidents:record_formal_action": ("helen", "parent", {"record_formal_action-needed": "maybe"}),
    "incidents:record_hearing_held": ("helen", "parent", {"record_hearing_held-held_on": "2999-01-01"}),
}


BAD_DATE = {"retirement_date": "soon"}


def _requests(w):
    """(route, actor, method, url, data, case key or None) for each case-content route."""
    case, r = w.cases, reverse
    parent, closed, about_sam = case["parent"].reference, case["closed_nobreach"], case["about_sam"].reference
    item = Evidence.objects.filter(incident=case["parent"]).first().public_id
    closed_ref = closed.reference
    upcoming = r("retention:upcoming")
    case_file = r("casefile:download", args=[parent])
    rows = [
        ("home", "sam", "get", r("home"), None, None),
        ("policy:clause", "sam", "get", r("policy:clause", args=[w.clauses[0].pk]), None, None),
        ("incidents:mine", "sam", "get", r("incidents:mine"), None, None),
        ("incidents:queue", "helen", "get", r("incidents:queue"), None, None),
        ("incidents:reviews", "gary", "get", r("incidents:reviews"), None, None),
        ("incidents:termly_report", "gary", "get", r("incidents:termly_report"), None, None),
        ("incidents:person", "helen", "get", r("incidents:person", args=[w.sam.pk]), None, None),
        ("incidents:report_done", "sam", "get", r("incidents:report_done", args=[parent]), None, "parent"),
        ("incidents:detail", "helen", "get", r("incidents:detail", args=[parent]), None, "parent"),
        ("incidents:evidence_download", "helen", "get", r("incidents:evidence_download", args=[item]), None, "parent"),
        ("incidents:evidence_preview", "helen", "get", r("incidents:evidence_preview", args=[item]), None, "parent"),
        ("incidents:evidence_withdraw", "helen", "post", r("incidents:evidence_withdraw", args=[item]), {}, "parent"),
        ("audit:case_history", "helen", "get", r("audit:case_history", args=[parent]), None, "parent"),
        ("retention:upcoming", "priya", "get", upcoming, None, None),
        ("retention:upcoming", "priya", "get", f"{upcoming}?reference={closed.reference}", None, "closed_nobreach"),
        ("retention:hold", "priya", "post", r("retention:hold", args=[closed_ref]), {"reason": " "}, "closed_nobreach"),
        ("retention:release", "priya", "post", r("retention:release", args=[closed_ref]), {}, "closed_nobreach"),
        ("retention:pension_age", "helen", "post", r("retention:pension_age", args=[about_sam]), BAD_DATE, "about_sam"),
        ("sar:preview", "priya", "get", r("sar:preview", args=[w.sam.pk]), None, None),
        ("sar:preview", "priya", "post", r("sar:preview", args=[w.sam.pk]), {"also_search": "x" * 3000}, None),
        ("sar:export", "priya", "post", r("sar:export", args=[w.sam.pk]), {"release": ["nonsense"]}, None),
        ("sar:export", "priya", "post", r("sar:export", args=[w.sam.pk]), {}, None),
        ("casefile:form", "helen", "get", r("casefile:form", args=[parent]), None, "parent"),
        ("casefile:form", "priya", "get", r("casefile:form", args=[parent]), None, "parent"),
        ("casefile:download", "helen", "post", case_file, {"purpose": "lado"}, "parent"),
        ("casefile:download", "priya", "post", case_file, {"purpose": "nonsense"}, "parent"),
        # The staff import's preview lists a leaver's open cases: the other head, who sees them, previews.
        ("staff_import", _other_head(w), "post", r("staff_import"), _leaver_upload(w), None),
    ]
    for name, (actor, key, data) in ACTIONS.items():
        rows.append((name, actor, "post", reverse(name, args=[case[key].reference]), data, key))
    return rows


class _Upload:
    """A CSV file for the test client's multipart POST, readable again for each request."""

    name = "staff.csv"

    def __init__(self, text):
        self.text = text

    def read(self):
        return self.text.encode()


def _other_head(w):
    """The Oakfield head who does not own the parent's-post case (and so sees it as a co-head)."""
    return "hugo" if w.cases["parent"].owner_id == w.helen.pk else "helen"


def _leaver_upload(w):
    """A staff list without the owner of the parent's-post case, ending the roles of those missing."""
    keep = w.hugo if _other_head(w) == "hugo" else w.helen
    return {"school": w.oakfield.pk, "file": _Upload(f"Email\n{keep.email}\n"), "deactivate_missing": "on"}


def _refusals(w):
    """A case route asked for by someone at another school: 404, as for no case at all."""
    parent = w.cases["parent"]
    item = Evidence.objects.filter(incident=parent).first()
    rows = []
    for name, kind in CASE_READS.items():
        if kind in ("case", "file"):
            pk = item.public_id if kind == "file" else parent.reference
            gets = ("incidents:detail", "incidents:report_done", "audit:case_history", "casefile:form")
            method = "get" if name in gets else "post"
            if name.startswith("incidents:evidence_") and name != "incidents:evidence_withdraw":
                method = "get"
            rows.append((name, "olive", method, reverse(name, args=[pk]), {}, "parent"))
    rows.append(("incidents:person", "olive", "get", reverse("incidents:person", args=[w.sam.pk]), None, None))
    return rows


def _ask(client, method, url, data):
    return client.get(url) if method == "get" else client.post(url, data or {})


def _check(w, clients, row):
    """The row's problem, or None: what was recorded for one response."""
    name, actor, method, url, data, key = row
    client = clients.setdefault(actor, client_for(w, actor))
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with transaction.atomic():
        response = _ask(client, method, url, data)
        new = list(AuditEvent.objects.filter(id__gt=last).order_by("id"))
        transaction.set_rollback(True)
    status = response.status_code
    reads = [e for e in new if e.action in READS]
    refused = [e for e in new if e.action == AuditAction.REFUSED]
    label = f"{actor} {method.upper()} {url} ({name}) -> {status}"
    if status in (200, 400):
        if refused:
            return f"{label}: a refusal was recorded for a page that was shown"
        if name.startswith("sar:"):
            people = [e for e in reads if e.object_type == "person"]
            cases = [e for e in reads if e.object_type == "incident"]
            if len(people) != 1 or len(cases) != len(reads) - 1 or not cases:
                return f"{label}: expected one event for the person and one per case, got {_names(reads)}"
            return None
        if len(reads) != 1:
            return f"{label}: expected one read event, got {_names(reads)}"
        if key is not None and reads[0].detail.get("incident") != w.cases[key].pk:
            return f"{label}: the event does not name case {key}: {_names(reads)} {reads[0].detail}"
        return None
    if reads:
        return f"{label}: read events for a response that showed nothing: {_names(reads)}"
    if status in (403, 404) and len(refused) != 1:
        return f"{label}: expected one refusal event, got {_names(refused)}"
    return None


def _names(events):
    return [f"{e.action} {e.object_type} {e.object_id}" for e in events]


@pytest.fixture
def audited_world(world):
    """The world, with a case in triage and one under investigation (for their actions' forms)."""
    world.cases["in_triage"] = advance(report(world.oakfield, world.sam), Status.TRIAGE, world)
    world.cases["investigating"] = advance(report(world.oakfield, world.sam), Status.INVESTIGATING, world)
    assert Incident.objects.get(pk=world.cases["closed_nobreach"].pk).status == Status.CLOSED
    return world


def test_every_route_is_classified():
    """The enumeration covers every route: a new page must say whether it shows a case."""
    names = {name for _, name, ns in _routes() if ns.split(":")[0] != ADMIN_NAMESPACE}
    audited = set(CASE_READS)
    unclassified = names - audited - NO_CASE_CONTENT
    assert not unclassified, f"routes neither audited as case content nor listed as showing none: {unclassified}"
    assert not audited & NO_CASE_CONTENT, f"listed both ways: {audited & NO_CASE_CONTENT}"
    stale = (audited | NO_CASE_CONTENT) - names
    assert not stale, f"listed routes that do not exist: {stale}"


def test_every_case_content_response_writes_one_read_event_naming_its_case(audited_world):
    w = audited_world
    clients, problems, shown = {}, [], set()
    rows = _requests(w)
    for row in rows:
        problem = _check(w, clients, row)
        if problem:
            problems.append(problem)
    assert not problems, "\n".join(problems)
    # Each case-content route was seen showing its page at least once (else the check is blind).
    for row in rows:
        name, actor, method, url, data, _key = row
        with transaction.atomic():
            if _ask(clients[actor], method, url, data).status_code in (200, 400):
                shown.add(name)
            transaction.set_rollback(True)
    assert set(CASE_READS) - REDIRECT_ONLY - shown == set()


def test_every_refusal_writes_one_refusal_and_no_read(audited_world):
    w = audited_world
    clients = {}
    problems = [p for p in (_check(w, clients, row) for row in _refusals(w)) if p]
    assert not problems, "\n".join(problems)


def test_a_page_without_cases_on_it_writes_no_read(audited_world):
    """Home and the clause page show cases only sometimes: Tom, a trust admin, sees none there."""
    w = audited_world
    client = client_for(w, "tom")
    for url in (reverse("home"), reverse("policy:clause", args=[w.clauses[1].pk])):
        last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
        assert client.get(url).status_code == 200
        assert not AuditEvent.objects.filter(id__gt=last, action__in=READS).exists(), url


def _no_content_urls(w):
    ids = _ids(w)
    urls = []
    for pattern, name, namespace in _routes():
        if namespace.split(":")[0] == ADMIN_NAMESPACE or name not in NO_CASE_CONTENT:
            continue
        arguments = re.findall(r"<(?:\w+:)?(\w+)>", pattern)
        if not arguments:
            urls.append(reverse(name))
        elif name == "password_reset_confirm":
            urls.append(reverse(name, kwargs={"uidb64": "MQ", "token": "set-password"}))
        elif name == "sign_in_link":
            urls.append(reverse(name, kwargs={"token": "not-a-link"}))
        elif name.startswith("sso_"):  # single sign-on: no provider in this world
            urls.append(reverse(name, kwargs={a: ("no-such-provider" if a == "slug" else 999999) for a in arguments}))
        elif name.startswith("obligations:"):  # no declaration or question in this world: they hold no case
            urls.append(reverse(name, kwargs={"public_id": "00000000-0000-4000-8000-000000000000"}))
        elif arguments == ["pk", "index"]:
            urls += [reverse(name, args=[pk, 0]) for pk in ids["version"]]
        else:
            (argument,) = arguments
            kind = _kind(name, argument)
            urls += [reverse(name, args=[value]) for value in ([0] if kind == "index" else ids[kind])]
    return urls


@pytest.mark.parametrize("actor", ["helen", "carol", "gary", "sam", "tom", "priya"])
def test_the_routes_said_to_show_no_case_show_none(audited_world, actor):
    w = audited_world
    client = client_for(w, actor)
    references = {key: c.reference for key, c in w.cases.items()}
    leaks = []
    log = reverse("audit:log")
    for url in _no_content_urls(w):
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode(errors="replace")
        if url != log:  # the log names the cases its events are about, and links to none
            leaks += [f"{url}: {key}" for key, ref in references.items() if ref in text]
        leaks += [f"{url}: a link to case {m}" for m in re.findall(rf'href="/incidents/({PATTERN})/', text)]
    assert not leaks, "\n".join(leaks)
