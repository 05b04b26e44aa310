"""Who may see and act on a case (docs/specification.md §5): every relation, in one table.

A person's relation to a case is one row of RELATIONS. Each row says the same rule twice, side by
side, so the two readings can be compared row by row (tests/security/test_access_agreement.py):

- `q(viewer)`: the rule as a filter, for lists and for fetching (Incident.objects.visible_to & co);
- `holds(user, case)`: the rule on one loaded case, for the roles its page and the services
  check (`relation_roles`, and transitions.case_roles on top of it).

Two guards apply to every row afterwards, in both readings:

- the subject of a case has no relation to it at all, whatever roles they hold;
- a case "about a head" (its subject holds the head role at the case's school now, or did when it
  was reported or re-routed) is the chair's: no head and no DSL of that school has any `guarded`
  relation to it, whatever other roles they hold (a co-head who is DSL or governor included),
  KCSIE part 4. The reporter and the DPO relations are not guarded: a head still follows their own
  report, and the data-protection officer's scope is the school's records.

Named sets of rows are the entry points: VISIBLE (what a person may open), OWNED (the triage
queue), UNDER_REVIEW (the governors' list), COUNTED (aggregates, never shown), DPO_SCOPE (subject
access export), RETENTION (the retention pages) and FIGURES (the governors' pack). An inactive or
anonymous user has no relation.

To add a relation: add a row (both readings), put its name in the entry points it belongs to, and
add a mutant of each reading to tests/security/test_visibility_mutants.py.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, Value

from accounts.models import Membership, Role
from accounts.prepared import Prepared

from . import lookups  # noqa: F401 (registers pk__in_array)
from .choices import DSL_CATEGORIES, Status


class CaseRole(StrEnum):
    OWNER = "owner"
    DSL = "dsl"
    GOVERNOR = "governor"
    DECIDER = "decider"
    REPORTER = "reporter"
    ASSIGNEE = "assignee"


OWNERS = frozenset({CaseRole.OWNER, CaseRole.DSL})


def about_a_head(outer: str = "") -> Q:
    """The case is about a head: its subject holds the head role at the case's school now, or did
    when it was reported or re-routed. `outer` prefixes the incident's fields when the condition
    is used from a related model (e.g. "incident__")."""
    head_now = Exists(
        Membership.objects.filter(user=OuterRef(f"{outer}subject"), school=OuterRef(f"{outer}school"), role=Role.HEAD)
    )
    return Q(**{f"{outer}subject_is_head": True}) | Q(head_now)


def _open_task_for(user) -> Q:
    # Looked up in the app registry, not imported: incidents.models imports this module. The cases
    # come from the task's own index (one person's open tasks), not a scan of the school's cases.
    task = apps.get_model("incidents", "Task")
    return Q(pk__in_array=task.objects.filter(assignee=user, state="open").values("incident_id"))


def _open_tasks(incident, user_id):
    """The open tasks of `user_id` on `incident` (a pk, or an OuterRef to the case)."""
    task = apps.get_model("incidents", "Task")
    return task.objects.filter(incident=incident, assignee_id=user_id, state="open")


def _open_task_of(incident_id, user_id):
    return _open_tasks(incident_id, user_id).values_list("pk")[:1]


# Asked on every view of a case by anyone holding a role at its school: written once (accounts/prepared.py).
_OPEN_TASK = Prepared(_open_task_of, 2)


def open_task_flag(user) -> dict:
    """Annotations read with the case on its page (incidents/views._case_page_flags): whether `user`
    holds an open task on it, and whom that was asked for: _has_open_task answers from them for that
    person alone, and asks the database for anyone else."""
    return {"viewer_open_task": Exists(_open_tasks(OuterRef("pk"), user.pk)), "viewer_open_task_of": Value(user.pk)}


def _has_open_task(user, case) -> bool:
    known = case.incident.__dict__
    if "viewer_open_task" in known and known.get("viewer_open_task_of") == user.pk:
        return known["viewer_open_task"]
    return bool(_OPEN_TASK.rows(case.incident.pk, user.pk))


def _owned_by(viewer):
    """The pks of the cases the viewer owns (the OWNED rows), for a relation that follows a merge:
    a subquery built from the viewer's memberships already loaded (no second fetch)."""
    incidents = apps.get_model("incidents", "Incident")
    return _matching(incidents.objects.all(), viewer, OWNS_DIRECTLY).values("pk")


# --- The two sides a rule is read from ---------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """The person's side, read once for a whole list: the schools where they hold each role."""

    user: object
    schools: dict

    @classmethod
    def of(cls, user) -> "Viewer | None":
        if not user.is_authenticated or not user.is_active:
            return None
        schools: dict[str, list[int]] = {}
        # In a request, the memberships the request fetched once (accounts/middleware.py).
        of_request = getattr(user, "memberships_of_request", None)
        pairs = (
            [(m.school_id, m.role) for m in of_request()]
            if of_request is not None
            else user.memberships.values_list("school_id", "role")
        )
        for school_id, role in pairs:
            schools.setdefault(role, []).append(school_id)
        return cls(user=user, schools=schools)

    def at(self, *roles) -> list[int]:
        return [s for r in roles for s in self.schools.get(r, [])]


class Case:
    """One loaded case as the predicates read it, with the person's roles at its school. Whether it
    is about a head costs a query, only when a rule asks."""

    def __init__(self, incident, roles: frozenset[str]):
        self.incident = incident
        self.roles = roles

    @cached_property
    def about_head(self) -> bool:
        return self.incident.is_about_a_head()

    def owns_survivor(self, user) -> bool:
        survivor = self.incident.merged_into
        return bool(set(relations(user, survivor)) & set(OWNS_DIRECTLY))

    @property
    def in_review(self) -> bool:
        return self.incident.status == Status.GOVERNOR_REVIEW


# --- The relations ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    name: str
    # The role it gives on the case; None: it opens no case page (counted, or a DPO's records).
    role: CaseRole | None
    q: Callable[[Viewer], Q]
    holds: Callable[[object, Case], bool]
    # Lost by the heads and DSLs of the school on a case about a head (KCSIE part 4).
    guarded: bool = True


RELATIONS: tuple[Relation, ...] = (
    # Reporters see their own reports (views show them status only, never internal notes).
    Relation(
        "reporter",
        CaseRole.REPORTER,
        q=lambda v: Q(reporter=v.user),
        holds=lambda user, c: c.incident.reporter_id == user.pk,
        guarded=False,
    ),
    # Heads own their school's cases (but those about a head: the guard).
    Relation(
        "head",
        CaseRole.OWNER,
        q=lambda v: Q(school__in=v.at(Role.HEAD)),
        holds=lambda user, c: Role.HEAD in c.roles,
    ),
    # The chair owns their school's cases about a head, and cases a missed deadline escalated.
    Relation(
        "chair",
        CaseRole.OWNER,
        q=lambda v: Q(school__in=v.at(Role.CHAIR)) & (about_a_head() | Q(escalated_at__isnull=False)),
        holds=lambda user, c: Role.CHAIR in c.roles and (c.incident.escalated_at is not None or c.about_head),
    ),
    # DSLs own safeguarding, Prevent and illegal-content cases, and any case whose reporter said a
    # child is at risk now (the DSL is alerted to those at once).
    Relation(
        "dsl",
        CaseRole.DSL,
        q=lambda v: Q(school__in=v.at(Role.DSL)) & (Q(category__in=DSL_CATEGORIES) | Q(child_at_risk=True)),
        holds=lambda user, c: Role.DSL in c.roles and c.incident.needs_dsl,
    ),
    # Governors (and the chair) read their school's cases in governor review, or closed after the
    # board upheld them (not cases referred back, reopened or closed without the board). `upheld`:
    # the case has an upheld review (GovernorReview.save sets it); the index incident_governors holds
    # exactly these cases, so the list never reads the school's closed history.
    Relation(
        "governor",
        CaseRole.GOVERNOR,
        q=lambda v: (
            Q(school__in=v.at(Role.GOVERNOR, Role.CHAIR))
            & (Q(status=Status.GOVERNOR_REVIEW) | Q(status=Status.CLOSED, upheld=True))
        ),
        holds=lambda user, c: (
            bool(c.roles & {Role.GOVERNOR, Role.CHAIR})
            and (c.in_review or (c.incident.status == Status.CLOSED and c.incident.upheld))
        ),
    ),
    # Trust admins read (and decide) a review the trust decides because no governor without a
    # conflict remains: what governors see, while it is in review.
    Relation(
        "trust_review",
        CaseRole.GOVERNOR,
        q=lambda v: Q(school__in=v.at(Role.TRUST_ADMIN), status=Status.GOVERNOR_REVIEW, review_by_trust=True),
        holds=lambda user, c: Role.TRUST_ADMIN in c.roles and c.in_review and c.incident.review_by_trust,
    ),
    # Trust admins count their schools' cases (aggregates) and see no content.
    Relation(
        "trust_admin",
        None,
        q=lambda v: Q(school__in=v.at(Role.TRUST_ADMIN)),
        holds=lambda user, c: Role.TRUST_ADMIN in c.roles,
    ),
    # The owners of a case own the reports merged into it (incidents/merging.py): the survivor's
    # DSL, or the chair it was escalated to, reads a merged report's text and files although the
    # report alone is not theirs. Both cases have the same subject (or none), so the guards read
    # the same on both.
    Relation(
        "survivor_owner",
        CaseRole.OWNER,
        # The school condition is implied (a merge stays within a school, and owning the survivor
        # takes a role there); it lets the database read the merged reports of those schools through
        # their own small index (incident_merged) instead of a school's whole history. The survivor
        # is looked up by its key (EXISTS), not as a set of every case the viewer owns (IN): costed
        # as that set, the rule made PostgreSQL plan the case page's query afresh on every view.
        q=lambda v: (
            Q(merged_into__isnull=False, school__in=v.at(Role.HEAD, Role.CHAIR, Role.DSL))
            & Q(Exists(_owned_by(v).filter(pk=OuterRef("merged_into_id"))))
        ),
        holds=lambda user, c: c.incident.merged_into_id is not None and c.owns_survivor(user),
    ),
    # The data-protection officer's records: every case of their schools, reached only through the
    # audited subject-access export and the retention pages (by reference, no content).
    Relation(
        "dpo",
        None,
        q=lambda v: Q(school__in=v.at(Role.DPO)),
        holds=lambda user, c: Role.DPO in c.roles,
        guarded=False,
    ),
    # A person the owner gave a task on the case ([8], incidents/assignments.py): while the task is
    # open and they are still a member of the case's school (a leaver's open task opens nothing).
    # Guarded: a head or DSL given a task on a case about a head still sees nothing of it.
    Relation(
        "assignee",
        CaseRole.ASSIGNEE,
        q=lambda v: Q(school__in=[s for ids in v.schools.values() for s in ids]) & _open_task_for(v.user),
        holds=lambda user, c: bool(c.roles) and _has_open_task(user, c),
    ),
    # Governors and the chair count every case of their school for the termly pack ([9],
    # reporting/figures.py): counts and rates, never a case (the pack opens none through this row).
    Relation(
        "governor_figures",
        None,
        q=lambda v: Q(school__in=v.at(Role.GOVERNOR, Role.CHAIR)),
        holds=lambda user, c: bool(c.roles & {Role.GOVERNOR, Role.CHAIR}),
    ),
)
BY_NAME: dict[str, Relation] = {r.name: r for r in RELATIONS}


# The guards, in both readings.
def insider_q(viewer: Viewer) -> Q:
    """Cases about a head of a school where the viewer is head or DSL."""
    return Q(school__in=viewer.at(Role.HEAD, Role.DSL)) & about_a_head()


def insider_holds(user, c: Case) -> bool:
    return bool(c.roles & {Role.HEAD, Role.DSL}) and c.about_head


def is_subject(user, incident) -> bool:
    return incident.subject_id == user.pk


# --- Entry points -------------------------------------------------------------------------------------

VISIBLE = ("reporter", "head", "chair", "dsl", "governor", "trust_review", "assignee", "survivor_owner")
# Owning a case by one's roles; a merged report's owners are its survivor's (no chains: one step).
OWNS_DIRECTLY = ("head", "chair", "dsl")
OWNED = (*OWNS_DIRECTLY, "survivor_owner")
UNDER_REVIEW = ("governor",)
COUNTED = (*VISIBLE, "trust_admin")
DPO_SCOPE = ("dpo",)
# The retention pages: a DPO's records, and the cases a head owns as head.
RETENTION = ("dpo", "head")
# The governors' pack and the trust's figures (reporting/): what may be counted, plus a governor's
# whole school. Counted only, never shown; never a case about the viewer.
FIGURES = (*COUNTED, "governor_figures")


def matching(queryset, user, names: Iterable[str]):
    """The cases of `queryset` to which `user` has one of the relations `names`."""
    viewer = Viewer.of(user)
    if viewer is None:
        return queryset.none()
    return _matching(queryset, viewer, names)


def _never(q) -> bool:
    """True when the filter matches no row whatever the data: `field__in=[]` (a role the viewer
    holds at no school), an AND with such a part, an OR of only such parts. Leaving those rows out
    keeps the rule's meaning and spares building and compiling their SQL on every request (the
    access rule was the largest cost of a signed-in page, docs/performance.md)."""
    if isinstance(q, tuple):
        lookup, value = q
        return lookup.endswith("__in") and isinstance(value, list | tuple | set | frozenset) and not value
    if not isinstance(q, Q) or q.negated or not q.children:
        return False
    parts = [_never(child) for child in q.children]
    if q.connector == Q.AND:
        return any(parts)
    return q.connector == Q.OR and all(parts)


def _matching(queryset, viewer: "Viewer", names: Iterable[str]):
    user = viewer.user
    rows = [BY_NAME[name] for name in names]
    guarded, free = Q(pk__in=[]), Q(pk__in=[])
    for row in rows:
        q = row.q(viewer)
        if _never(q):
            continue
        if row.guarded:
            guarded |= q
        else:
            free |= q
    # Head or DSL at no school: the insider guard removes nothing, and is left out.
    rule = (guarded & ~insider_q(viewer)) | free if not _never(insider_q(viewer)) else guarded | free
    # exclude(subject=user) also keeps the cases with no subject (NULL), as it must.
    return queryset.filter(rule).exclude(subject=user)


def school_roles_of(user, incident) -> frozenset[str]:
    return frozenset(Membership.objects.filter(user=user, school_id=incident.school_id).values_list("role", flat=True))


def relations(user, incident, school_roles: frozenset[str] | None = None) -> frozenset[str]:
    """The names of the relations `user` has to this loaded case (guards applied). `school_roles`
    (their roles at the case's school) saves a query when the caller has them already."""
    if not user.is_authenticated or not user.is_active or is_subject(user, incident):
        return frozenset()
    if school_roles is None:
        school_roles = school_roles_of(user, incident)
    case = Case(incident, frozenset(school_roles))
    found = {row.name for row in RELATIONS if row.holds(user, case)}
    if any(BY_NAME[name].guarded for name in found) and insider_holds(user, case):
        found = {name for name in found if not BY_NAME[name].guarded}
    return frozenset(found)


def relation_roles(user, incident, school_roles: frozenset[str] | None = None) -> frozenset[CaseRole]:
    """The roles those relations give (transitions.case_roles adds DECIDER, who decides a review)."""
    found = relations(user, incident, school_roles)
    return frozenset(BY_NAME[name].role for name in found if BY_NAME[name].role is not None)
