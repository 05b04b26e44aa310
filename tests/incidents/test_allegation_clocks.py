"""Allegation clocks (KCSIE part four, [8] item 5): each clock on the school's working-day calendar, with
its reason; fired by the real sweep (reminder, overdue, escalation), stopped when met or when the route
changes; the owner's records through the table; the case age and its target band on the case page."""

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse

from incidents import allegations, clocks, emails, services
from incidents.deadlines import LONDON
from incidents.errors import Invalid, NotAllowed, RequirementMissing
from incidents.models import (
    Category,
    Deadline,
    DeadlineKind,
    DeadlineState,
    Incident,
    Involved,
    Notification,
    Platform,
    ReferralKind,
    Route,
    SchoolClosure,
    Severity,
    Status,
    TimelineEntry,
    TimelineKind,
)
from tests.incidents.factories import fast_passwords, fresh, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

REPORT, FORMAL, HEARING = DeadlineKind.INVESTIGATION_REPORT, DeadlineKind.FORMAL_ACTION_DECISION, DeadlineKind.HEARING
HARM_NO = dict.fromkeys(("harm_harmed_child", "harm_offence", "harm_risk_to_children", "harm_unsuitable"), False)
SECRET = "CANARY-ALLEGATION messages sent to a pupil late at night"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def _allegation(cast, *, now=None):
    """A concern about Sam, reported by Dina on Mon 18 May 2026, triaged onto the allegation route (the
    LADO referral recorded, so that clock is out of the way)."""
    now = now or at("2026-05-18 10:00")
    incident = services.incident_report(
        reporter=cast.dina,
        school=cast.oakfield,
        category=Category.STAFF_CONDUCT,
        platform=Platform.FACEBOOK,
        description=SECRET,
        seen_at=now,
        involved=Involved.STAFF,
        subject=cast.sam,
        child_at_risk=False,
        now=now,
    )
    services.incident_acknowledge(incident=fresh(incident), actor=cast.helen, now=now)
    services.incident_triage(
        incident=fresh(incident),
        actor=cast.helen,
        severity=Severity.HIGH,
        **{**HARM_NO, "harm_unsuitable": True},
        harm_reason="Messages to a pupil.",
        now=now,
    )
    services.incident_start_investigation(incident=fresh(incident), actor=cast.helen, now=now)
    services.referral_record(
        incident=fresh(incident), actor=cast.helen, kind=ReferralKind.LADO, made_on=now.date(), now=now
    )
    incident = fresh(incident)
    assert incident.route == Route.ALLEGATION
    return incident


@pytest.fixture
def closure(cast):
    # Mon 25 May 2026 is the Spring Bank Holiday (England); the school adds an INSET day on Wed 27 May.
    return SchoolClosure.objects.create(school=cast.oakfield, date=date(2026, 5, 27), label="INSET day")


def _rows(incident, kind):
    return {
        d.data["step"]: d for d in Deadline.objects.filter(incident=incident, kind=kind).order_by("generation", "pk")
    }


def _decide(cast, incident, day=date(2026, 5, 20), now=None):
    return allegations.allegation_decide_to_investigate(
        incident=fresh(incident), actor=cast.helen, decided_on=day, now=now or at(f"{day} 15:00")
    )


# --- Each clock on the working-day calendar, with its reason -------------------------------------------


def test_the_investigation_report_is_due_ten_working_days_after_the_decision(cast, closure):
    incident = _allegation(cast)
    deadline = _decide(cast, incident)
    # Thu 21, Fri 22, (weekend, bank holiday Mon 25) Tue 26, (INSET Wed 27) Thu 28, Fri 29, Mon 1 … Fri 5 Jun.
    assert deadline.due_at == at("2026-06-05 17:00")
    assert deadline.reason == (
        "due Fri 5 Jun 17:00 — 10 working days after the decision to investigate on Wed 20 May "
        "(PolicyHub's target; not confirmed in KCSIE 2025); skipped Mon 25 May (bank holiday: Spring Bank Holiday "
        "(England)), Wed 27 May (school closure: INSET day)"
    )
    rows = _rows(incident, REPORT)
    assert rows["reminder"].due_at == at("2026-06-04 17:00")  # a working day before
    assert rows["escalation"].due_at == at("2026-06-08 17:00")  # a working day after (weekend between)
    assert {r.state for r in rows.values()} == {DeadlineState.PENDING}
    entry = TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.CLOCK).last()
    assert entry.actor == cast.helen and entry.internal and "Decision to investigate" in entry.note


def test_the_decision_on_formal_action_is_due_three_working_days_after_the_report(cast, closure):
    incident = _allegation(cast)
    _decide(cast, incident)
    formal = allegations.allegation_report_received(
        incident=fresh(incident), actor=cast.helen, received_on=date(2026, 5, 22), now=at("2026-05-22 12:00")
    )
    # Fri 22 → Tue 26 (bank holiday Mon 25), Thu 28 (INSET Wed 27), Fri 29.
    assert formal.due_at == at("2026-05-29 17:00")
    assert formal.reason.startswith(
        "due Fri 29 May 17:00 — 3 working days after the investigation report on Fri 22 May "
        "(KCSIE part four, timescales for allegations); skipped"
    )
    assert "Mon 25 May (bank holiday" in formal.reason and "Wed 27 May (school closure: INSET day)" in formal.reason
    # The report's clock is met: its deadline done, its reminder and escalation will never fire.
    rows = _rows(incident, REPORT)
    assert rows["due"].state == DeadlineState.DONE and rows["due"].data["met_on"] == "2026-05-22"
    assert rows["reminder"].state == rows["escalation"].state == DeadlineState.CANCELLED


def test_a_needed_hearing_is_due_fifteen_working_days_after_the_decision(cast, closure):
    incident = _allegation(cast)
    _decide(cast, incident)
    allegations.allegation_report_received(
        incident=fresh(incident), actor=cast.helen, received_on=date(2026, 5, 22), now=at("2026-05-22 12:00")
    )
    hearing = allegations.allegation_formal_action(
        incident=fresh(incident),
        actor=cast.helen,
        needed=True,
        decided_on=date(2026, 5, 26),
        now=at("2026-05-26 09:30"),
    )
    # Tue 26 → (INSET Wed 27) Thu 28 (1), Fri 29 (2), Mon 1 Jun (3) … Fri 12 (12), Mon 15 … Wed 17 (15).
    assert hearing.due_at == at("2026-06-17 17:00")
    assert hearing.reason.startswith(
        "due Wed 17 Jun 17:00 — 15 working days after the decision that a hearing is needed on Tue 26 May"
    )
    assert "Wed 27 May (school closure: INSET day)" in hearing.reason
    assert _rows(incident, FORMAL)["due"].state == DeadlineState.DONE
    held = allegations.allegation_hearing_held(
        incident=fresh(incident), actor=cast.helen, held_on=date(2026, 6, 10), now=at("2026-06-10 16:00")
    )
    assert held.state == DeadlineState.DONE
    assert clocks.deadlines_sweep(now=at("2026-07-01 09:00")) == 0  # nothing left to fire


def test_no_formal_action_needs_no_hearing(cast):
    incident = _allegation(cast)
    _decide(cast, incident)
    allegations.allegation_report_received(
        incident=fresh(incident), actor=cast.helen, received_on=date(2026, 5, 22), now=at("2026-05-22 12:00")
    )
    assert (
        allegations.allegation_formal_action(
            incident=fresh(incident),
            actor=cast.helen,
            needed=False,
            decided_on=date(2026, 5, 22),
            now=at("2026-05-22 13:00"),
        )
        is None
    )
    assert _rows(incident, FORMAL)["due"].state == DeadlineState.DONE
    assert not Deadline.objects.filter(incident=incident, kind=HEARING).exists()
    with pytest.raises(RequirementMissing, match="hearing is needed"):
        allegations.allegation_hearing_held(
            incident=fresh(incident), actor=cast.helen, held_on=date(2026, 5, 22), now=at("2026-05-22 14:00")
        )


# --- Fired by the real sweep ------------------------------------------------------------------------------


def _sent(kind):
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__email", flat=True))


def test_the_sweep_reminds_then_marks_overdue_then_escalates_once_each(cast, closure):
    incident = _allegation(cast)
    _decide(cast, incident)
    rows = _rows(incident, REPORT)
    assert clocks.deadlines_sweep(now=at("2026-06-04 16:59")) == 0
    assert clocks.deadlines_sweep(now=at("2026-06-04 17:00")) == 1
    assert _sent("allegation_reminder") == [cast.helen.email]
    assert clocks.deadlines_sweep(now=at("2026-06-05 17:00")) == 1
    assert _sent("allegation_overdue") == [cast.helen.email]
    overdue = TimelineEntry.objects.get(incident=incident, kind=TimelineKind.OVERDUE)
    assert overdue.note == "The investigation report was not recorded by its deadline (Fri 5 Jun 17:00)."
    assert clocks.deadlines_sweep(now=at("2026-06-08 17:00")) == 1
    # The chair of governors and, Oakfield being a trust school, the trust admin; never the subject.
    assert _sent("allegation_escalation") == [cast.carol.email]
    assert _sent("allegation_escalation_trust") == [cast.tom.email]
    escalated = TimelineEntry.objects.get(incident=incident, kind=TimelineKind.ESCALATED)
    assert "escalated to the chair of governors and the trust" in escalated.note
    # A second sweep, a minute later and a week later, fires nothing again.
    assert clocks.deadlines_sweep(now=at("2026-06-08 17:01")) == 0
    assert clocks.deadlines_sweep(now=at("2026-06-15 09:00")) == 0
    assert {r.state for r in Deadline.objects.filter(pk__in=[r.pk for r in rows.values()])} == {DeadlineState.FIRED}
    assert not Notification.objects.filter(recipient=cast.sam).exclude(kind__in=["acknowledged"]).exists()
    # The emails say which clock and when, never the report or the names in it.
    for notification in Notification.objects.filter(kind__startswith="allegation_"):
        subject, body = emails.build(notification)
        assert incident.reference in subject
        assert "investigation report" in subject + body
        for secret in (SECRET, "Sam Taylor", "Dina Shah"):
            assert secret not in subject + body


def test_a_report_recorded_late_is_marked_met_late_and_stops_the_escalation(cast, closure):
    incident = _allegation(cast)
    _decide(cast, incident)
    clocks.deadlines_sweep(now=at("2026-06-05 17:00"))  # reminder and overdue
    allegations.allegation_report_received(
        incident=fresh(incident), actor=cast.helen, received_on=date(2026, 6, 5), now=at("2026-06-05 17:30")
    )
    rows = _rows(incident, REPORT)
    assert rows["due"].state == DeadlineState.FIRED and rows["due"].data["late"] is True
    assert rows["escalation"].state == DeadlineState.CANCELLED
    assert clocks.deadlines_sweep(now=at("2026-06-08 17:00")) == 0
    assert not Notification.objects.filter(kind="allegation_escalation").exists()


def test_met_in_time_nothing_fires(cast):
    incident = _allegation(cast)
    _decide(cast, incident)
    allegations.allegation_report_received(
        incident=fresh(incident), actor=cast.helen, received_on=date(2026, 6, 1), now=at("2026-06-01 10:00")
    )
    allegations.allegation_formal_action(
        incident=fresh(incident),
        actor=cast.helen,
        needed=False,
        decided_on=date(2026, 6, 2),
        now=at("2026-06-02 10:00"),
    )
    assert clocks.deadlines_sweep(now=at("2026-07-01 10:00")) == 0
    assert not Notification.objects.filter(kind__startswith="allegation_").exists()


def test_a_route_change_cancels_the_clocks_with_the_reason(cast):
    incident = _allegation(cast)
    _decide(cast, incident)
    services.incident_triage(
        incident=fresh(incident),
        actor=cast.helen,
        severity=Severity.MEDIUM,
        route=Route.BREACH,
        **HARM_NO,
        harm_reason="The LADO advised it does not meet the harm threshold.",
        now=at("2026-05-21 10:00"),
    )
    rows = _rows(incident, REPORT)
    assert {r.state for r in rows.values()} == {DeadlineState.CANCELLED}
    assert rows["due"].data["stopped"] == "the route changed to “Policy breach”"
    note = TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.CLOCK).last().note
    assert note == "Allegation clocks stopped (the investigation report): the route changed to “Policy breach”."
    assert clocks.deadlines_sweep(now=at("2026-06-30 10:00")) == 0
    assert not Notification.objects.filter(kind__startswith="allegation_").exists()


def test_a_case_closed_meanwhile_sends_nothing(cast):
    incident = _allegation(cast)
    _decide(cast, incident)
    Incident.objects.filter(pk=incident.pk).update(status=Status.CLOSED)
    assert clocks.deadlines_sweep(now=at("2026-06-08 17:00")) == 3  # fired for the record, nothing said
    assert not Notification.objects.filter(kind__startswith="allegation_").exists()
    assert not TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.OVERDUE).exists()


# --- The table's checks and bad input ---------------------------------------------------------------------


def test_records_follow_the_order_and_the_route(cast):
    incident = _allegation(cast)
    with pytest.raises(RequirementMissing, match="decision to investigate first"):
        allegations.allegation_report_received(
            incident=fresh(incident), actor=cast.helen, received_on=date(2026, 5, 19), now=at("2026-05-19 10:00")
        )
    with pytest.raises(RequirementMissing, match="investigation report first"):
        allegations.allegation_formal_action(
            incident=fresh(incident),
            actor=cast.helen,
            needed=True,
            decided_on=date(2026, 5, 19),
            now=at("2026-05-19 10:00"),
        )
    _decide(cast, incident)
    with pytest.raises(RequirementMissing, match="recorded already"):
        _decide(cast, incident, now=at("2026-05-20 16:00"))
    for person in (cast.sam, cast.gary, cast.carol, cast.dina):  # the subject, governors, the reporter
        with pytest.raises(NotAllowed):
            allegations.allegation_report_received(
                incident=fresh(incident), actor=person, received_on=date(2026, 5, 21), now=at("2026-05-21 10:00")
            )
    assert Deadline.objects.filter(incident=incident, kind=REPORT).count() == 3  # nothing more


def test_a_case_on_another_route_has_no_allegation_clocks(cast):
    incident = _allegation(cast)
    Incident.objects.filter(pk=incident.pk).update(route=Route.LOW_LEVEL)
    with pytest.raises(RequirementMissing, match="allegation route"):
        _decide(cast, incident)


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (date(2026, 5, 21), "cannot be in the future"),
        (date(2026, 5, 17), "cannot be before 18 May 2026"),
        (None, "Please give the date"),
    ],
)
def test_a_bad_date_is_refused_and_changes_nothing(cast, day, message):
    incident = _allegation(cast)
    entries = TimelineEntry.objects.filter(incident=incident).count()
    with pytest.raises(Invalid, match=message):
        allegations.allegation_decide_to_investigate(
            incident=fresh(incident), actor=cast.helen, decided_on=day, now=at("2026-05-20 15:00")
        )
    assert not Deadline.objects.filter(incident=incident, kind=REPORT).exists()
    assert TimelineEntry.objects.filter(incident=incident).count() == entries


def test_a_report_dated_before_the_decision_is_refused(cast):
    incident = _allegation(cast)
    _decide(cast, incident)
    with pytest.raises(Invalid, match="cannot be before 20 May 2026"):
        allegations.allegation_report_received(
            incident=fresh(incident), actor=cast.helen, received_on=date(2026, 5, 19), now=at("2026-05-21 10:00")
        )
    assert _rows(incident, REPORT)["due"].state == DeadlineState.PENDING


# --- Case age bands ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 1, 31), date(2026, 2, 28), "within one month"),  # 31 Jan + 1 month: the end of February
        (date(2026, 1, 31), date(2026, 3, 1), "within three months"),
        (date(2026, 3, 15), date(2026, 4, 15), "within one month"),
        (date(2026, 3, 15), date(2026, 4, 16), "within three months"),
        (date(2026, 3, 15), date(2026, 6, 15), "within three months"),
        (date(2026, 3, 15), date(2026, 6, 16), "within twelve months"),
        (date(2025, 3, 15), date(2026, 3, 15), "within twelve months"),
        (date(2025, 3, 15), date(2026, 3, 16), "beyond twelve months"),
        (date(2026, 3, 15), date(2026, 3, 15), "within one month"),
    ],
)
def test_case_age_bands_at_their_boundaries(start, end, expected):
    assert allegations.band(start, end) == expected


# --- Through the pages ---------------------------------------------------------------------------------


def test_the_owner_records_through_the_table_and_sees_the_clocks(client, cast, closure):
    incident = _allegation(cast, now=datetime.now(LONDON) - timedelta(days=3))
    sign_in(client, cast.helen)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert "Allegation clocks" in page and "Record the decision to investigate" in page
    assert "Case age: 3 days — within one month" in page
    url = reverse("incidents:decide_to_investigate", args=[incident.reference])
    bad = client.post(url, {"decide_to_investigate-decided_on": (date.today() + timedelta(days=2)).isoformat()})
    assert bad.status_code == 400 and "cannot be in the future" in bad.content.decode()
    assert not Deadline.objects.filter(incident=incident, kind=REPORT).exists()
    ok = client.post(url, {"decide_to_investigate-decided_on": date.today().isoformat()})
    assert ok.status_code == 302
    deadline = _rows(incident, REPORT)["due"]
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert "Investigation report" in page and "10 working days after the decision to investigate" in page
    assert "running" in page
    # The subject has no page; a governor gets no form either.
    sign_in(client, cast.sam)
    assert client.get(reverse("incidents:detail", args=[incident.reference])).status_code == 404
    sign_in(client, cast.gary)
    assert (
        client.post(reverse("incidents:record_investigation_report", args=[incident.reference]), {}).status_code == 404
    )
    assert _rows(incident, REPORT)["due"].pk == deadline.pk


def test_a_case_on_another_route_shows_no_allegation_section(client, cast):
    incident = _allegation(cast, now=datetime.now(LONDON) - timedelta(days=1))
    Incident.objects.filter(pk=incident.pk).update(route=Route.BREACH)
    sign_in(client, cast.helen)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert "Allegation clocks" not in page and "Record the decision to investigate" not in page


def test_two_roles_at_once_one_message_and_never_the_subject(cast, closure):
    from accounts.models import Membership, Role

    # Carol is chair and trust admin: one escalation, as the chair. Sam, the subject, is also a governor
    # and the DSL: nothing, whatever he holds.
    Membership.objects.create(user=cast.carol, school=cast.oakfield, role=Role.TRUST_ADMIN)
    Membership.objects.create(user=cast.sam, school=cast.oakfield, role=Role.GOVERNOR)
    Membership.objects.create(user=cast.sam, school=cast.oakfield, role=Role.DSL)
    incident = _allegation(cast)
    _decide(cast, incident)
    clocks.deadlines_sweep(now=at("2026-06-08 17:00"))
    assert _sent("allegation_escalation") == [cast.carol.email]
    assert _sent("allegation_escalation_trust") == [cast.tom.email]
    assert not Notification.objects.filter(recipient=cast.sam, kind__startswith="allegation_").exists()


def test_the_owner_page_of_an_allegation_case_does_not_grow_with_the_school(client, cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.incidents.factories import IncidentFactory

    incident = _allegation(cast, now=datetime.now(LONDON) - timedelta(days=2))
    _decide(cast, incident, day=date.today(), now=datetime.now(LONDON))
    sign_in(client, cast.helen)
    url = reverse("incidents:detail", args=[incident.reference])
    counts = []
    for size in (5, 80):
        while Incident.objects.count() < size:
            IncidentFactory(
                school=cast.oakfield,
                reporter=cast.dina,
                route=Route.ALLEGATION,
                involved=Involved.STAFF,
                subject=cast.sam,
            )
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_closed_case_says_its_clock_was_not_met(client, cast):
    incident = _allegation(cast, now=datetime.now(LONDON) - timedelta(days=2))
    _decide(cast, incident, day=date.today(), now=datetime.now(LONDON))
    Incident.objects.filter(pk=incident.pk).update(status=Status.CLOSED)
    sign_in(client, cast.helen)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert "not met before the case was closed" in page


GARBAGE = ["", "soon", "2026-13-01", "2026-02-30", "9999-99-99", "<script>x</script>", "1e9", "2026-05-20" * 50]


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_in_each_record_is_a_form_error_and_changes_nothing(client, cast, garbage):
    incident = _allegation(cast, now=datetime.now(LONDON) - timedelta(days=3))
    today = date.today().isoformat()
    sign_in(client, cast.helen)
    posts = [
        ("decide_to_investigate", {"decided_on": garbage}),
        ("record_investigation_report", {"received_on": garbage}),
        ("record_formal_action", {"needed": garbage, "decided_on": today}),
        ("record_formal_action", {"needed": "yes", "decided_on": garbage}),
        ("record_hearing_held", {"held_on": garbage}),
    ]
    for name, data in posts:
        url = reverse(f"incidents:{name}", args=[incident.reference])
        response = client.post(url, {f"{name}-{k}": v for k, v in data.items()})
        assert response.status_code == 400, (name, data, response.status_code)
        assert "<script>x</script>" not in response.content.decode()
    assert not Deadline.objects.filter(incident=incident, kind__in=[REPORT, FORMAL, HEARING]).exists()
    assert not TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.CLOCK).exists()
