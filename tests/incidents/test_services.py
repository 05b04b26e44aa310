"""Domain rules of the workflow services, called directly."""

import threading

import pytest
from django.db import connection

from incidents import services
from incidents.errors import NotAllowed, RequirementMissing, Stale, WrongState
from incidents.models import (
    Category,
    Deadline,
    DeadlineKind,
    DeadlineState,
    Incident,
    Involved,
    Outcome,
    ReferralKind,
    Route,
    Severity,
    Status,
)
from tests.incidents.factories import advance, fast_passwords, fresh, policy_for, report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

HARM_NO = dict.fromkeys(("harm_harmed_child", "harm_offence", "harm_risk_to_children", "harm_unsuitable"), False)


def _about_sam(cast):
    return report(cast.oakfield, cast.dina, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.sam)


def test_a_stale_copy_loses_to_the_conditional_update(cast):
    incident = report(cast.oakfield, cast.sam)
    mine, theirs = fresh(incident), fresh(incident)
    services.incident_acknowledge(incident=theirs, actor=cast.helen)
    with pytest.raises(Stale):
        services.incident_acknowledge(incident=mine, actor=cast.helen)
    assert fresh(incident).acknowledged_by == cast.helen
    assert incident.timeline.filter(kind="transition").count() == 1


def test_state_and_role_are_checked(cast):
    incident = report(cast.oakfield, cast.sam)
    with pytest.raises(NotAllowed):
        services.incident_acknowledge(incident=incident, actor=cast.sam)
    with pytest.raises(NotAllowed):
        services.incident_acknowledge(incident=incident, actor=cast.olive)
    with pytest.raises(WrongState):
        services.incident_start_investigation(incident=incident, actor=cast.helen)


def test_any_yes_to_the_harm_threshold_is_an_allegation_with_a_lado_clock(cast):
    incident = advance(_about_sam(cast), Status.TRIAGE, cast)
    services.incident_triage(
        incident=incident,
        actor=cast.helen,
        severity=Severity.HIGH,
        route=Route.LOW_LEVEL,
        **{**HARM_NO, "harm_unsuitable": True},
        harm_reason="Messages to a pupil at night.",
    )
    incident = fresh(incident)
    assert incident.route == Route.ALLEGATION and incident.harm_unsuitable is True
    assert Deadline.objects.filter(incident=incident, kind=DeadlineKind.LADO, state=DeadlineState.PENDING).exists()
    services.incident_start_investigation(incident=incident, actor=cast.helen)
    with pytest.raises(RequirementMissing, match="LADO"):
        services.incident_propose_outcome(
            incident=fresh(incident),
            actor=cast.helen,
            outcome=Outcome.FORMAL_DISCIPLINARY,
            reason="x",
            allegation_outcome="substantiated",
        )
    services.referral_record(
        incident=fresh(incident), actor=cast.helen, kind=ReferralKind.LADO, made_on=incident.received_at.date()
    )
    assert Deadline.objects.get(incident=incident, kind=DeadlineKind.LADO).state == DeadlineState.DONE
    with pytest.raises(services.Invalid, match="allegation outcome"):
        services.incident_propose_outcome(
            incident=fresh(incident), actor=cast.helen, outcome=Outcome.FORMAL_DISCIPLINARY, reason="x"
        )
    services.incident_propose_outcome(
        incident=fresh(incident),
        actor=cast.helen,
        outcome=Outcome.FORMAL_DISCIPLINARY,
        reason="x",
        allegation_outcome="substantiated",
    )
    assert fresh(incident).allegation_outcome == "substantiated"


def test_all_no_gives_the_chosen_route_and_needs_every_answer_and_a_reason(cast):
    incident = advance(_about_sam(cast), Status.TRIAGE, cast)
    with pytest.raises(services.Invalid):
        services.incident_triage(incident=incident, actor=cast.helen, severity=Severity.LOW, route=Route.LOW_LEVEL)
    with pytest.raises(services.Invalid):
        services.incident_triage(
            incident=incident, actor=cast.helen, severity=Severity.LOW, route=Route.LOW_LEVEL, **HARM_NO
        )
    services.incident_triage(
        incident=incident, actor=cast.helen, severity=Severity.LOW, route=Route.LOW_LEVEL, **HARM_NO, harm_reason="r"
    )
    assert fresh(incident).route == Route.LOW_LEVEL
    assert not Deadline.objects.filter(incident=incident, kind=DeadlineKind.LADO).exists()


def test_clauses_come_from_the_version_in_force_on_the_incident_date(cast):
    from datetime import date

    version = policy_for(cast.oakfield, effective=date(2025, 9, 1))
    other = policy_for(cast.brookside)
    incident = advance(report(cast.oakfield, cast.sam), Status.TRIAGE, cast)
    with pytest.raises(services.Invalid, match="in force"):
        services.incident_triage(
            incident=incident,
            actor=cast.helen,
            severity=Severity.LOW,
            route=Route.BREACH,
            clauses=[other.clauses.first()],
        )
    services.incident_triage(
        incident=incident,
        actor=cast.helen,
        severity=Severity.LOW,
        route=Route.BREACH,
        clauses=[version.clauses.first()],
    )
    incident = fresh(incident)
    assert incident.policy_version == version and list(incident.clauses.all()) == [version.clauses.first()]


def test_breach_goes_to_governors_and_non_breach_closes(cast):
    breach = advance(report(cast.oakfield, cast.sam), Status.OUTCOME_PROPOSED, cast)
    with pytest.raises(RequirementMissing):
        services.incident_close(incident=breach, actor=cast.helen)
    advice = advance(report(cast.oakfield, cast.sam), Status.OUTCOME_PROPOSED, cast, outcome=Outcome.ADVICE)
    with pytest.raises(RequirementMissing):
        services.incident_refer_to_governors(incident=advice, actor=cast.helen, summary="s")
    services.incident_refer_to_governors(incident=breach, actor=cast.helen, summary="s")
    assert Deadline.objects.filter(incident=breach, kind=DeadlineKind.GOVERNOR_REVIEW).exists()
    services.incident_governor_decide(incident=fresh(breach), actor=cast.gary, decision="uphold")
    assert Deadline.objects.get(incident=breach, kind=DeadlineKind.GOVERNOR_REVIEW).state == DeadlineState.DONE


def test_reopen_needs_a_reason_and_only_the_owner(cast):
    closed = advance(report(cast.oakfield, cast.sam), Status.CLOSED, cast, outcome=Outcome.ADVICE)
    with pytest.raises(services.Invalid):
        services.incident_reopen(incident=closed, actor=cast.helen, reason=" ")
    with pytest.raises(NotAllowed):
        services.incident_reopen(incident=closed, actor=cast.gary, reason="why")
    services.incident_reopen(incident=closed, actor=cast.helen, reason="New posts.")
    assert fresh(closed).status == Status.INVESTIGATING


def test_governors_lose_sight_of_a_reopened_case(cast):
    upheld = advance(report(cast.oakfield, cast.sam), Status.CLOSED, cast)
    assert Incident.objects.visible_to(cast.gary).filter(pk=upheld.pk).exists()
    services.incident_reopen(incident=upheld, actor=cast.helen, reason="More evidence.")
    assert not Incident.objects.visible_to(cast.gary).filter(pk=upheld.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_get_distinct_references(cast):
    """Eight reports at once: eight distinct references, none lost."""
    barrier = threading.Barrier(8)
    refs, errors = [], []

    def one():
        try:
            barrier.wait()
            refs.append(report(cast.oakfield, cast.sam).reference)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(refs)) == 8 and all(r.startswith("OAK-") for r in refs)
    assert Incident.objects.filter(reference__in=refs).count() == 8


def test_owners_are_prompted_for_the_referrals_the_category_needs(client, cast):
    from django.urls import reverse

    from tests.incidents.factories import sign_in

    incident = report(cast.oakfield, cast.sam, category=Category.ILLEGAL_CONTENT)
    sign_in(client, cast.helen)
    url = reverse("incidents:detail", args=[incident.reference])
    assert "refer it to the police" in client.get(url).content.decode()
    services.incident_acknowledge(incident=fresh(incident), actor=cast.helen)
    services.referral_record(
        incident=fresh(incident), actor=cast.helen, kind=ReferralKind.POLICE, made_on=incident.received_at.date()
    )
    assert "refer it to the police" not in client.get(url).content.decode()
