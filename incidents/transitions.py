"""Every allowed change to a case, in one table (STYLE.md).

The same table drives the buttons a user sees (`available`) and the server's enforcement
(`check`, called by every service in incidents/services.py), so a button can never offer what the
server refuses, nor the server allow what no button offers.

Roles here are a person's relation to one case; incidents/access.py works them out, one row per
relation, and says who sees which case in the same file (the rows' filters):
- OWNER: the school's head teacher; the chair of governors when the case is about a head (or once
  a missed deadline escalated the case to the chair);
- DSL: a DSL of the school on a safeguarding, Prevent or illegal-content case, or a child at risk;
- GOVERNOR: a governor or the chair of the school while the case is in review or closed after an
  upheld review; a trust admin of the school while the trust decides the review because no
  governor without a conflict remains;
- DECIDER (added here): one of those who may decide the review now (`review_panel`): never anyone
  who owns or owned the case, proposed its outcome, reported it, is its subject or declared a
  conflict;
- REPORTER: the person who made the report.
The subject of a case has no relation to it at all, whatever roles they hold. On a case about a
head, the heads and DSLs of the school have none either, but as its reporter, whatever other
roles they hold (access.py).
"""

from collections.abc import Callable
from dataclasses import dataclass

from accounts.models import Membership, Role

from . import access, reporter_channel_rules
from . import allegation_clocks as allegation
from .access import OWNERS, CaseRole  # noqa: F401 (imported from here by views and other apps)
from .errors import NotAllowed, RequirementMissing, WrongState
from .models import (
    NON_BREACH_OUTCOMES,
    OPEN_STATUSES,
    Incident,
    Outcome,
    ReferralKind,
    Route,
    Status,
    TakedownStatus,
    TimelineEntry,
    TimelineKind,
)

# --- Requirements: each returns a message when unmet, or None ------------------------------------


def _triaged(incident: Incident) -> str | None:
    if not incident.severity or not incident.route:
        return "Record the triage first: severity and route."
    return None


def _lado_referred(incident: Incident, referrals: list | None = None) -> str | None:
    if incident.route != Route.ALLEGATION:
        return None
    if referrals is None:
        referred = incident.referrals.filter(kind=ReferralKind.LADO).exists()
    else:
        referred = any(r.kind == ReferralKind.LADO for r in referrals)
    if not referred:
        return "This case meets the harm threshold: record the LADO referral first."
    return None


def _outcome_is_not_breach(incident: Incident) -> str | None:
    if incident.outcome not in NON_BREACH_OUTCOMES:
        return "A breach outcome goes to the governors' review; it cannot be closed directly."
    return None


def _outcome_is_breach(incident: Incident) -> str | None:
    if not incident.outcome or incident.outcome in NON_BREACH_OUTCOMES:
        return "Only a breach outcome goes to the governors; this one can be closed."
    return None


# The take-down requirements read the case's requests from the database, or from `requests`, the
# list the case page has fetched already (`known_answers`): one rule, two sources.
def _removal_recorded(incident: Incident, requests: list | None = None) -> str | None:
    if incident.outcome != Outcome.CONTENT_REMOVED:
        return None
    if requests is None:
        removed = incident.takedowns.filter(status=TakedownStatus.REMOVED).exists()
    else:
        removed = any(r.status == TakedownStatus.REMOVED for r in requests)
    if not removed:
        return "The outcome says the content was removed: record the platform's removal under Take-downs first."
    return None


def _takedown_waiting(incident: Incident, requests: list | None = None) -> str | None:
    if requests is None:
        waiting = incident.takedowns.exclude(status=TakedownStatus.REMOVED).exists()
    else:
        waiting = any(r.status != TakedownStatus.REMOVED for r in requests)
    if not waiting:
        return "No take-down request is waiting for the platform: record a request first."
    return None


def known_answers(incident: Incident, *, takedowns: list | None = None, referrals: list | None = None) -> dict:
    """Requirements answered from lists the case page has fetched already (all of the case's
    take-down requests, takedowns.for_case; all of its referrals), to seed `unmet`'s `known`:
    no query, however many actions ask."""
    known = {}
    if takedowns is not None:
        known[_takedown_waiting] = _takedown_waiting(incident, takedowns)
        known[_removal_recorded] = _removal_recorded(incident, takedowns)
    if referrals is not None:
        known[_lado_referred] = _lado_referred(incident, referrals)
    return known


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    # None: the action records something without moving the case (triage, notes, referrals).
    target: str | None
    roles: frozenset[CaseRole]
    requires: tuple[Callable[[Incident], str | None], ...] = ()
    # What the person must give with it (checked by the form and again by the service).
    needs: str = ""
    button: str = "btn-primary"
    # How the action is reached. `path`: its address under the case, /incidents/<reference>/<path>/,
    # served by the one case-action view (views.case_action), which takes `form` and calls `service`
    # (dotted names, imported when first used: services import this module) with
    # `incident=`, `actor=` and the form's cleaned data, then says `success`. A row without `path` is
    # served elsewhere, at the URL named by `url` (evidence files by their random id, the access
    # history under /audit/, retention under /retention/); its roles are still checked from here.
    path: str | None = None
    form: str = ""
    service: str = ""
    success: str = ""
    url: str = ""
    # Reading, not changing: a GET that shows something (it records nothing on the case).
    read: bool = False

    @property
    def url_name(self) -> str:
        return self.url or f"incidents:{self.name}"


ANY = frozenset(Status.values)
OPEN = frozenset(OPEN_STATUSES)

F = "incidents.forms."
S = "incidents.services."
# Take-downs ([8] item 4): forms and services of their own (incidents/takedown_forms.py, takedowns.py).
TF = "incidents.takedown_forms."
TS = "incidents.takedowns."
# Who records take-downs: the case's owners, and whoever holds an open task on the case (the owner
# delegates a take-down by giving a task: "ask the platform to remove the post"). One set, read by
# the rows below and takedowns.can_record_takedown.
TAKEDOWN_ROLES = OWNERS | {CaseRole.ASSIGNEE}

TABLE: tuple[Transition, ...] = (
    Transition(
        "acknowledge",
        "Acknowledge",
        frozenset({Status.SUBMITTED}),
        Status.TRIAGE,
        OWNERS,
        needs="nothing more",
        path="acknowledge",
        service=S + "incident_acknowledge",
        success="Acknowledged. The reporter has been told the concern is received.",
    ),
    Transition(
        "triage",
        "Record triage",
        frozenset({Status.TRIAGE, Status.INVESTIGATING}),
        None,
        OWNERS,
        needs="severity, clauses, harm-threshold answers and a route",
        path="triage",
        form=F + "TriageForm",
        service=S + "incident_triage",
        success="Triage recorded.",
    ),
    Transition(
        "start_investigation",
        "Start investigation",
        frozenset({Status.TRIAGE}),
        Status.INVESTIGATING,
        OWNERS,
        requires=(_triaged,),
        path="start-investigation",
        service=S + "incident_start_investigation",
        success="Investigation started.",
    ),
    Transition(
        "propose_outcome",
        "Propose outcome",
        frozenset({Status.INVESTIGATING}),
        Status.OUTCOME_PROPOSED,
        OWNERS,
        requires=(_triaged, _lado_referred),
        needs="an outcome and the reasons",
        path="propose-outcome",
        form=F + "OutcomeForm",
        service=S + "incident_propose_outcome",
        success="Outcome recorded.",
    ),
    Transition(
        "close",
        "Close (no breach)",
        frozenset({Status.OUTCOME_PROPOSED}),
        Status.CLOSED,
        frozenset({CaseRole.OWNER}),
        requires=(_outcome_is_not_breach, _removal_recorded),
        path="close",
        form=F + "CloseForm",
        service=S + "incident_close",
        success="Case closed.",
    ),
    Transition(
        "refer_to_governors",
        "Refer to governors",
        frozenset({Status.OUTCOME_PROPOSED}),
        Status.GOVERNOR_REVIEW,
        frozenset({CaseRole.OWNER}),
        requires=(_outcome_is_breach,),
        needs="a summary for the governors",
        path="refer-to-governors",
        form=F + "ReferToGovernorsForm",
        service=S + "incident_refer_to_governors",
        success="Referred to the governors for review.",
    ),
    # The governors' one form decides both ways: its "decision" field picks this row or the next,
    # and the service checks the row it picked (the success message names the decision).
    Transition(
        "uphold",
        "Uphold the outcome",
        frozenset({Status.GOVERNOR_REVIEW}),
        Status.CLOSED,
        frozenset({CaseRole.DECIDER}),
        path="decide",
        url="incidents:decide",
        form=F + "DecisionForm",
        service=S + "incident_governor_decide",
        success="Decision recorded.",
    ),
    Transition(
        "refer_back",
        "Refer back",
        frozenset({Status.GOVERNOR_REVIEW}),
        Status.INVESTIGATING,
        frozenset({CaseRole.DECIDER}),
        needs="a comment",
        button="btn-outline-secondary",
        url="incidents:decide",
    ),
    # A governor (or the trust admin deciding instead) steps out of this review; recorded, audited.
    Transition(
        "declare_conflict",
        "Declare a conflict of interest",
        frozenset({Status.GOVERNOR_REVIEW}),
        None,
        frozenset({CaseRole.GOVERNOR}),
        needs="the reason",
        button="btn-outline-danger",
        path="conflict",
        form=F + "ConflictForm",
        service=S + "incident_declare_conflict",
        success="Your conflict of interest is recorded. You will not decide this review.",
    ),
    Transition(
        "reopen",
        "Reopen",
        frozenset({Status.CLOSED}),
        Status.INVESTIGATING,
        frozenset({CaseRole.OWNER}),
        needs="a reason",
        button="btn-outline-secondary",
        path="reopen",
        form=F + "ReopenForm",
        service=S + "incident_reopen",
        success="Case reopened.",
    ),
    # Actions that record something without moving the case.
    Transition(
        "add_note",
        "Add note",
        ANY,
        None,
        OWNERS,
        needs="the note",
        path="notes",
        form=F + "NoteForm",
        service=S + "incident_add_note",
        success="Note added.",
    ),
    Transition(
        "record_referral",
        "Record referral",
        OPEN,
        None,
        OWNERS,
        needs="who, when and their reference",
        path="referrals",
        form=F + "ReferralForm",
        service=S + "referral_record",
        success="Referral recorded.",
    ),
    Transition(
        "add_evidence",
        "Add evidence",
        OPEN,
        None,
        OWNERS | {CaseRole.REPORTER},
        path="evidence",
        form=F + "EvidenceForm",
        service=S + "evidence_add",
        success="Evidence added.",
    ),
    # Evidence files are addressed by their random id (views.evidence_*), not under the case.
    Transition(
        "withdraw_evidence",
        "Withdraw evidence",
        ANY,
        None,
        OWNERS,
        needs="a reason",
        url="incidents:evidence_withdraw",
        form=F + "WithdrawForm",
        service=S + "evidence_withdraw",
        success="The file is marked withdrawn. It is kept, with your reason, on the case.",
    ),
    # Reading: who opens the evidence files (governors see the review, not the evidence). A reporter
    # opens only the files they uploaded themselves (views._evidence_or_404).
    Transition(
        "view_evidence",
        "View evidence",
        ANY,
        None,
        OWNERS | {CaseRole.REPORTER, CaseRole.ASSIGNEE},
        url="incidents:evidence_download",
        read=True,
    ),
    # Who opened the case and its files, and who was refused (history_views.py, under /audit/).
    Transition("access_history", "Access history", ANY, None, OWNERS, url="audit:case_history", read=True),
    # The case file for the LADO, HR or a panel (dataprotection/casefile.py, above incidents: the table
    # names its URLs). Its owners; the school's data-protection officer too, by casefile's own rule
    # (as with a legal hold: the DPO has no relation to the case's content).
    Transition("case_file", "Case file", ANY, None, OWNERS, url="casefile:form", read=True),
    Transition("case_file_download", "Download the case file", ANY, None, OWNERS, url="casefile:download", read=True),
    # Retention (the dataprotection app, which sits above incidents: the table names its URLs, not
    # its code). The subject's pension age is the owner's to record (retention.py checks this row);
    # a legal hold is placed by the case's head teacher here, or by the school's data-protection
    # officer, who has no relation to the case's content (retention.may_hold).
    Transition("set_pension_age", "Record the subject's pension age", ANY, None, OWNERS, url="retention:pension_age"),
    Transition(
        "place_legal_hold",
        "Place a legal hold",
        ANY,
        None,
        frozenset({CaseRole.OWNER}),
        needs="a reason",
        url="retention:hold",
    ),
    Transition(
        "release_legal_hold",
        "Release the legal hold",
        ANY,
        None,
        frozenset({CaseRole.OWNER}),
        needs="a reason",
        url="retention:release",
    ),
    # Tasks ([8], incidents/assignments.py): the owner gives a task to a member of the school, who
    # sees the case while it is open (access.py, `assignee`). The assignee completes their own
    # (the service checks whose task it is); the owner may complete or cancel any.
    Transition(
        "assign_task",
        "Give a task",
        OPEN,
        None,
        OWNERS,
        needs="who, what and by when",
        path="tasks",
        form=F + "AssignTaskForm",
        service="incidents.assignments.task_assign",
        success="Task given. They have been sent an email with a link.",
    ),
    Transition(
        "complete_task",
        "Mark the task done",
        ANY,
        None,
        OWNERS | {CaseRole.ASSIGNEE},
        needs="what was done",
        path="tasks/done",
        form=F + "CompleteTaskForm",
        service="incidents.assignments.task_complete",
        success="Task marked done.",
    ),
    Transition(
        "cancel_task",
        "Cancel the task",
        ANY,
        None,
        OWNERS,
        needs="a reason",
        button="btn-outline-danger",
        path="tasks/cancel",
        form=F + "CancelTaskForm",
        service="incidents.assignments.task_cancel",
        success="Task cancelled.",
    ),
    # Linked and merged reports (incidents/merging.py, docs/linked-reports.md). The other case is
    # typed by reference; the service checks that the person owns it too.
    Transition(
        "link",
        "Link a related case",
        ANY - {Status.MERGED},
        None,
        OWNERS,
        needs="the other case's reference",
        button="btn-outline-secondary",
        path="link",
        form="incidents.merging.LinkForm",
        service="incidents.merging.incident_link",
        success="The cases are linked as related.",
    ),
    Transition(
        "unlink",
        "Unlink a case",
        ANY,
        None,
        OWNERS,
        needs="the linked case's reference",
        button="btn-outline-secondary",
        path="unlink",
        form="incidents.merging.UnlinkForm",
        service="incidents.merging.incident_unlink",
        success="The cases are no longer linked.",
    ),
    # The report merged goes to MERGED, keeping its reporter, text and files inside the survivor;
    # only "split" undoes it.
    Transition(
        "merge",
        "Merge this report into another case",
        frozenset({Status.SUBMITTED, Status.TRIAGE, Status.INVESTIGATING}),
        Status.MERGED,
        OWNERS,
        needs="the surviving case's reference",
        button="btn-outline-danger",
        path="merge",
        form="incidents.merging.MergeForm",
        service="incidents.merging.incident_merge",
        success="The report is merged. Its reporter has been told, without any details.",
    ),
    # Target None: the service takes the report back to where it was (merging.incident_split).
    Transition(
        "split",
        "Split this report out",
        frozenset({Status.MERGED}),
        None,
        OWNERS,
        button="btn-outline-secondary",
        path="split",
        service="incidents.merging.incident_split",
        success="The report is split out and handled on its own again.",
    ),
    # The reporter's channel (incidents/reporter_channel.py): messages between the reporter and the
    # owners; the owners may always write, the reporter until REPORTER_WINDOW_DAYS after closing.
    Transition(
        "message_reporter",
        "Message the reporter",
        ANY,
        None,
        OWNERS,
        requires=(reporter_channel_rules.reporter_reachable,),
        needs="the message",
        button="btn-outline-primary",
        path="messages/to-reporter",
        form="incidents.reporter_channel_forms.MessageForm",
        service="incidents.reporter_channel.message_reporter",
        success="Message sent. The reporter is emailed a link to read it.",
    ),
    Transition(
        "message_owner",
        "Send a message about your report",
        ANY,
        None,
        frozenset({CaseRole.REPORTER}),
        requires=(reporter_channel_rules.reporter_window_open,),
        needs="the message",
        button="btn-outline-primary",
        path="messages/to-owner",
        form="incidents.reporter_channel_forms.MessageForm",
        service="incidents.reporter_channel.message_owner",
        success="Message sent. The people handling your report are emailed to read it.",
    ),
    Transition(
        "what_we_did",
        "Tell the reporter what we did",
        frozenset({Status.CLOSED}),
        None,
        frozenset({CaseRole.OWNER}),
        requires=(reporter_channel_rules.reporter_reachable, reporter_channel_rules.what_we_did_not_sent),
        needs="a short account for the reporter",
        path="messages/what-we-did",
        form="incidents.reporter_channel_forms.WhatWeDidForm",
        service="incidents.reporter_channel.what_we_did",
        success="Sent. The reporter is emailed a link to read what was done.",
    ),
    # Platform take-downs (incidents/takedowns.py): a request, then what the platform did, and the
    # escalations when it did nothing. They record; the case stays where it is.
    Transition(
        "request_takedown",
        "Record a take-down request",
        OPEN,
        None,
        TAKEDOWN_ROLES,
        needs="the platform, the address, the date and the platform's reference",
        path="takedowns",
        form=TF + "TakedownRequestForm",
        service=TS + "takedown_request",
        success="Take-down request recorded. You will be prompted if the platform has not acted in time.",
    ),
    Transition(
        "record_removal",
        "Record the removal",
        OPEN,
        None,
        TAKEDOWN_ROLES,
        requires=(_takedown_waiting,),
        needs="which request and the date the content was removed",
        path="takedowns/removed",
        form=TF + "TakedownRemovalForm",
        service=TS + "takedown_record_removal",
        success="Removal recorded.",
    ),
    Transition(
        "record_platform_refusal",
        "Record the platform's refusal",
        OPEN,
        None,
        TAKEDOWN_ROLES,
        requires=(_takedown_waiting,),
        needs="which request and the date the platform refused",
        button="btn-outline-secondary",
        path="takedowns/refused",
        form=TF + "TakedownRefusalForm",
        service=TS + "takedown_record_refusal",
        success="The platform's refusal is recorded. Consider escalating it (POSH, Report Harmful Content).",
    ),
    Transition(
        "record_escalation_step",
        "Record an escalation",
        OPEN,
        None,
        TAKEDOWN_ROLES,
        requires=(_takedown_waiting,),
        needs="which request, the route and its date",
        button="btn-outline-secondary",
        path="takedowns/escalations",
        form=TF + "TakedownStepForm",
        service=TS + "takedown_record_step",
        success="Escalation recorded.",
    ),
    # Allegation clocks (KCSIE part four; incidents/allegations.py, docs/allegation-clocks.md): the
    # case manager's records that start and stop them. Shown only on the allegation route.
    Transition(
        "decide_to_investigate",
        "Record the decision to investigate",
        OPEN,
        None,
        OWNERS,
        requires=(allegation.on_allegation_route, allegation.no_investigation_running),
        needs="the date of the decision",
        path="allegation/investigate",
        form="incidents.allegation_forms.DecideToInvestigateForm",
        service="incidents.allegations.allegation_decide_to_investigate",
        success="Decision to investigate recorded: the investigation report is due in 10 working days.",
    ),
    Transition(
        "record_investigation_report",
        "Record the investigation report",
        OPEN,
        None,
        OWNERS,
        requires=(allegation.on_allegation_route, allegation.investigation_running),
        needs="the date the report was received",
        path="allegation/report",
        form="incidents.allegation_forms.InvestigationReportForm",
        service="incidents.allegations.allegation_report_received",
        success="Investigation report recorded: the decision on formal action is due in 3 working days.",
    ),
    Transition(
        "record_formal_action",
        "Record the decision on formal action",
        OPEN,
        None,
        OWNERS,
        requires=(allegation.on_allegation_route, allegation.report_awaiting_decision),
        needs="whether a disciplinary hearing is needed, and the date",
        path="allegation/formal-action",
        form="incidents.allegation_forms.FormalActionForm",
        service="incidents.allegations.allegation_formal_action",
        success="Decision on formal action recorded.",
    ),
    Transition(
        "record_hearing_held",
        "Record the disciplinary hearing",
        OPEN,
        None,
        OWNERS,
        requires=(allegation.on_allegation_route, allegation.hearing_awaited),
        needs="the date of the hearing",
        path="allegation/hearing",
        form="incidents.allegation_forms.HearingHeldForm",
        service="incidents.allegations.allegation_hearing_held",
        success="Disciplinary hearing recorded.",
    ),
)
TRANSITIONS: dict[str, Transition] = {t.name: t for t in TABLE}


def case_roles(user, incident: Incident, school_roles: frozenset[str] | None = None) -> frozenset[CaseRole]:
    """The person's relation(s) to this case: the roles incidents/access.py gives, and DECIDER for
    one of those who may decide its review now. `school_roles` (their roles at the case's school)
    saves a query when the caller has them already."""
    roles = set(access.relation_roles(user, incident, school_roles))
    # While the governors' relation holds (in review, or closed after an upheld review, so a late
    # decision after an uphold hears "wrong state", not 403).
    if CaseRole.GOVERNOR in roles and any(p.pk == user.pk for p in review_panel(incident).deciders):
        roles.add(CaseRole.DECIDER)
    return frozenset(roles)


def page_roles(
    user, incident: Incident, school_roles: frozenset[str]
) -> tuple[frozenset[CaseRole], "ReviewPanel | None"]:
    """`case_roles` for showing the case page, with the review panel of a review in progress (the
    page's "who may decide" box reads it too: worked out once). Every row DECIDER may use acts in
    review only (tests/incidents/test_action_table.py), so in any other state DECIDER changes nothing
    on the page and the panel (three queries) is not worked out."""
    roles = set(access.relation_roles(user, incident, school_roles))
    panel = review_panel(incident) if incident.status == Status.GOVERNOR_REVIEW else None
    if panel is not None and CaseRole.GOVERNOR in roles and any(p.pk == user.pk for p in panel.deciders):
        roles.add(CaseRole.DECIDER)
    return frozenset(roles), panel


# --- Who decides the governors' review (separation of duties) ------------------------------------

# Owner actions on the timeline: whoever took one acted as the case's owner.
OWNER_ACTIONS = frozenset(t.name for t in TABLE if t.roles <= OWNERS and not t.read)
OWNER_ENTRY_KINDS = frozenset({TimelineKind.TRIAGED, TimelineKind.REFERRAL, TimelineKind.EVIDENCE_WITHDRAWN})


@dataclass(frozen=True)
class ReviewPanel:
    """Who may decide a case's review: the governors without a conflict, or, when none remains,
    the trust admins of the school (`by_trust`). `excluded` says why each other person may not."""

    deciders: tuple
    by_trust: bool
    excluded: dict


CONFLICT_DECLARED = "you declared a conflict of interest"


def review_exclusions(incident: Incident) -> dict[int, str]:
    """User id -> why they may not decide this case's review. The reasons are for the person
    themselves (the page shows you yours), never shown about others: they would name the reporter."""
    out: dict[int, str] = {}

    def bar(pk, why):
        if pk and pk not in out:
            out[pk] = why

    bar(incident.subject_id, "the case is about you")
    bar(incident.reporter_id, "you reported it")
    bar(incident.owner_id, "you own the case")
    about_head = incident.is_about_a_head()
    for user_id, role in Membership.objects.filter(school_id=incident.school_id).values_list("user_id", "role"):
        # Whoever holds the owner's or DSL's relation now owns the case; on a case about a head,
        # every head and DSL of the school is out of it altogether.
        if role == Role.HEAD or (role == Role.DSL and (about_head or incident.needs_dsl)):
            bar(user_id, "you own the case" if not about_head else "the case is about a head of your school")
        elif role == Role.CHAIR and (about_head or incident.escalated_at is not None):
            bar(user_id, "you own the case")
    proposers, conflicted, acted, tasked = [], [], [incident.acknowledged_by_id], []
    entries = TimelineEntry.objects.filter(incident=incident, actor__isnull=False).values_list(
        "actor_id", "kind", "data"
    )
    for actor_id, kind, data in entries.order_by("pk"):
        transition = (data or {}).get("transition")
        if kind == TimelineKind.CONFLICT:
            conflicted.append(actor_id)
        elif kind == TimelineKind.TRANSITION and transition == "propose_outcome":
            proposers.append(actor_id)
        elif (kind == TimelineKind.TRANSITION and transition in OWNER_ACTIONS) or kind in OWNER_ENTRY_KINDS:
            acted.append(actor_id)
        # Whoever was given a task on the case worked on it ([8], incidents/assignments.py).
        if kind == TimelineKind.TASK and (data or {}).get("event") == "assigned":
            tasked.append(data.get("assignee"))
    for why, people in (
        ("you proposed the outcome", proposers),
        (CONFLICT_DECLARED, conflicted),
        ("you acted as the case's owner", acted),
        ("you were given a task on the case", tasked),
    ):
        for pk in people:
            bar(pk, why)
    return out


def review_panel(incident: Incident) -> ReviewPanel:
    """Separation of duties: nobody who owned the case, proposed the outcome, reported it, is its
    subject or declared a conflict decides its review. If no governor is left, the trust decides."""
    from accounts.models import User

    excluded = review_exclusions(incident)

    def people(*roles):
        found = User.objects.filter(
            is_active=True, memberships__school_id=incident.school_id, memberships__role__in=roles
        ).distinct()
        return tuple(p for p in found.order_by("full_name", "pk") if p.pk not in excluded)

    governors = people(Role.GOVERNOR, Role.CHAIR)
    if governors:
        return ReviewPanel(deciders=governors, by_trust=False, excluded=excluded)
    return ReviewPanel(deciders=people(Role.TRUST_ADMIN), by_trust=True, excluded=excluded)


def allowed(roles: frozenset[CaseRole], incident: Incident, name: str) -> bool:
    """Role and state allow it (requirements may still be unmet: the page says which)."""
    t = TRANSITIONS[name]
    return bool(roles & t.roles) and incident.status in t.sources


def available(roles: frozenset[CaseRole], incident: Incident) -> dict[str, Transition]:
    """What this person may do to the case now: the buttons and forms the page shows."""
    return {t.name: t for t in TABLE if allowed(roles, incident, t.name)}


def unmet(incident: Incident, name: str, known: dict | None = None) -> list[str]:
    """The row's requirements not met. `known` (check -> its answer) is a page's memo: each check
    runs once however many of the page's actions share it (three take-down rows ask the same
    question), and the page may seed it with answers from what it fetched (`known_answers`).
    Services pass none: they check afresh inside their transaction."""
    problems = []
    for check in TRANSITIONS[name].requires:
        if known is None:
            problem = check(incident)
        else:
            if check not in known:
                known[check] = check(incident)
            problem = known[check]
        if problem:
            problems.append(problem)
    return problems


def check(user, incident: Incident, name: str) -> Transition:
    """Enforce the table for one change: role first (403), then state, then requirements."""
    t = TRANSITIONS[name]
    if not case_roles(user, incident) & t.roles:
        raise NotAllowed(f"You cannot {t.label.lower()} on this case.")
    if incident.status not in t.sources:
        raise WrongState(
            f"{incident.reference} is now “{incident.get_status_display()}”, so it cannot be changed with "
            f"“{t.label}”. Nothing was changed."
        )
    problems = unmet(incident, name)
    if problems:
        raise RequirementMissing(" ".join(problems))
    return t
