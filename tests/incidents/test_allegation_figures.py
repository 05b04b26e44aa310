"""Case-age figures for allegation cases in the governors' termly report ([8] item 5): computed in the
database (one aggregate, the same number of queries at two sizes), against hand-computed fixtures,
at the month boundaries and across the clock change, never counting a case about the viewer."""

import re
from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import allegations
from incidents.deadlines import LONDON
from incidents.models import (
    GovernorReview,
    Incident,
    Involved,
    ReviewDecision,
    Route,
    Status,
    TimelineEntry,
    TimelineKind,
)
from tests.incidents.factories import IncidentFactory, fast_passwords, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

SPRING_2026 = (date(2026, 1, 1), date(2026, 4, 1))
TODAY = date(2026, 4, 2)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def _case(cast, received, closed=None, *, route=Route.ALLEGATION, subject=None, status=None):
    incident = IncidentFactory(
        school=cast.oakfield,
        reporter=cast.dina,
        owner=cast.helen,
        received_at=received,
        route=route,
        involved=Involved.STAFF,
        subject=subject or cast.sam,
        status=status or (Status.CLOSED if closed else Status.INVESTIGATING),
    )
    if closed:
        # The timeline is append-only (PostgreSQL refuses an UPDATE): the entry is written at that time.
        with mock.patch("django.utils.timezone.now", return_value=closed):
            TimelineEntry.objects.create(
                incident=incident,
                kind=TimelineKind.TRANSITION,
                from_status=Status.OUTCOME_PROPOSED,
                to_status=Status.CLOSED,
            )
    return incident


@pytest.fixture
def fixtures(cast):
    """Spring term 2026, seen on Thu 2 Apr 2026 by the trust admin (who counts every Oakfield case)."""
    # Resolved in the term, by band (hand-computed):
    _case(cast, at("2025-12-31 10:00"), at("2026-01-31 16:00"))  # A: one month to the day: within one
    _case(cast, at("2026-01-31 10:00"), at("2026-02-28 16:00"))  # B: 31 Jan + 1 month = end Feb: within one
    _case(cast, at("2026-02-28 12:00"), at("2026-03-28 23:30"))  # L: 28 Mar local: within one
    _case(cast, at("2026-01-31 10:00"), at("2026-03-01 09:00"))  # C: within three
    _case(cast, at("2025-12-15 10:00"), at("2026-03-16 09:00"))  # D: a day past three months: within twelve
    _case(cast, at("2025-01-10 10:00"), at("2026-01-10 09:00"))  # E: twelve months to the day: within twelve
    _case(cast, at("2025-01-09 10:00"), at("2026-01-10 09:00"))  # F: beyond twelve months
    # Not resolved in the term:
    _case(cast, at("2025-09-01 10:00"), at("2025-10-01 10:00"))  # G: closed in the autumn
    # N: closed 23:30 UTC on 31 Mar, which is 00:30 on 1 Apr in London (summer time): the summer term.
    _case(cast, at("2026-03-20 10:00"), datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    _case(cast, at("2026-03-01 10:00"), at("2026-03-02 10:00"), route=Route.BREACH)  # J: not an allegation
    _case(cast, at("2026-03-01 10:00"), at("2026-03-02 10:00"), subject=cast.tom)  # K: about the viewer
    # Open now:
    _case(cast, at("2026-03-01 10:00"))  # H: 2 Apr is past 1 Apr: older than one month
    _case(cast, at("2026-03-02 10:00"))  # I: exactly one month today: not yet older
    _case(cast, at("2025-01-01 10:00"))  # O: older than twelve months
    _case(cast, at("2026-03-01 10:00"), route=Route.LOW_LEVEL)  # not an allegation
    _case(cast, at("2025-01-01 10:00"), subject=cast.tom)  # about the viewer


def test_the_termly_figures_match_the_hand_computed_fixtures(cast, fixtures):
    figures = allegations.termly_figures(cast.tom, *SPRING_2026, today=TODAY)
    assert figures.resolved == 7
    assert figures.resolved_within == [
        ("within one month", 80, 3, 43),
        ("within three months", 90, 4, 57),
        ("within twelve months", 100, 6, 86),
    ]
    assert figures.beyond == 1
    assert not figures.targets_met
    assert figures.open == 3
    assert figures.open_past == [
        ("older than one month", 2),
        ("older than three months", 1),
        ("older than twelve months", 1),
    ]
    # The summer term gets N, closed after midnight London time on 1 April.
    summer = allegations.termly_figures(cast.tom, date(2026, 4, 1), date(2026, 9, 1), today=TODAY)
    assert summer.resolved == 1 and summer.resolved_within[0][2] == 1


def test_the_database_agrees_with_the_rule_on_each_case(cast, fixtures):
    """Each resolved case alone: the SQL band equals allegations.band on its London dates."""
    tom = cast.tom
    for incident in Incident.objects.filter(route=Route.ALLEGATION, status=Status.CLOSED).exclude(subject=tom):
        closed = incident.timeline.get(to_status=Status.CLOSED).at
        expected = allegations.band(incident.received_at.astimezone(LONDON).date(), closed.astimezone(LONDON).date())
        others = Incident.objects.exclude(pk=incident.pk).filter(route=Route.ALLEGATION, status=Status.CLOSED)
        saved = list(others.values_list("pk", "route"))
        others.update(route=Route.BREACH)
        start = closed.astimezone(LONDON).date()
        figures = allegations.termly_figures(tom, start, date(start.year + 1, 1, 1), today=TODAY)
        Incident.objects.filter(pk__in=[pk for pk, _route in saved]).update(route=Route.ALLEGATION)
        counted = [n for _label, _t, n, _p in figures.resolved_within]
        got = next((label for (label, _t, n, _p) in figures.resolved_within if n == 1), "beyond twelve months")
        assert figures.resolved == 1 and got == expected, (incident.received_at, closed, counted)


def test_a_governor_never_counts_a_case_about_themselves(cast):
    # Governors count the cases they may count (counted_for): here, cases in the board's review.
    _case(cast, at("2026-03-01 10:00"), status=Status.GOVERNOR_REVIEW)
    _case(cast, at("2026-03-01 10:00"), status=Status.GOVERNOR_REVIEW, subject=cast.gary)
    assert allegations.termly_figures(cast.gary, *SPRING_2026, today=TODAY).open == 1
    assert allegations.termly_figures(cast.carol, *SPRING_2026, today=TODAY).open == 2


def _queries(user):
    with CaptureQueriesContext(connection) as queries:
        allegations.termly_figures(user, *SPRING_2026, today=TODAY)
    return len(queries)


def test_the_figures_take_the_same_queries_at_two_sizes(cast):
    sizes = []
    for n in (5, 60):
        while Incident.objects.count() < n:
            k = Incident.objects.count()
            _case(cast, at(f"2025-{k % 12 + 1:02d}-10 10:00"), at(f"2026-0{k % 3 + 1}-12 10:00") if k % 2 else None)
        sizes.append(_queries(cast.tom))
    assert sizes[0] == sizes[1] <= 2, sizes  # the viewer's memberships, and one aggregate


def test_the_governors_pack_shows_the_chair_the_figures_of_the_schools_cases(client, cast, fixtures):
    # The pack ([9], reporting/) counts the school's cases for governors and the chair (access.FIGURES),
    # never one about the viewer. Oakfield's own term dates make spring 2026 the fixtures' 1 Jan - 1 Apr.
    from reporting.models import TermDate

    TermDate.objects.create(
        school=cast.oakfield, year=2026, term="spring", starts_on=date(2026, 1, 1), ends_on=date(2026, 3, 27)
    )
    TermDate.objects.create(
        school=cast.oakfield, year=2026, term="summer", starts_on=date(2026, 4, 1), ends_on=date(2026, 7, 20)
    )
    upheld = [
        _case(cast, at("2026-02-02 10:00"), at("2026-02-20 10:00")),  # within one month
        _case(cast, at("2024-12-01 10:00"), at("2026-03-20 10:00")),  # beyond twelve months
    ]
    for incident in upheld:
        GovernorReview.objects.create(incident=incident, decision=ReviewDecision.UPHOLD, decided_by=cast.gary)
    sign_in(client, cast.carol)
    page = client.get(reverse("incidents:termly_report"), {"term": "2026-spring"}).content.decode()
    assert "Allegations against staff: case age against the targets" in page
    # The seven resolved in the term, K (about Tom, not Carol) and the two above: ten. Within one
    # month: A, B, L, K and the first above; within three, C too; within twelve, D and E too.
    cells = re.findall(r'<th scope="row" class="fw-normal">([^<]+)</th><td>([^<]+)</td>', page)
    figures = dict(cells)
    assert figures["Allegation cases resolved"] == "10"
    assert figures["Resolved within one month (target 80 %)"] == "5 (50 %)"
    assert figures["Resolved within three months (target 90 %)"] == "6 (60 %)"
    assert figures["Resolved within twelve months (all but the exceptional)"] == "8 (80 %)"
    assert figures["Resolved beyond twelve months"] == "2"
