"""The case file: one PDF that a case's owner or the school's data-protection officer downloads for
the LADO, HR or a disciplinary panel (docs/case-file.md), optionally zipped with the evidence files.

- Who: the people who own the case (incidents/access.py OWNED: head, chair as routed, DSL) and the
  DPO of its school (DPO_SCOPE); never its subject, whatever their roles. Anyone else gets a 404.
- What: a list of sections, one function each (SECTIONS). A part of the case work that records
  something new adds its section in one line there.
- Redaction: the same rule as the subject-access export (sar.py: third_parties, Redactor): the
  reporter and other staff are replaced by labels when chosen; people who are not users (pupils,
  parents) only when listed. The subject is never redacted: the file is about them.
- Audit: the download is a read of the case (accounts/audit_reads.py records it) and the service
  adds an internal CASE_FILE entry to the case's timeline, naming what was chosen (no names).
"""

import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from accounts.models import User
from incidents import access
from incidents import evidence as storage
from incidents.deadlines import LONDON
from incidents.models import CaseLink, Evidence, Incident, TimelineEntry, TimelineKind
from policyhub.models import Clause
from policyhub.pdf import FONT, document, section_heading

from .sar import CASE_WORK, Redactor, third_parties

log = logging.getLogger(__name__)
# fpdf2 subsets the font with fontTools, which logs every table it touches at INFO: noise in the logs.
logging.getLogger("fontTools").setLevel(logging.WARNING)

# Who may download it: the case's owners, and the school's data-protection officer.
RELATIONS = (*access.OWNED, *access.DPO_SCOPE)


def scope(user):
    """The cases `user` may make a case file for (the subject of a case never may)."""
    return access.matching(Incident.objects.all(), user, RELATIONS)


class Purpose:
    LADO = "lado"
    HR = "hr"
    PANEL = "panel"
    OTHER = "other"
    CHOICES = [
        (LADO, "The LADO (local authority designated officer)"),
        (HR, "HR"),
        (PANEL, "A disciplinary panel"),
        (OTHER, "Someone else"),
    ]


# The third parties the person may choose to redact (the subject is never one of them).
REDACT_REPORTER = "reporter"
REDACT_STAFF = "staff"
REDACT_CHOICES = [
    (REDACT_REPORTER, "The reporter's name"),
    (REDACT_STAFF, "Other staff and users named or linked to the case (not the subject)"),
]
REPORTER_LABEL = "[the reporter]"


@dataclass(frozen=True)
class Choices:
    purpose: str = Purpose.OTHER
    redact: frozenset[str] = frozenset({REDACT_REPORTER, REDACT_STAFF})
    also_redact: tuple[str, ...] = ()  # pupils, parents: names that are not users
    include_files: bool = False


# --- Loading: a fixed number of queries, whatever the size of the case ---------------------------


def load(incident_id: int) -> Incident:
    """The case with everything the sections read (and sar.third_parties looks through)."""
    return (
        Incident.objects.select_related(
            "school", "reporter", "subject", "owner", "dsl", "acknowledged_by", "policy_version__policy", "merged_into"
        )
        .prefetch_related(
            Prefetch("timeline", queryset=TimelineEntry.objects.select_related("actor")),
            Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by", "withdrawn_by")),
            "referrals__recorded_by",
            "governor_reviews__decided_by",
            Prefetch("clauses", queryset=_clauses()),
            *CASE_WORK,
        )
        .get(pk=incident_id)
    )


def _clauses():
    return Clause.objects.select_related("version__policy", "section").order_by("order", "pk")


# --- Redaction: the subject-access export's rule ----------------------------------------------------


def redactor(incident: Incident, choices: Choices):
    """The subject-access export's Redactor for this case: the subject stands where the export's
    person stands (their own name is never redacted); the chosen third parties and the listed
    names are."""
    subject = incident.subject or User(full_name="", email="")
    parties = third_parties(person=subject, cases=[incident], school_ids=[incident.school_id])
    chosen = []
    for party in parties:
        if party.user.pk == incident.reporter_id:
            if REDACT_REPORTER in choices.redact:
                party.label = REPORTER_LABEL
                chosen.append(party)
        elif REDACT_STAFF in choices.redact:
            # Numbered among those redacted here, so a reader finds no gap where the reporter was.
            party.label = f"[third party {sum(1 for p in chosen if p.label != REPORTER_LABEL) + 1}]"
            chosen.append(party)
    return Redactor(person=subject, redacted=chosen, listed=list(choices.also_redact))


# --- The document ---------------------------------------------------------------------------------


@dataclass
class File:
    """One evidence file as the file lists it, and where it sits in the zip (if it does)."""

    number: int
    item: Evidence
    zip_path: str = ""
    note: str = ""


@dataclass
class CaseFile:
    """What every section reads: the case, the choices, the redaction, and the PDF being written."""

    incident: Incident
    choices: Choices
    redact: Redactor
    pdf: object  # fpdf.FPDF
    made_by: User
    made_at: datetime
    files: list[File] = field(default_factory=list)

    # Text helpers for the sections.
    def text(self, value) -> str:
        return self.redact.text(value)

    def who(self, user) -> str:
        """A person as the file names them: their label if redacted, else their name (no email)."""
        if user is None:
            return "—"
        label = self.redact.labels.get(user.pk)
        if label is not None:
            self.redact.counts[label] += 1
            return label
        return self.text(user.full_name or "a user without a name")

    @staticmethod
    def when(value) -> str:
        """A time in Europe/London, with its zone (GMT or BST), as a panel needs it."""
        if value is None:
            return "—"
        local = value.astimezone(LONDON)
        return f"{local:%d %b %Y, %H:%M} {local.tzname()}"

    # Layout helpers.
    def heading(self, text: str) -> None:
        section_heading(self.pdf, text, size=13, body=10, gap=4)
        self.pdf.ln(1)

    def subheading(self, text: str) -> None:
        self.pdf.set_font(FONT, "B", 10)
        self.pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(FONT, "", 10)

    def para(self, text: str, size: float = 10) -> None:
        self.pdf.set_font(FONT, "", size)
        self.pdf.multi_cell(0, size * 0.5, text or "—", new_x="LMARGIN", new_y="NEXT", align="L")
        self.pdf.set_font(FONT, "", 10)

    def rows(self, pairs: list[tuple[str, str]]) -> None:
        pdf = self.pdf
        for label, value in pairs:
            pdf.set_font(FONT, "B", 10)
            pdf.cell(48, 5.5, label)
            pdf.set_font(FONT, "", 10)
            pdf.multi_cell(0, 5.5, value or "—", new_x="LMARGIN", new_y="NEXT", align="L")


# --- Sections: one function each, in order. Add yours at the end of SECTIONS. ---------------------


def summary(cf: CaseFile) -> None:
    i = cf.incident
    cf.heading("Summary")
    cf.rows(
        [
            ("Reference", i.reference),
            ("School", i.school.name),
            ("Category", i.get_category_display()),
            ("Platform", i.get_platform_display()),
            ("Route", i.get_route_display() if i.route else "Not yet triaged"),
            ("Severity", i.get_severity_display() if i.severity else "Not yet triaged"),
            ("Status", i.get_status_display()),
            ("About", cf.who(i.subject) if i.subject_id else i.get_involved_display()),
            ("Reported by", cf.who(i.reporter)),
            ("Owner", cf.who(i.owner)),
            ("DSL", cf.who(i.dsl) if i.dsl_id else "—"),
            ("Happened", cf.when(i.happened_at)),
            ("Seen", cf.when(i.seen_at)),
            ("Received", cf.when(i.received_at)),
            ("Acknowledged", cf.when(i.acknowledged_at)),
            ("Child at risk", "Yes" if i.child_at_risk else "No"),
            ("Legal hold", "Yes" if i.legal_hold else "No"),
        ]
    )
    cf.subheading("The report")
    cf.para(cf.text(i.description))
    if i.involved_detail:
        cf.subheading("People involved")
        cf.para(cf.text(i.involved_detail))
    if i.links:
        cf.subheading("Links")
        cf.para(cf.text(i.links), size=9)


def timeline(cf: CaseFile) -> None:
    cf.heading("Timeline")
    cf.para("Every entry of the case's history, internal ones included, oldest first. Times are UK time.", size=9)
    for entry in cf.incident.timeline.all():
        what = entry.get_kind_display()
        if entry.to_status:
            change = f"{entry.get_from_status_display()} → " if entry.from_status else ""
            what += f": {change}{entry.get_to_status_display()}"
        cf.subheading(f"{cf.when(entry.at)} · {cf.who(entry.actor) if entry.actor_id else 'PolicyHub'} · {what}")
        if entry.note:
            cf.para(cf.text(entry.note))


def _last(entries, *, kind=None, transition=None):
    found = None
    for entry in entries:
        if (kind and entry.kind == kind) or (transition and entry.data.get("transition") == transition):
            found = entry
    return found


def decisions(cf: CaseFile) -> None:
    i = cf.incident
    entries = list(i.timeline.all())
    cf.heading("Decisions and reasons")
    triaged = _last(entries, kind=TimelineKind.TRIAGED)
    cf.subheading("Triage" + (f" ({cf.who(triaged.actor)}, {cf.when(triaged.at)})" if triaged else ""))
    if not i.severity:
        cf.para("Not yet triaged.")
    else:
        pairs = [("Severity", i.get_severity_display()), ("Route", i.get_route_display() if i.route else "—")]
        if i.harm_reason or i.harm_harmed_child is not None:
            yes_no = {True: "Yes", False: "No", None: "—"}
            pairs += [
                ("Harmed a child", yes_no[i.harm_harmed_child]),
                ("Possible offence", yes_no[i.harm_offence]),
                ("Risk to children", yes_no[i.harm_risk_to_children]),
                ("May be unsuitable", yes_no[i.harm_unsuitable]),
                ("Reasons", cf.text(i.harm_reason)),
            ]
        cf.rows(pairs)
    proposed = _last(entries, transition="propose_outcome")
    cf.subheading("Outcome" + (f" ({cf.who(proposed.actor)}, {cf.when(proposed.at)})" if proposed else ""))
    if not i.outcome:
        cf.para("No outcome yet.")
    else:
        pairs = [("Outcome", i.get_outcome_display())]
        if i.allegation_outcome:
            pairs.append(("Allegation", i.get_allegation_outcome_display()))
        pairs.append(("Reasons", cf.text(i.outcome_reason)))
        if i.review_summary:
            pairs.append(("For governors", cf.text(i.review_summary)))
        cf.rows(pairs)
    referrals = list(i.referrals.all())
    cf.subheading("Referrals")
    if not referrals:
        cf.para("None recorded.")
    for ref in referrals:
        their = f", their reference {cf.text(ref.reference)}" if ref.reference else ""
        line = f"{ref.get_kind_display()} on {ref.made_on:%d %b %Y}{their} (recorded by {cf.who(ref.recorded_by)})"
        cf.para(line + (f": {cf.text(ref.note)}" if ref.note else ""))
    cf.subheading("Governors' review")
    reviews = list(i.governor_reviews.all())
    if not reviews:
        cf.para("No review decision.")
    for review in reviews:
        line = f"{review.get_decision_display()}: {cf.who(review.decided_by)}, {cf.when(review.decided_at)}"
        cf.para(line + (f". {cf.text(review.comment)}" if review.comment else ""))


def clauses(cf: CaseFile) -> None:
    """The clauses cited, with their text as it was in force: the cited rows belong to the policy
    version the case was judged against, and a published version's text never changes (a changed
    policy is a new version), so a later version never rewrites what was cited."""
    i = cf.incident
    cf.heading("Policy clauses cited")
    cited = list(i.clauses.all())
    if not cited:
        cf.para("No clause cited.")
        return
    for clause in cited:
        version = clause.version
        effective = f"in force from {version.effective_date:%d %b %Y}" if version.effective_date else "a draft"
        cf.subheading(f"{clause.ref} ({version.policy.title}, version {version.number}, {effective})")
        cf.para(clause.text)


def evidence(cf: CaseFile) -> None:
    cf.heading("Evidence")
    if not cf.files:
        cf.para("No evidence files.")
        return
    cf.para("SHA-256 is the fingerprint of each file as stored: the same file always gives the same value.", size=9)
    for f in cf.files:
        e = f.item
        cf.subheading(f"File {f.number}: {cf.text(e.original_name)}")
        cf.rows(
            [
                ("Type, size", f"{e.content_type}, {e.size} bytes"),
                ("Uploaded", f"{cf.when(e.uploaded_at)} by {cf.who(e.uploaded_by)}"),
                ("Captured", cf.when(e.captured_at)),
                ("Captured at", cf.text(e.captured_url) or "—"),
                ("Withdrawn", f"{cf.when(e.withdrawn_at)}: {cf.text(e.withdrawn_reason)}" if e.withdrawn_at else "No"),
                ("In the zip", f.zip_path or f.note),
            ]
        )
        cf.pdf.set_font(FONT, "", 8.5)
        cf.pdf.cell(48, 5, "SHA-256")
        cf.pdf.multi_cell(0, 5, e.sha256, new_x="LMARGIN", new_y="NEXT")
        cf.pdf.set_font(FONT, "", 10)


def redactions(cf: CaseFile) -> None:
    """Last, so it counts the replacements every section above made."""
    cf.heading("Redactions")
    labels = sorted(set(cf.redact.mapping.values()))
    if not labels:
        cf.para("Nothing was redacted.")
        return
    cf.para(
        "Names were replaced by these labels, by the choice of the person who made this file. "
        "Evidence files are not redacted: pictures can show other people."
    )
    for label in labels:
        cf.para(f"{label}: {cf.redact.counts[label]} replacement(s)")


def tasks(cf: CaseFile) -> None:
    """The work given out on the case (incidents/assignments.py): who, what, by when, what came of it."""
    rows = sorted(cf.incident.tasks.all(), key=lambda t: (t.created_at, t.pk))  # prefetched by load()
    cf.heading("Tasks")
    if not rows:
        cf.para("No tasks were given on this case.")
        return
    for task in rows:
        cf.subheading(f"{cf.text(task.title)} ({task.get_state_display().lower()})")
        cf.rows(
            [
                ("Given to", cf.who(task.assignee)),
                ("Given by", f"{cf.who(task.assigned_by)}, {cf.when(task.created_at)}"),
                ("Due", cf.when(task.due_at)),
                ("Instructions", cf.text(task.instructions)),
                ("Closed", f"{cf.when(task.closed_at)} by {cf.who(task.closed_by)}" if task.closed_at else "Open"),
                ("Outcome", cf.text(task.outcome)),
            ]
        )


def messages(cf: CaseFile) -> None:
    """The reporter's channel (incidents/reporter_channel.py): every message, oldest first."""
    rows = list(cf.incident.messages.all())  # prefetched by load(), oldest first
    cf.heading("Messages with the reporter")
    if not rows:
        cf.para("No messages.")
        return
    for message in rows:
        cf.subheading(f"{cf.when(message.sent_at)} · {cf.who(message.author)} · {message.get_kind_display()}")
        cf.para(cf.text(message.body))


def takedowns(cf: CaseFile) -> None:
    """Requests to platforms and their escalations (incidents/takedowns.py)."""
    rows = list(cf.incident.takedowns.all())  # prefetched by load(), with their steps
    cf.heading("Take-down requests")
    if not rows:
        cf.para("No take-down requests.")
        return
    for request in rows:
        cf.subheading(f"{request.get_platform_display()}, requested {request.requested_on:%d %b %Y}")
        outcome = request.get_status_display()
        if request.outcome_on:
            outcome += f" on {request.outcome_on:%d %b %Y}"
        cf.rows(
            [
                ("Address", cf.text(request.url)),
                ("Their reference", cf.text(request.platform_reference)),
                ("Recorded by", cf.who(request.requested_by)),
                ("Outcome", outcome + (f": {cf.text(request.outcome_note)}" if request.outcome_note else "")),
            ]
        )
        for step in request.steps.all():
            their = f", reference {cf.text(step.reference)}" if step.reference else ""
            line = f"Escalated to {step.get_route_display()} on {step.taken_on:%d %b %Y}{their}"
            cf.para(line + (f": {cf.text(step.note)}" if step.note else ""))


def related_reports(cf: CaseFile) -> None:
    """Reports merged into this case, each with its own reporter and text, and the case it was
    merged into if it was (incidents/merging.py). Linked cases are named by reference only."""
    i = cf.incident
    merged = list(i.merged_reports.select_related("reporter").order_by("merged_at", "pk"))
    cf.heading("Related and merged reports")
    if i.merged_into_id:
        cf.para(f"This report was merged into case {i.merged_into.reference} on {cf.when(i.merged_at)}.")
    links = CaseLink.objects.filter(Q(first=i) | Q(second=i)).select_related("first", "second")
    others = sorted(link.second.reference if link.first_id == i.pk else link.first.reference for link in links)
    if others:
        cf.para("Linked as related: " + ", ".join(others))
    if not merged and not others and not i.merged_into_id:
        cf.para("None.")
    for report in merged:
        cf.subheading(f"Merged report {report.reference} ({cf.when(report.merged_at)})")
        cf.rows([("Reported by", cf.who(report.reporter)), ("Received", cf.when(report.received_at))])
        cf.para(cf.text(report.description))


SECTIONS: list[Callable[[CaseFile], None]] = [
    summary,
    timeline,
    decisions,
    clauses,
    evidence,
    tasks,
    messages,
    takedowns,
    related_reports,
]
# Always the last section.
CLOSING = redactions


# --- Building -------------------------------------------------------------------------------------


def _pdf(incident: Incident, made_by, made_at: datetime, purpose: str):
    pdf = document(
        f"Case file {incident.reference}", footer=f"Case file {incident.reference} · confidential", made_at=made_at
    )
    purpose_label = dict(Purpose.CHOICES).get(purpose, "")
    pdf.multi_cell(
        0,
        4.5,
        f"Prepared for: {purpose_label}, on {CaseFile.when(made_at)}, from PolicyHub. Confidential: "
        "it concerns an allegation or concern about an adult and may name children. Keep it secure and "
        "share it only with those who need it.",
        new_x="LMARGIN",
        new_y="NEXT",
        align="L",
    )
    return pdf


def _files(incident: Incident, include: bool) -> list[File]:
    listed = []
    for n, item in enumerate(incident.evidence.all(), start=1):
        f = File(n, item)
        if not include:
            f.note = "Not included"
        elif item.withdrawn_at is not None:
            f.note = "Not included: withdrawn"
        elif not storage.path_of(item.stored_name).is_file():
            f.note = "Not included: the file could not be read"
        else:
            f.zip_path = f"evidence/file-{n}.{item.stored_name.rsplit('.', 1)[-1]}"
        listed.append(f)
    return listed


@dataclass
class Built:
    content: bytes
    filename: str
    content_type: str
    redacted: int
    files: int


def build(incident: Incident, choices: Choices, *, made_by, now: datetime | None = None) -> Built:
    """The PDF (or the zip of the PDF and the files) for a loaded case (`load`). Writes nothing."""
    now = now or timezone.now()
    r = redactor(incident, choices)
    pdf = _pdf(incident, made_by, now, choices.purpose)
    files = _files(incident, choices.include_files)
    cf = CaseFile(incident=incident, choices=choices, redact=r, pdf=pdf, made_by=made_by, made_at=now, files=files)
    for section in [*SECTIONS, CLOSING]:
        section(cf)
    content = bytes(pdf.output())
    stem = f"case-file-{incident.reference}-{now.astimezone(LONDON):%Y-%m-%d}"
    redacted = len(set(r.mapping.values()))
    included = [f for f in files if f.zip_path]
    if not choices.include_files:
        return Built(content, f"{stem}.pdf", "application/pdf", redacted, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{stem}.pdf", content)
        for f in included:
            zf.write(storage.path_of(f.item.stored_name), f.zip_path)
    return Built(out.getvalue(), f"{stem}.zip", "application/zip", redacted, len(included))


def case_file_download(*, incident: Incident, actor, choices: Choices, now: datetime | None = None) -> Built:
    """Make the case file for `actor` and record it on the case (internal timeline entry, what was
    chosen, never a name). The caller has fetched the case through `scope(actor)`; checked again
    here, so no other path can make one."""
    now = now or timezone.now()
    with transaction.atomic():
        if not scope(actor).filter(pk=incident.pk).exists():
            raise Incident.DoesNotExist
        loaded = load(incident.pk)
        built = build(loaded, choices, made_by=actor, now=now)
        TimelineEntry.objects.create(
            incident=loaded,
            actor=actor,
            kind=TimelineKind.CASE_FILE,
            note=f"Case file downloaded for {dict(Purpose.CHOICES).get(choices.purpose, '')}.",
            internal=True,
            data={
                "purpose": choices.purpose,
                "redacted": sorted(choices.redact),
                "names_listed": len(choices.also_redact),
                "labels": built.redacted,
                "files": built.files,
                "format": "zip" if choices.include_files else "pdf",
            },
        )
    log.info("Case file for %s made by user %s (%s)", incident.reference, actor.pk, built.content_type)
    return built
