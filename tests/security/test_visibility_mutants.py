"""Mutation check of the access rule (SECURITY-TEST-PLAN item 3): the tests can fail.

The rule is incidents/access.py: one row per relation, each read two ways, a filter (`q`) and a
predicate on one loaded case (`holds`), with the guards (subject, heads and DSLs out of a case about
a head) and the entry points beside them. Each mutant removes or widens one guard of one reading:
by replacing a row's reading, an entry point's rows, or by editing the source text of one function
of access.py and exec'ing the edited copy in the module's namespace.

- Filter mutants: the access matrix's visibility rows (case pages, lists, counters, people pages,
  written by hand in test_access_matrix.py) run against the mutated rule. Killed when a row that
  passes on the real code fails: an expected 404 that becomes a 200, or a list or counter that
  shows a case it must not.
- Object mutants (a predicate, or a guard as the case page reads it): the agreement test
  (test_access_agreement.py) over the whole cast; killed when the two readings no longer agree.
Target: every mutant killed.

If the code changes so that a mutant's text is no longer found, the test fails and says which: write
the mutant again for the new code rather than dropping it.
"""

import dataclasses
import inspect
import textwrap

import pytest
from django.db.models import Exists, OuterRef, Q

from accounts.models import Role, School
from incidents import access, transitions
from incidents.access import CaseRole, about_a_head
from incidents.choices import DSL_CATEGORIES, Status
from incidents.models import Incident, Task
from tests.security.test_access_agreement import disagreements, everyone_and_every_case, filter_side, more_cast
from tests.security.test_access_matrix import (
    ACTORS,
    SOLE_GUARD,
    case_rows,
    page_rows,
    person_rows,
    run_rows,
)

pytestmark = pytest.mark.django_db


def _all_schools():
    return School.objects.values("pk")


def _anywhere(v, *roles):
    """The tenant mutant: the right role at any school of the database, not only where it is held."""
    return _all_schools() if v.at(*roles) else []


# --- How a mutant is applied ------------------------------------------------------------------------


def row(name, **changes):
    """Replace fields of one relation (its filter `q`, its predicate `holds`, its `role`...)."""

    def apply(patch):
        rows = tuple(dataclasses.replace(r, **changes) if r.name == name else r for r in access.RELATIONS)
        patch.setattr(access, "RELATIONS", rows)
        patch.setattr(access, "BY_NAME", {r.name: r for r in rows})

    return apply


def rows_of(entry_point, names):
    """An entry point that uses other relations."""
    return lambda patch: patch.setattr(access, entry_point, tuple(names))


def source(owner, attr, old, new):
    """`owner.attr` (a function of access.py or transitions.py, or a method) with `old` replaced by
    `new` in its source, exec'd in a copy of its module's namespace."""

    def apply(patch):
        patch.setattr(owner, attr, mutated(owner, attr, old, new))

    return apply


def mutated(owner, attr, old, new):
    function = inspect.getattr_static(owner, attr)
    function = getattr(function, "__func__", function)
    text = textwrap.dedent(inspect.getsource(function))
    assert text.count(old) == 1, f"mutant text not found once in {attr}: {old!r}"
    namespace = dict(vars(inspect.getmodule(function)))
    exec(compile(text.replace(old, new), f"<mutant of {attr}>", "exec"), namespace)  # noqa: S102
    return namespace[attr]


# --- Filter mutants (killed by the hand-written matrix) -------------------------------------------------

FILTER_MUTANTS = [
    ("subject exclusion", source(access, "_matching", ".exclude(subject=user)", "")),
    ("tenant: head", row("head", q=lambda v: Q(school__in=_anywhere(v, Role.HEAD)))),
    (
        "tenant: chair",
        row(
            "chair",
            q=lambda v: Q(school__in=_anywhere(v, Role.CHAIR)) & (about_a_head() | Q(escalated_at__isnull=False)),
        ),
    ),
    (
        "tenant: DSL",
        row(
            "dsl",
            q=lambda v: Q(school__in=_anywhere(v, Role.DSL)) & (Q(category__in=DSL_CATEGORIES) | Q(child_at_risk=True)),
        ),
    ),
    (
        "tenant: governor",
        row(
            "governor",
            q=lambda v: (
                Q(school__in=_anywhere(v, Role.GOVERNOR, Role.CHAIR))
                & (Q(status=Status.GOVERNOR_REVIEW) | Q(status=Status.CLOSED, upheld=True))
            ),
        ),
    ),
    (
        "tenant: trust admin (counted, never shown)",
        row("trust_admin", q=lambda v: Q(school__in=_anywhere(v, Role.TRUST_ADMIN))),
    ),
    # Role: any role at a school counts as every role there.
    (
        "role",
        source(
            access.Viewer,
            "at",
            "return [s for r in roles for s in self.schools.get(r, [])]",
            "return [s for ss in self.schools.values() for s in ss]",
        ),
    ),
    # A case about a head: no head and no DSL of the school but as its reporter (the insider guard).
    (
        "head→chair routing (heads and DSLs out)",
        source(access, "_matching", "rule = (guarded & ~insider_q(viewer)) | free", "rule = guarded | free"),
    ),
    (
        "insider: DSLs too (the DSL rule must not open a case about the head)",
        source(access, "insider_q", "at(Role.HEAD, Role.DSL)", "at(Role.HEAD)"),
    ),
    ("insider: heads too (a co-head)", source(access, "insider_q", "at(Role.HEAD, Role.DSL)", "at(Role.DSL)")),
    (
        "about a head: the subject's roles now, not only at report time (acting head)",
        source(access, "about_a_head", " | Q(head_now)", ""),
    ),
    (
        "head→chair routing (chair only for heads or escalations)",
        row("chair", q=lambda v: Q(school__in=v.at(Role.CHAIR))),
    ),
    (
        "trust admins read a review only when the trust decides it",
        row("trust_review", q=lambda v: Q(school__in=v.at(Role.TRUST_ADMIN), status=Status.GOVERNOR_REVIEW)),
    ),
    # Reporter: colleagues at the school see each other's reports.
    ("reporter", row("reporter", q=lambda v: Q(school__in=[s for ss in v.schools.values() for s in ss]))),
    ("reporter: keeps their report about a head", row("reporter", guarded=True)),
    ("DSL categories", row("dsl", q=lambda v: Q(school__in=v.at(Role.DSL)))),
    ("governor stage", row("governor", q=lambda v: Q(school__in=v.at(Role.GOVERNOR, Role.CHAIR)))),
    (
        "governor stage: closed only after an upheld review",
        row(
            "governor",
            q=lambda v: (
                Q(school__in=v.at(Role.GOVERNOR, Role.CHAIR))
                & (Q(status=Status.GOVERNOR_REVIEW) | Q(status=Status.CLOSED))
            ),
        ),
    ),
    (
        "inactive accounts",
        source(
            access.Viewer,
            "of",
            "if not user.is_authenticated or not user.is_active:",
            "if not user.is_authenticated:",
        ),
    ),
    # A merged report's owners are its survivor's, not everyone at the school.
    (
        "survivor owner: any merged report of the school",
        row(
            "survivor_owner",
            q=lambda v: Q(merged_into__isnull=False, school__in=[s for ss in v.schools.values() for s in ss]),
        ),
    ),
    # Which relations each entry point uses.
    ("visible_to: trust admins see no case content", rows_of("VISIBLE", [*access.VISIBLE, "trust_admin"])),
    ("visible_to: DPOs see no case content", rows_of("VISIBLE", [*access.VISIBLE, "dpo"])),
    ("owned_by: reporters own nothing", rows_of("OWNED", [*access.OWNED, "reporter"])),
    ("owned_by: governors own nothing", rows_of("OWNED", [*access.OWNED, "governor"])),
    ("under_review_for: governors only", rows_of("UNDER_REVIEW", [*access.UNDER_REVIEW, "chair"])),
    # Tasks ([8]): an assignee sees the case while the task is open, at their own school, and the
    # head/DSL guard holds for them too.
    (
        "assignee: only while the task is open",
        row(
            "assignee",
            q=lambda v: (
                Q(school__in=[s for ss in v.schools.values() for s in ss])
                & Q(Exists(Task.objects.filter(incident=OuterRef("pk"), assignee=v.user)))
            ),
        ),
    ),
    ("assignee: only a member of the case's school", row("assignee", q=lambda v: access._open_task_for(v.user))),
    ("assignee: no head or DSL on a case about the head", row("assignee", guarded=False)),
]

# --- Object mutants (killed by the agreement of the two readings) ---------------------------------------

OBJECT_MUTANTS = [
    ("subject exclusion", source(access, "is_subject", "return incident.subject_id == user.pk", "return False")),
    ("role: head (any role at the school)", row("head", holds=lambda user, c: bool(c.roles))),
    (
        "head→chair routing (chair only for heads or escalations)",
        row("chair", holds=lambda user, c: Role.CHAIR in c.roles),
    ),
    ("DSL categories", row("dsl", holds=lambda user, c: Role.DSL in c.roles)),
    ("governor stage", row("governor", holds=lambda user, c: bool(c.roles & {Role.GOVERNOR, Role.CHAIR}))),
    (
        "governor stage: closed only after an upheld review",
        row(
            "governor",
            holds=lambda user, c: (
                bool(c.roles & {Role.GOVERNOR, Role.CHAIR}) and (c.in_review or c.incident.status == Status.CLOSED)
            ),
        ),
    ),
    (
        "trust admins read a review only when the trust decides it",
        row("trust_review", holds=lambda user, c: Role.TRUST_ADMIN in c.roles and c.in_review),
    ),
    (
        "trust admins read a review only while it is in review",
        row("trust_review", holds=lambda user, c: Role.TRUST_ADMIN in c.roles and c.incident.review_by_trust),
    ),
    ("reporter", row("reporter", holds=lambda user, c: c.incident.reporter_id == user.pk or bool(c.roles))),
    (
        "head→chair routing (heads and DSLs out)",
        source(
            access,
            "relations",
            "if any(BY_NAME[name].guarded for name in found) and insider_holds(user, case):",
            "if False:",
        ),
    ),
    (
        "insider: DSLs too (the DSL rule must not open a case about the head)",
        source(access, "insider_holds", "{Role.HEAD, Role.DSL}", "{Role.HEAD}"),
    ),
    ("insider: heads too (a co-head)", source(access, "insider_holds", "{Role.HEAD, Role.DSL}", "{Role.DSL}")),
    (
        "about a head: the subject's roles now, not only at report time (acting head)",
        lambda patch: patch.setattr(access.Case, "about_head", property(lambda self: self.incident.subject_is_head)),
    ),
    (
        "inactive accounts",
        source(
            access,
            "relations",
            "if not user.is_authenticated or not user.is_active or is_subject(user, incident):",
            "if not user.is_authenticated or is_subject(user, incident):",
        ),
    ),
    (
        "survivor owner: anyone at the school",
        row("survivor_owner", holds=lambda user, c: c.incident.merged_into_id is not None and bool(c.roles)),
    ),
    ("trust admins open no case (counted only)", row("trust_admin", role=CaseRole.GOVERNOR)),
    ("DPOs open no case (their records only)", row("dpo", role=CaseRole.OWNER)),
    (
        "assignee: only while the task is open",
        row("assignee", holds=lambda user, c: bool(c.roles) and c.incident.tasks.filter(assignee_id=user.pk).exists()),
    ),
    ("assignee: only a member of the case's school", row("assignee", holds=access._has_open_task)),
    (
        "only a governor who reads the review decides it",
        source(transitions, "case_roles", "if CaseRole.GOVERNOR in roles and any(", "if any("),
    ),
    # The governors' pack ([9]): governors and chairs count their school's cases, and open none of them.
    ("governor figures: governors and chairs only", row("governor_figures", holds=lambda user, c: bool(c.roles))),
    ("governor figures open no case (counted only)", row("governor_figures", role=CaseRole.GOVERNOR)),
]


def _inactive_head_sees_nothing(w):
    w.helen.is_active = False
    try:
        leaked = Incident.objects.visible_to(w.helen).exists() or Incident.objects.counted_for(w.helen).exists()
    finally:
        w.helen.is_active = True
    return ["an inactive head sees cases"] if leaked else []


def visibility_rows(w):
    """The matrix rows a visibility guard can change: every case detail page, every list and
    counter, every person page. Ordered so that a mutant dies early: the sole-guard case rows, then
    the lists and counters (about 80 rows, which kill the entry-point mutants), then the other case
    pages, then the people pages. The order changes how many rows run before the first failure,
    not which rows run on the real code (all of them) nor whether a mutant is killed."""
    sole = set(SOLE_GUARD.values())
    cases = [r for r in case_rows(w) if r.label.startswith("incidents:detail")]
    first = [r for r in cases if (r.actor, r.case) in sole]
    rest = [r for r in cases if (r.actor, r.case) not in sole]
    pages = [r for r in page_rows(w) if r.shows is not None or r.count]
    return first + pages + rest + person_rows(w, ACTORS)


def test_every_filter_mutant_is_killed_by_the_matrix(world, monkeypatch):
    rows = visibility_rows(world)
    # The rows pass on the real rule (the matrix test says so too); any problem here is the app's.
    baseline = set(run_rows(world, rows)) | set(_inactive_head_sees_nothing(world))
    assert not baseline, "the matrix's visibility rows fail on the real code:\n" + "\n".join(sorted(baseline))
    killed, survived = [], []
    for name, apply in FILTER_MUTANTS:
        with monkeypatch.context() as patch:
            apply(patch)
            problems = _inactive_head_sees_nothing(world) or run_rows(world, rows, stop_at_first=True)
        (killed if problems else survived).append(name)
        print(f"killed  {name}: {problems[0]}" if problems else f"SURVIVED {name}")
    print(f"\nfilter mutants killed: {len(killed)}/{len(FILTER_MUTANTS)}")
    assert not survived, f"mutants the matrix did not kill: {survived}"


def test_every_object_mutant_is_killed_by_the_agreement_of_the_two_readings(world, monkeypatch):
    more_cast(world)
    people, cases = everyone_and_every_case(world)
    filters = filter_side(people)  # the real filters: an object mutant leaves them alone
    baseline = disagreements(people, cases, filters)
    assert not baseline, "the two readings disagree on the real code:\n" + "\n".join(baseline)
    killed, survived = [], []
    for name, apply in OBJECT_MUTANTS:
        with monkeypatch.context() as patch:
            apply(patch)
            problems = disagreements(people, cases, filters, stop_at_first=True, both_ways=False)
        (killed if problems else survived).append(name)
        print(f"killed  {name}: {problems[0]}" if problems else f"SURVIVED {name}")
    print(f"\nobject mutants killed: {len(killed)}/{len(OBJECT_MUTANTS)}")
    assert not survived, f"mutants the agreement test did not kill: {survived}"


def test_the_mutants_change_the_rule(monkeypatch):
    """Each mutant applies (its text is found once, the edited source compiles) and changes
    something (a no-op mutant proves nothing)."""
    for _name, apply in FILTER_MUTANTS + OBJECT_MUTANTS:
        before = (access.RELATIONS, access.VISIBLE, access.OWNED, access.UNDER_REVIEW)
        functions = {
            (owner, attr): inspect.getattr_static(owner, attr)
            for owner, attr in [
                (access, "matching"),
                (access, "_matching"),
                (access, "insider_q"),
                (access, "insider_holds"),
                (access, "is_subject"),
                (access, "relations"),
                (access, "about_a_head"),
                (access.Viewer, "at"),
                (access.Viewer, "of"),
                (access.Case, "about_head"),
                (transitions, "case_roles"),
            ]
        }
        with monkeypatch.context() as patch:
            apply(patch)
            after = (access.RELATIONS, access.VISIBLE, access.OWNED, access.UNDER_REVIEW)
            changed = [key for key, f in functions.items() if inspect.getattr_static(*key) is not f]
            assert after != before or changed, _name
