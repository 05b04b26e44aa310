"""Every allowed change to a case, in one table (STYLE.md).

The same table drives the buttons a user sees (`available`) and the server's enforcement
(`check`, called by every service in incidents/services.py), so a button can never offer what the
server refuses, nor the server allow what no button offers.

Roles here are a person's relation to one case, worked out from their school roles:
- OWNER: the school's head teacher; the chair of governors when the subject is a head (or once a
  missed deadline escalated the case to the chair);
- DSL: a DSL of the school on a safeguarding, Prevent or illegal-content case, or a child at risk;
- GOVERNOR: a governor or the chair of the school;
- REPORTER: the person who made the report.
The subject of a case has no relation to it at all, whatever roles they hold.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from accounts.models import Membership, Role

from .errors import ActionRefused, NotAllowed, RequirementMissing, Stale, WrongState  # noqa: F401 (views import them from here too)
from .models import NON_BREACH_OUTCOMES, OPEN_STATUSES, Incident, ReferralKind, Route, Status


class CaseRole(StrEnum):
    OWNER = "owner"
    DSL = "dsl"
    GOVERNOR = "governor"
    REPORTER = "reporter"


OWNERS = frozenset({CaseRole.OWNER, CaseRole.DSL})


# --- Requirements: each returns a message when unmet, or None ------------------------------------


def _triaged(incident: Incident) -> str | None:
    if not incident.severity or not incident.route:
        return "Record the triage first: severity and route."
    return None


def _lado_referred(incident: Incident) -> str | None:
    if incident.route == Route.ALLEGATION and not incident.referrals.filter(kind=ReferralKind.LADO).exists():
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


ANY = frozenset(Status.values)
OPEN = frozenset(OPEN_STATUSES)

TABLE: tuple[Transition, ...] = (
    Transition(
        "acknowledge", "Acknowledge", frozenset({Status.SUBMITTED}), Status.TRIAGE, OWNERS, needs="nothing more"
    ),
    Transition(
        "triage",
        "Record triage",
        frozenset({Status.TRIAGE, Status.INVESTIGATING}),
        None,
        OWNERS,
        needs="severity, clauses, harm-threshold answers and a route",
    ),
    Transition(
        "start_investigation",
        "Start investigation",
        frozenset({Status.TRIAGE}),
        Status.INVESTIGATING,
        OWNERS,
        requires=(_triaged,),
    ),
    Transition(
        "propose_outcome",
        "Propose outcome",
        frozenset({Status.INVESTIGATING}),
        Status.OUTCOME_PROPOSED,
        OWNERS,
        requires=(_triaged, _lado_referred),
        needs="an outcome and the reasons",
    ),
    Transition(
        "close",
        "Close (no breach)",
        frozenset({Status.OUTCOME_PROPOSED}),
        Status.CLOSED,
        frozenset({CaseRole.OWNER}),
        requires=(_outcome_is_not_breach,),
    ),
    Transition(
        "refer_to_governors",
        "Refer to governors",
        frozenset({Status.OUTCOME_PROPOSED}),
        Status.GOVERNOR_REVIEW,
        frozenset({CaseRole.OWNER}),
        requires=(_outcome_is_breach,),
        needs="a summary for the governors",
    ),
    Transition(
        "uphold",
        "Uphold the outcome",
        frozenset({Status.GOVERNOR_REVIEW}),
        Status.CLOSED,
        frozenset({CaseRole.GOVERNOR}),
    ),
    Transition(
        "refer_back",
        "Refer back",
        frozenset({Status.GOVERNOR_REVIEW}),
        Status.INVESTIGATING,
        frozenset({CaseRole.GOVERNOR}),
        needs="a comment",
        button="btn-outline-secondary",
    ),
    Transition(
        "reopen",
        "Reopen",
        frozenset({Status.CLOSED}),
        Status.INVESTIGATING,
        frozenset({CaseRole.OWNER}),
        needs="a reason",
        button="btn-outline-secondary",
    ),
    # Actions that record something without moving the case.
    Transition("add_note", "Add note", ANY, None, OWNERS, needs="the note"),
    Transition("record_referral", "Record referral", OPEN, None, OWNERS, needs="who, when and their reference"),
    Transition("add_evidence", "Add evidence", OPEN, None, OWNERS | {CaseRole.REPORTER}),
    Transition("withdraw_evidence", "Withdraw evidence", ANY, None, OWNERS, needs="a reason"),
    # Reading: who sees the evidence files (governors see the review, not the evidence).
    Transition("view_evidence", "View evidence", ANY, None, OWNERS | {CaseRole.REPORTER}),
)
TRANSITIONS: dict[str, Transition] = {t.name: t for t in TABLE}


def case_roles(user, incident: Incident, school_roles: frozenset[str] | None = None) -> frozenset[CaseRole]:
    """The person's relation(s) to this case. `school_roles` (their roles at the case's school)
    saves a query when the caller has them already."""
    if not user.is_authenticated or not user.is_active or incident.subject_id == user.pk:
        return frozenset()
    if school_roles is None:
        school_roles = frozenset(
            Membership.objects.filter(user=user, school_id=incident.school_id).values_list("role", flat=True)
        )
    roles = set()
    if incident.reporter_id == user.pk:
        roles.add(CaseRole.REPORTER)
    if Role.HEAD in school_roles and not incident.subject_is_head:
        roles.add(CaseRole.OWNER)
    if Role.CHAIR in school_roles and (incident.subject_is_head or incident.escalated_at is not None):
        roles.add(CaseRole.OWNER)
    if Role.DSL in school_roles and incident.needs_dsl:
        roles.add(CaseRole.DSL)
    if school_roles & {Role.GOVERNOR, Role.CHAIR}:
        roles.add(CaseRole.GOVERNOR)
    return frozenset(roles)


def allowed(roles: frozenset[CaseRole], incident: Incident, name: str) -> bool:
    """Role and state allow it (requirements may still be unmet: the page says which)."""
    t = TRANSITIONS[name]
    return bool(roles & t.roles) and incident.status in t.sources


def available(roles: frozenset[CaseRole], incident: Incident) -> dict[str, Transition]:
    """What this person may do to the case now: the buttons and forms the page shows."""
    return {t.name: t for t in TABLE if allowed(roles, incident, t.name)}


def unmet(incident: Incident, name: str) -> list[str]:
    return [problem for check in TRANSITIONS[name].requires if (problem := check(incident))]


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
