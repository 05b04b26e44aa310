"""Hand-computed fixtures for the governors' pack ([9]): Oakfield (England, its own term dates) in
the spring term 2026 and the autumn before it, seen on Mon 20 Apr 2026.

Oakfield's terms (its own TermDate rows):
  autumn 2025: 3 Sep - 19 Dec 2025, reported up to Sun 4 Jan 2026
  spring 2026: 5 Jan - 27 Mar 2026, reported up to Sun 12 Apr 2026
  summer 2026: 13 Apr - 22 Jul 2026

The cases (all at Oakfield unless said), with where each one counts:
  c1  received Mon 5 Jan 00:30 (spring's first half hour), parent's post, breach, parent asked;
      first response after 2 h (deadline 24 h): within. Upheld by the board 20 Jan. LADO referral
      made 5 Jan; a take-down requested 6 Jan, removed.
  c2  received Sun 4 Jan 23:30 (autumn's last half hour), cyberbullying, low-level; first response
      Mon 5 Jan 10:00 (10.5 h, in spring): counts in autumn. Upheld 6 Jan: a spring decision.
      Employer referral made 4 Jan: autumn.
  c3  received 10 Feb 09:00, about Gary (a governor), allegation; first response after 30 h (late),
      overdue and escalated; upheld in spring; police referral 11 Feb; LADO clock met 11 Feb.
      Never counted for Gary; counted for Carol (chair) and Tom (trust admin).
  c4  received 1 Mar 10:00, parent's post, no response, deadline 2 Mar 10:00 passed: overdue and
      escalated. Take-down requested 12 Apr, still waiting.
  c5  received Sun 12 Apr 22:00 (the Easter holiday, after spring's last day): spring; pupil's
      post; first response 13 Apr 06:00 (8 h): within. Referred back by the board 12 Apr 23:00.
  c6  received Mon 13 Apr 00:00: summer, not spring.
  c7  merged into c1 in spring: not counted (its survivor is).
  c8  at Brookside in spring: another school.
  c9  received Wed 3 Sep 2025 08:00: autumn's first morning.
  c10 received Tue 2 Sep 2025 23:59: the summer 2025 period, not autumn.
  c11 received 1 Oct 2025, allegation about Sam, investigating: autumn. Its investigation-report
      clock fell due 20 Feb 2026 and fired: missed in spring (its reminder step does not count).
"""

from datetime import date, datetime, timedelta
from unittest import mock

import pytest

from accounts.models import Role
from incidents.deadlines import LONDON
from incidents.models import (
    Category,
    Deadline,
    DeadlineKind,
    DeadlineState,
    GovernorReview,
    Involved,
    Outcome,
    Referral,
    ReferralKind,
    ReviewDecision,
    Route,
    Status,
    TakedownRequest,
    TakedownStatus,
)
from reporting.models import TermDate
from tests.incidents.factories import IncidentFactory

NOW = datetime(2026, 4, 20, 12, 0, tzinfo=LONDON)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def _at_time(when, make):
    with mock.patch("django.utils.timezone.now", return_value=when):
        return make()


def case(cast, received, *, school=None, responded_after=None, **fields):
    fields.setdefault("category", Category.PARENT_POST)
    made = IncidentFactory(
        school=school or cast.oakfield,
        reporter=cast.sam if school is None else cast.bethan,
        owner=cast.helen if school is None else cast.olive,
        received_at=received,
        seen_at=received,
        response_due_at=received + timedelta(hours=24),
        acknowledged_at=received + responded_after if responded_after is not None else None,
        **fields,
    )
    return made


def review(incident, decision, when, by):
    return _at_time(when, lambda: GovernorReview.objects.create(incident=incident, decision=decision, decided_by=by))


def oakfield_terms(school):
    for year, term, start, end in (
        (2025, "autumn", date(2025, 9, 3), date(2025, 12, 19)),
        (2026, "spring", date(2026, 1, 5), date(2026, 3, 27)),
        (2026, "summer", date(2026, 4, 13), date(2026, 7, 22)),
    ):
        TermDate.objects.create(school=school, year=year, term=term, starts_on=start, ends_on=end)


@pytest.fixture
def pack_cases(cast):
    oakfield_terms(cast.oakfield)
    c = {}
    c["c1"] = case(
        cast, at("2026-01-05 00:30"), responded_after=timedelta(hours=2), route=Route.BREACH,
        outcome=Outcome.PARENT_ASKED, status=Status.CLOSED,
    )  # fmt: skip
    c["c2"] = case(
        cast, at("2026-01-04 23:30"), responded_after=timedelta(hours=10, minutes=30), route=Route.LOW_LEVEL,
        category=Category.CYBERBULLYING, status=Status.CLOSED, outcome=Outcome.INFORMAL_ACTION,
    )  # fmt: skip
    c["c3"] = case(
        cast, at("2026-02-10 09:00"), responded_after=timedelta(hours=30), route=Route.ALLEGATION,
        category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.gary, status=Status.INVESTIGATING,
        overdue_at=at("2026-02-11 09:00"), escalated_at=at("2026-02-11 09:00"),
    )  # fmt: skip
    c["c4"] = case(cast, at("2026-03-01 10:00"), overdue_at=at("2026-03-02 10:00"), escalated_at=at("2026-03-02 10:00"))
    c["c5"] = case(cast, at("2026-04-12 22:00"), responded_after=timedelta(hours=8), category=Category.PUPIL_POST)
    c["c6"] = case(cast, at("2026-04-13 00:00"), responded_after=timedelta(hours=1))
    c["c7"] = case(cast, at("2026-02-01 10:00"), status=Status.MERGED, merged_into=c["c1"])
    c["c8"] = case(cast, at("2026-02-01 10:00"), school=cast.brookside, responded_after=timedelta(hours=1))
    c["c9"] = case(cast, at("2025-09-03 08:00"), responded_after=timedelta(hours=1))
    c["c10"] = case(cast, at("2025-09-02 23:59"), responded_after=timedelta(hours=1))
    c["c11"] = case(
        cast, at("2025-10-01 10:00"), responded_after=timedelta(hours=3), route=Route.ALLEGATION,
        category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.sam, status=Status.INVESTIGATING,
    )  # fmt: skip
    review(c["c1"], ReviewDecision.UPHOLD, at("2026-01-20 18:00"), cast.carol)
    review(c["c2"], ReviewDecision.UPHOLD, at("2026-01-06 18:00"), cast.carol)
    review(c["c3"], ReviewDecision.UPHOLD, at("2026-03-20 18:00"), cast.carol)
    review(c["c5"], ReviewDecision.REFER_BACK, at("2026-04-12 23:00"), cast.carol)
    Referral.objects.create(incident=c["c1"], kind=ReferralKind.LADO, made_on=date(2026, 1, 5), recorded_by=cast.helen)
    Referral.objects.create(
        incident=c["c2"], kind=ReferralKind.EMPLOYER, made_on=date(2026, 1, 4), recorded_by=cast.helen
    )
    Referral.objects.create(
        incident=c["c3"], kind=ReferralKind.POLICE, made_on=date(2026, 2, 11), recorded_by=cast.helen
    )
    for incident, day, status in (
        (c["c1"], date(2026, 1, 6), TakedownStatus.REMOVED),
        (c["c4"], date(2026, 4, 12), ""),
    ):
        TakedownRequest.objects.create(
            incident=incident,
            platform="facebook",
            url="https://example.org/post",
            requested_on=day,
            status=status or TakedownStatus.REQUESTED,
            outcome_on=day if status else None,
            requested_by=cast.helen,
        )
    Deadline.objects.create(
        incident=c["c3"], kind=DeadlineKind.LADO, due_at=at("2026-02-11 17:00"), state=DeadlineState.DONE
    )
    for step, due, state in (
        ("reminder", "2026-02-19 09:00", DeadlineState.FIRED),
        ("due", "2026-02-20 17:00", DeadlineState.FIRED),
    ):
        Deadline.objects.create(
            incident=c["c11"], kind=DeadlineKind.INVESTIGATION_REPORT, due_at=at(due), state=state, data={"step": step}
        )  # fmt: skip
    return c


__all__ = ["NOW", "Role", "at", "case", "oakfield_terms", "pack_cases", "review"]
