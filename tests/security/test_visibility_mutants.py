"""Mutation check of the visibility rule (SECURITY-TEST-PLAN item 3): the access matrix can fail.

Each mutant removes or widens one guard of `IncidentQuerySet` (incidents/models.py) by editing the
source text of one method and exec'ing the edited copy in the module's namespace; the matrix's
visibility rows (case pages, lists, counters, people pages, written by hand in
test_access_matrix.py) are then run against the mutated rule. A mutant is killed when a row that
passes on the real code fails on the mutant — for these guard-removing mutants, an expected 404 that
becomes a 200, or a list or counter that shows a case it must not. Target: every mutant killed.

If the code changes so that a mutant's text is no longer found, the test fails and says which: write
the mutant again for the new code rather than dropping it.
"""

import inspect
import textwrap

import pytest

import incidents.models as incident_models
from incidents.models import Incident, IncidentQuerySet
from tests.security.test_access_matrix import (
    ACTORS,
    SOLE_GUARD,
    case_rows,
    page_rows,
    person_rows,
    run_rows,
)

pytestmark = pytest.mark.django_db

# (name, method of IncidentQuerySet, text in its source, replacement). Each is one guard.
ALL_SCHOOLS = 'School.objects.values("pk")'
MUTANTS = [
    ("subject exclusion", "_matching", ".exclude(subject=user)", ""),
    # Tenant: the right role at any school of the database, not only where it is held.
    ("tenant: head", "_rules", "school__in=at(Role.HEAD)", f"school__in=({ALL_SCHOOLS} if at(Role.HEAD) else [])"),
    (
        "tenant: chair",
        "_rules",
        "Q(school__in=at(Role.CHAIR))",
        f"Q(school__in=({ALL_SCHOOLS} if at(Role.CHAIR) else []))",
    ),
    ("tenant: DSL", "_rules", "Q(school__in=at(Role.DSL))", f"Q(school__in=({ALL_SCHOOLS} if at(Role.DSL) else []))"),
    (
        "tenant: governor",
        "_rules",
        "Q(school__in=at(Role.GOVERNOR, Role.CHAIR))",
        f"Q(school__in=({ALL_SCHOOLS} if at(Role.GOVERNOR, Role.CHAIR) else []))",
    ),
    (
        "tenant: trust admin (counted, never shown)",
        "_rules",
        "Q(school__in=at(Role.TRUST_ADMIN))",
        f"Q(school__in=({ALL_SCHOOLS} if at(Role.TRUST_ADMIN) else []))",
    ),
    # Role: any role at a school counts as every role there.
    (
        "role",
        "_rules",
        "return [s for r in roles for s in schools_by_role.get(r, [])]",
        "return [s for ss in schools_by_role.values() for s in ss]",
    ),
    # A case about a head: no head and no DSL of the school but as its reporter (the insider guard).
    ("head→chair routing (heads and DSLs out)", "_matching", 'rule = others & ~rules["insider"]', "rule = others"),
    (
        "insider: DSLs too (the DSL rule must not open a case about the head)",
        "_rules",
        '"insider": Q(school__in=at(Role.HEAD, Role.DSL))',
        '"insider": Q(school__in=at(Role.HEAD))',
    ),
    (
        "insider: heads too (a co-head)",
        "_rules",
        '"insider": Q(school__in=at(Role.HEAD, Role.DSL))',
        '"insider": Q(school__in=at(Role.DSL))',
    ),
    (
        "about a head: the subject's roles now, not only at report time (acting head)",
        "_rules",
        "about_head = about_a_head()",
        "about_head = Q(subject_is_head=True)",
    ),
    (
        "head→chair routing (chair only for heads or escalations)",
        "_rules",
        " & (about_head | Q(escalated_at__isnull=False))",
        "",
    ),
    (
        "trust admins read a review only when the trust decides it",
        "_rules",
        ", review_by_trust=True",
        "",
    ),
    # Reporter: colleagues at the school see each other's reports.
    (
        "reporter",
        "_rules",
        '"reporter": Q(reporter=user)',
        '"reporter": Q(school__in=[s for ss in schools_by_role.values() for s in ss])',
    ),
    ("DSL categories", "_rules", "& (Q(category__in=DSL_CATEGORIES) | Q(child_at_risk=True))", ""),
    ("governor stage", "_rules", "& (Q(status=Status.GOVERNOR_REVIEW) | (Q(status=Status.CLOSED) & upheld))", ""),
    (
        "governor stage: closed only after an upheld review",
        "_rules",
        "(Q(status=Status.CLOSED) & upheld)",
        "Q(status=Status.CLOSED)",
    ),
    (
        "inactive accounts",
        "_rules",
        "if not user.is_authenticated or not user.is_active:",
        "if not user.is_authenticated:",
    ),
    # Which parts each entry point uses.
    (
        "visible_to: trust admins see no case content",
        "visible_to",
        '["reporter", "head", "chair", "dsl", "governor", "trust_review"]',
        '["reporter", "head", "chair", "dsl", "governor", "trust_review", "trust_admin"]',
    ),
    ("owned_by: reporters own nothing", "owned_by", '["head", "chair", "dsl"]', '["reporter", "head", "chair", "dsl"]'),
    ("owned_by: governors own nothing", "owned_by", '["head", "chair", "dsl"]', '["head", "chair", "dsl", "governor"]'),
    ("under_review_for: governors only", "under_review_for", '["governor"]', '["governor", "chair"]'),
]


def mutated(method: str, old: str, new: str):
    """The method of IncidentQuerySet with `old` replaced by `new` in its source, exec'd in a copy
    of incidents.models' namespace (so the mutant sees the same names the real code does)."""
    source = textwrap.dedent(inspect.getsource(getattr(IncidentQuerySet, method)))
    assert source.count(old) == 1, f"mutant text not found once in IncidentQuerySet.{method}: {old!r}"
    namespace = dict(vars(incident_models))
    exec(compile(source.replace(old, new), f"<mutant of {method}>", "exec"), namespace)  # noqa: S102
    # `_rules` is a staticmethod: exec'ing its decorated source gives the staticmethod object.
    return IncidentQuerySet.__dict__[method].__class__ is staticmethod, namespace[method]


def _inactive_head_sees_nothing(w):
    w.helen.is_active = False
    try:
        leaked = Incident.objects.visible_to(w.helen).exists() or Incident.objects.counted_for(w.helen).exists()
    finally:
        w.helen.is_active = True
    return ["an inactive head sees cases"] if leaked else []


def visibility_rows(w):
    """The matrix rows a visibility guard can change: every case page (the detail first, the sole
    guard rows before all), every list and counter, every person page."""
    sole = set(SOLE_GUARD.values())
    cases = [r for r in case_rows(w) if r.label.startswith("incidents:detail")]
    cases.sort(key=lambda r: (r.actor, r.case) not in sole)
    pages = [r for r in page_rows(w) if r.shows is not None or r.count]
    return cases + pages + person_rows(w, ACTORS)


def test_every_guard_mutant_is_killed_by_the_matrix(world, monkeypatch):
    rows = visibility_rows(world)
    # The rows pass on the real rule (the matrix test says so too); any problem here is the app's.
    baseline = set(run_rows(world, rows)) | set(_inactive_head_sees_nothing(world))
    assert not baseline, "the matrix's visibility rows fail on the real code:\n" + "\n".join(sorted(baseline))
    killed, survived = [], []
    for name, method, old, new in MUTANTS:
        with monkeypatch.context() as patch:
            _, function = mutated(method, old, new)
            patch.setattr(IncidentQuerySet, method, function)
            problems = _inactive_head_sees_nothing(world) or run_rows(world, rows, stop_at_first=True)
        (killed if problems else survived).append(name)
        if problems:
            print(f"killed  {name}: {problems[0]}")
        else:
            print(f"SURVIVED {name}")
    print(f"\nvisibility mutants killed: {len(killed)}/{len(MUTANTS)}")
    assert not survived, f"mutants the matrix did not kill: {survived}"


def test_the_mutants_change_the_rule():
    """Each mutant's edited source really differs and compiles (a no-op mutant proves nothing)."""
    for _name, method, old, new in MUTANTS:
        is_static, function = mutated(method, old, new)
        assert callable(function) or is_static
        assert old != new
