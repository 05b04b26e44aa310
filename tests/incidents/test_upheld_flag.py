"""Incident.upheld, which the governors' relation reads (incidents/access.py), says what the reviews
say: the case has a review that upholds it. Checked on every path that decides a review or moves a
decided case, on every way a review row is made, and on the migration that filled it in."""

import importlib

import pytest
from django.apps import apps
from django.db.models import Exists, OuterRef, Q

from incidents import services
from incidents.models import GovernorReview, Incident, Outcome, ReviewDecision, Status
from tests.incidents.factories import IncidentFactory, advance, fresh, report

pytestmark = pytest.mark.django_db


def closed_cases(cast) -> dict:
    return {"school": cast.oakfield, "reporter": cast.sam, "status": Status.CLOSED, "outcome": Outcome.PARENT_ASKED}


def upholding(case) -> bool:
    return GovernorReview.objects.filter(incident=case, decision=ReviewDecision.UPHOLD).exists()


def the_reviews_rule(user):
    """The governors' relation as it was written before the flag: closed with an upholding review
    (an EXISTS on the reviews), or in review; at the schools where `user` is governor or chair."""
    schools = user.memberships.filter(role__in=["governor", "chair"]).values("school")
    upheld = Exists(GovernorReview.objects.filter(incident=OuterRef("pk"), decision=ReviewDecision.UPHOLD))
    rule = Q(status=Status.GOVERNOR_REVIEW) | (Q(status=Status.CLOSED) & Q(upheld))
    return set(Incident.objects.filter(rule, school__in=schools).exclude(subject=user).values_list("pk", flat=True))


def in_step(case, cast, *, upheld: bool, listed: bool) -> None:
    case = fresh(case)
    assert case.upheld is upheld
    assert upholding(case) is upheld
    listed_now = set(Incident.objects.under_review_for(cast.gary).values_list("pk", flat=True))
    assert (case.pk in listed_now) is listed
    assert listed_now == the_reviews_rule(cast.gary)


def test_every_decision_and_later_move_keeps_the_flag_and_the_governors_list_in_step(cast):
    case = advance(report(cast.oakfield, cast.sam), Status.GOVERNOR_REVIEW, cast, outcome=Outcome.PARENT_ASKED)
    in_step(case, cast, upheld=False, listed=True)
    # Referred back: a review, but no upholding one.
    services.incident_governor_decide(
        incident=fresh(case), actor=cast.gary, decision=ReviewDecision.REFER_BACK, comment="Ask the parent again."
    )
    in_step(case, cast, upheld=False, listed=False)
    # Back to the board, upheld and closed: on the list.
    advance(case, Status.GOVERNOR_REVIEW, cast, outcome=Outcome.PARENT_ASKED)
    in_step(case, cast, upheld=False, listed=True)
    decided = fresh(case)
    services.incident_governor_decide(incident=decided, actor=cast.gary, decision=ReviewDecision.UPHOLD)
    assert decided.upheld  # the service's copy of the case too
    in_step(case, cast, upheld=True, listed=True)
    # Reopened: the upheld review stays on record, the case leaves the list while open...
    services.incident_reopen(incident=fresh(case), actor=cast.helen, reason="New posts appeared.")
    in_step(case, cast, upheld=True, listed=False)
    # ...and closed again without the board (no breach this time), it is back on the list, as the
    # rule on the reviews says.
    services.incident_propose_outcome(
        incident=fresh(case), actor=cast.helen, outcome=Outcome.NO_BREACH, reason="The posts were not staff's."
    )
    services.incident_close(incident=fresh(case), actor=cast.helen)
    in_step(case, cast, upheld=True, listed=True)


def test_a_review_made_directly_marks_its_case_as_the_service_does(cast):
    closed = closed_cases(cast)
    one, other, refused, *many = IncidentFactory.create_batch(6, **closed)
    review = GovernorReview.objects.create(incident=one, decision=ReviewDecision.UPHOLD, decided_by=cast.gary)
    assert one.upheld and review.incident.upheld and fresh(one).upheld
    # By id only (no case object held): the row is marked all the same.
    GovernorReview.objects.create(incident_id=other.pk, decision=ReviewDecision.UPHOLD, decided_by=cast.gary)
    assert fresh(other).upheld
    # A referral back marks nothing.
    GovernorReview.objects.create(
        incident=refused, decision=ReviewDecision.REFER_BACK, comment="Why?", decided_by=cast.gary
    )
    assert not fresh(refused).upheld
    GovernorReview.objects.bulk_create(
        GovernorReview(incident=case, decision=ReviewDecision.UPHOLD, decided_by=cast.gary) for case in many
    )
    assert all(fresh(case).upheld for case in many)
    for case in (one, other, refused, *many):
        assert fresh(case).upheld is upholding(case)
    assert set(Incident.objects.under_review_for(cast.gary).values_list("pk", flat=True)) == {
        one.pk,
        other.pk,
        *(case.pk for case in many),
    }


def test_the_migration_marks_the_cases_upheld_before_the_flag_existed(cast):
    closed = closed_cases(cast)
    upheld, referred_back, undecided = IncidentFactory.create_batch(3, **closed)
    GovernorReview.objects.create(incident=upheld, decision=ReviewDecision.UPHOLD, decided_by=cast.gary)
    GovernorReview.objects.create(
        incident=referred_back, decision=ReviewDecision.REFER_BACK, comment="Why?", decided_by=cast.gary
    )
    Incident.objects.update(upheld=False)  # as the rows were before 0021
    migration = importlib.import_module("incidents.migrations.0022_backfill_incident_upheld")
    migration.mark_upheld(apps, None)
    assert [fresh(c).upheld for c in (upheld, referred_back, undecided)] == [True, False, False]
