"""The two readings of the access rule agree (incidents/access.py): across the whole cast and cases
in every state and route, a case is in `visible_to(user)` exactly when `case_roles(user, case)` is
not empty, and likewise for every other entry point and every single relation.

The cast is the access matrix's world (tests/security/conftest.py: every role, people with two
roles at once and at two schools, a head who is the subject, a governor who declared a conflict,
the DPO, trust admins, a review the trust decides) plus a former member of staff who reported a
case, a former governor, an inactive head, a case referred back by the board and one reopened
after an upheld review. Then the next Celery sweep runs a day later (every response deadline
missed: escalations to the chair) and the readings must still agree.

One database build; each person's querysets are evaluated once, the cases read one by one.
"""

from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Role, User
from incidents import access, assignments, clocks, services, transitions
from incidents.models import Category, GovernorReview, Incident, Involved, Outcome, ReviewDecision, Status
from incidents.transitions import OWNERS, CaseRole
from tests.factories import person
from tests.incidents.factories import advance, fresh, report

pytestmark = pytest.mark.django_db
upheld = Q(decision=ReviewDecision.UPHOLD)

ENTRY_POINTS = {
    "visible_to": access.VISIBLE,
    "owned_by": access.OWNED,
    "under_review_for": access.UNDER_REVIEW,
    "counted_for": access.COUNTED,
    "dpo_scope": access.DPO_SCOPE,
    "retention_scope": access.RETENTION,
    "figures_for": access.FIGURES,
}


def more_cast(w):
    """What the matrix's world lacks: former members, an inactive head, a case referred back by
    the board, a case reopened after an upheld review."""
    oak = w.oakfield
    # Fred reported a case while on the staff, then left the school: he still follows his report.
    w.fred = person("Fred Finch", oak, Role.STAFF)
    w.cases["fred_report"] = fresh(report(oak, w.fred))
    Membership.objects.filter(user=w.fred).delete()
    # Fay was a governor; her membership ended: no review is hers any more.
    w.fay = person("Fay Frost", oak, Role.GOVERNOR)
    Membership.objects.filter(user=w.fay).delete()
    # Ivan is head at Oakfield but his account is switched off: no relation to anything.
    w.ivan = person("Ivan Ives", oak, Role.HEAD)
    User.objects.filter(pk=w.ivan.pk).update(is_active=False)
    # Referred back by the board: investigating again, governors out until it comes back.
    back = advance(report(oak, w.sam), Status.GOVERNOR_REVIEW, w, outcome=Outcome.PARENT_ASKED)
    services.incident_governor_decide(
        incident=fresh(back), actor=w.gary, decision=ReviewDecision.REFER_BACK, comment="Ask the parent again."
    )
    w.cases["referred_back"] = fresh(back)
    # Upheld, then reopened by the head: investigating, with an upheld review on record.
    reopened = advance(report(oak, w.sam), Status.CLOSED, w, outcome=Outcome.PARENT_ASKED)
    assert GovernorReview.objects.filter(incident=reopened, decision=ReviewDecision.UPHOLD).exists()
    services.incident_reopen(incident=fresh(reopened), actor=w.helen, reason="New posts appeared.")
    w.cases["reopened_upheld"] = fresh(reopened)
    # A review the trust decided (Gary declared a conflict; Carol owns it, Hana is a head), referred
    # back by Tom: no longer in review, though the trust decided its last review.
    by_trust = advance(
        report(oak, w.sam, involved=Involved.STAFF, subject=w.helen, category=Category.STAFF_CONDUCT),
        Status.GOVERNOR_REVIEW,
        w,
    )
    services.incident_declare_conflict(incident=fresh(by_trust), actor=w.gary, reason="My neighbour.")
    assert fresh(by_trust).review_by_trust
    services.incident_governor_decide(
        incident=fresh(by_trust), actor=w.tom, decision=ReviewDecision.REFER_BACK, comment="Ask the parent."
    )
    w.cases["trust_referred_back"] = fresh(by_trust)
    # Lena was given a task on the parent's post, then left the school: the open task opens nothing.
    w.lena = person("Lena Lark", oak, Role.STAFF)
    due = clocks.school_calendar(oak).add_working_days(timezone.localdate(), 3)
    assignments.task_assign(incident=fresh(w.cases["parent"]), actor=w.helen, assignee=w.lena, title="x", due_on=due)
    Membership.objects.filter(user=w.lena).delete()


def filter_side(people) -> dict:
    """Per person: the cases each entry point and each single relation's filter gives."""
    out = {}
    for user in people:
        out[user.pk] = {
            name: set(getattr(Incident.objects, name)(user).values_list("pk", flat=True)) for name in ENTRY_POINTS
        }
        for row in access.RELATIONS:
            found = access.matching(Incident.objects.all(), user, [row.name]).values_list("pk", flat=True)
            out[user.pk][f"relation {row.name}"] = set(found)
    return out


def disagreements(people, cases, filters, *, stop_at_first=False, both_ways=True) -> list[str]:
    """Where the object side (relations, case_roles) disagrees with `filters` (filter_side)."""
    problems = []
    for user in people:
        found = filters[user.pk]
        roles_at: dict[int, frozenset] = {}
        for school_id, role in Membership.objects.filter(user=user).values_list("school_id", "role"):
            roles_at[school_id] = roles_at.get(school_id, frozenset()) | {role}
        for key, case in cases.items():
            here = roles_at.get(case.school_id, frozenset())
            rels = access.relations(user, case, here)
            roles = transitions.case_roles(user, case, here)
            who = f"{user.full_name} / {key}"
            # Without the school roles given, the same answer (read from the database).
            if both_ways and transitions.case_roles(user, case) != roles:
                problems.append(f"{who}: case_roles differs when it reads the roles itself")
            if (case.pk in found["visible_to"]) != bool(roles):
                problems.append(f"{who}: visible_to {case.pk in found['visible_to']} but case_roles {set(roles)}")
            if (case.pk in found["owned_by"]) != bool(roles & OWNERS):
                problems.append(f"{who}: owned_by {case.pk in found['owned_by']} but case_roles {set(roles)}")
            # The governors' list is the governors' relation; the trust deciding instead reads the
            # review (GOVERNOR) without it being on a governors' list.
            if (case.pk in found["under_review_for"]) != ("governor" in rels):
                problems.append(f"{who}: under_review_for disagrees with the governors' relation {set(rels)}")
            if (CaseRole.GOVERNOR in roles) != bool(rels & {"governor", "trust_review"}):
                problems.append(f"{who}: GOVERNOR role {set(roles)} but relations {set(rels)}")
            if CaseRole.DECIDER in roles and CaseRole.GOVERNOR not in roles:
                problems.append(f"{who}: decides a review they do not read")
            for name, rows in ENTRY_POINTS.items():
                if (case.pk in found[name]) != bool(rels & set(rows)):
                    problems.append(f"{who}: {name} {case.pk in found[name]} but relations {set(rels)}")
            for row in access.RELATIONS:
                if (case.pk in found[f"relation {row.name}"]) != (row.name in rels):
                    problems.append(f"{who}: relation {row.name}: filter {case.pk in found[f'relation {row.name}']}")
            if problems and stop_at_first:
                return problems
    return problems


def everyone_and_every_case(w):
    """The whole cast as stored (is_active included) and every case, read afresh."""
    return list(User.objects.order_by("pk")), {key: fresh(case) for key, case in w.cases.items()}


def _check(w):
    people, cases = everyone_and_every_case(w)
    # Both readings of the governors' relation read Incident.upheld: it says what the reviews say.
    out_of_step = [key for key, case in cases.items() if case.upheld != case.governor_reviews.filter(upheld).exists()]
    assert not out_of_step, out_of_step
    assert any(case.upheld for case in cases.values())
    problems = disagreements(people, cases, filter_side(people))
    assert not problems, "the two readings of the access rule disagree:\n" + "\n".join(problems)
    return people, cases


def test_the_filter_and_the_case_roles_agree_for_the_whole_cast_before_and_after_the_sweep(world):
    more_cast(world)
    people, cases = _check(world)
    # The cast really covers the relations and the guards (an agreement over nothing proves nothing).
    held = {name for user in people for case in cases.values() for name in access.relations(user, case)}
    assert held == set(access.BY_NAME)
    statuses = {c.status for c in cases.values()}
    assert statuses >= {Status.SUBMITTED, Status.OUTCOME_PROPOSED, Status.GOVERNOR_REVIEW, Status.CLOSED}
    assert any(c.review_by_trust for c in cases.values())
    # The subject is excluded even where a relation's predicate alone would hold (Dina, the DSL).
    dina, about_dina = world.dina, cases["about_dina"]
    assert access.BY_NAME["dsl"].holds(dina, access.Case(about_dina, frozenset({Role.DSL})))
    assert access.relations(dina, about_dina) == frozenset()
    # The former member follows his report, and only that; the inactive head and former governor: nothing.
    assert set(Incident.objects.visible_to(world.fred)) == {cases["fred_report"]}
    assert not Incident.objects.counted_for(User.objects.get(pk=world.ivan.pk)).exists()
    assert not Incident.objects.counted_for(world.fay).exists()
    # Tasks: an open one opens its case (Rita; Sam, who reported it, too); a completed or cancelled
    # one, one held by a head or DSL on a case about a head, by someone of another school or by a
    # leaver, nothing.
    # (Rita also reported the two reports merged into other cases: those stay hers.)
    rita_reported = {cases["merged"], cases["merged_escalated"]}
    assert set(Incident.objects.visible_to(world.rita)) == {cases["parent"], cases["about_helen"], *rita_reported}
    assert access.relations(world.sam, cases["child_at_risk"]) == {"reporter", "assignee"}
    assert not Incident.objects.visible_to(world.lena).exists()
    assert not access.relations(world.hana, cases["about_helen"])
    assert not access.relations(world.bethan, cases["parent"])

    # A day later Celery's sweep fires every reminder and missed response deadline: cases go to
    # the chair (escalated_at), which changes relations in both readings at once.
    escalated = Incident.objects.filter(escalated_at__isnull=False).count()
    assert clocks.deadlines_sweep(now=timezone.now() + timedelta(days=3)) > 0
    assert Incident.objects.filter(escalated_at__isnull=False).count() > escalated
    _check(world)
