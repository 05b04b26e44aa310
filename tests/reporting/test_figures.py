"""The pack's figures against hand-computed fixtures (tests/reporting/fixtures.py): term boundaries
(a case received in the last half hour of a term, one answered in the next term, one in the holiday),
a governor who is the subject of a case (never counted for them), a school in Wales with its own
term dates, the trust's rows side by side."""

from datetime import date

import pytest

from accounts.models import Nation, Role
from incidents.models import Category, Route, Status
from policyhub.models import Acknowledgement
from reporting import figures, pack
from reporting.models import TermDate
from reporting.terms import Calendar, calendar_for, parse
from tests.factories import member, person
from tests.incidents.factories import policy_for

from .fixtures import NOW, at, case, pack_cases

pytestmark = pytest.mark.django_db
_fixtures = (pack_cases,)


def _figures(user, school, slug):
    term = calendar_for(school).term(*parse(slug))
    return figures.term_figures(user, figures.counted(user).filter(school=school), term, now=NOW)


def test_spring_for_a_governor_who_is_the_subject_of_a_case(cast, pack_cases):
    f = _figures(cast.gary, cast.oakfield, "2026-spring")
    # c1, c4, c5 (c2 is autumn's, c3 is about Gary, c6 is summer's, c7 merged, c8 Brookside's).
    assert f.received == 3
    assert f.by_category == {Category.PARENT_POST: 2, Category.PUPIL_POST: 1}
    assert f.by_route == {Route.BREACH: 1, "": 2}
    assert (f.responded, f.due, f.within, f.within_pct) == (2, 3, 2, 67)
    assert (f.median_hours, f.worst_hours) == (5.0, 8.0)  # 2 h and 8 h
    assert (f.overdue, f.escalated) == (1, 1)  # c4
    assert dict(f.bands)["0–4 h"] == 1 and dict(f.bands)["4–8 h"] == 1 and sum(n for _l, n in f.bands) == 2
    assert (f.upheld, f.not_upheld) == (2, 1)  # c1 and c2 upheld, c5 referred back (c3's not Gary's)
    assert f.referrals == {"lado": 1}  # c3's police referral is about Gary
    assert f.takedowns == {"removed": 1, "requested": 1}
    assert f.low_level == 0
    # c11's investigation report fell due and fired in spring; its reminder step is not a clock.
    assert f.clocks == [("Investigation report", 0, 0, 1, 0)]
    assert f.allegation_ages.open == 1  # c11 (c3 is about Gary)


def test_the_chair_counts_the_case_about_a_governor(cast, pack_cases):
    f = _figures(cast.carol, cast.oakfield, "2026-spring")
    assert f.received == 4
    assert (f.responded, f.due, f.within, f.within_pct) == (3, 4, 2, 50)
    assert (f.median_hours, f.worst_hours) == (8.0, 30.0)
    assert (f.overdue, f.escalated) == (2, 2)
    assert (f.upheld, f.not_upheld) == (3, 1)
    assert f.referrals == {"lado": 1, "police": 1}
    assert f.clocks == [("LADO referral", 1, 0, 0, 0), ("Investigation report", 0, 0, 1, 0)]
    assert f.allegation_ages.open == 2
    # The trust admin counts the same cases.
    tom = _figures(cast.tom, cast.oakfield, "2026-spring")
    assert (tom.received, tom.within, tom.upheld) == (4, 2, 3)


def test_autumn_ends_where_spring_starts(cast, pack_cases):
    f = _figures(cast.gary, cast.oakfield, "2025-autumn")
    # c2 (last half hour, answered in spring), c9 (first morning), c11; not c10 (the night before).
    assert f.received == 3
    assert f.by_route == {Route.LOW_LEVEL: 1, "": 1, Route.ALLEGATION: 1}
    assert f.low_level == 1
    assert (f.responded, f.within, f.worst_hours, f.median_hours) == (3, 3, 10.5, 3.0)
    assert (f.upheld, f.not_upheld) == (0, 0)  # c2 was upheld in January: spring
    assert f.referrals == {"employer": 1}
    summer = _figures(cast.gary, cast.oakfield, "2026-summer")
    assert summer.received == 1  # c6


def test_the_pack_puts_each_figure_next_to_the_previous_terms(cast, pack_cases):
    term = calendar_for(cast.oakfield).term(2026, "spring")
    p = pack.build(cast.gary, cast.oakfield, term, now=NOW)
    assert p.previous.slug == "2025-autumn"
    rows = dict(p.sections)
    assert ("All cases", "3", "3") in rows["Cases received"]
    assert ("Within the deadline (target 95 %)", "67 %", "100 %") in rows["First responses"]
    assert ("Median time to first response", "5 h", "3 h") in rows["First responses"]
    assert ("Breaches upheld", "2", "0") in rows["The board's decisions"]
    assert ("Low-level concerns received", "0", "1") in rows["Low-level concerns (counts only)"]
    assert p.months == ["Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026"]
    assert p.series == [
        ("parent_post", "A parent's or carer's post", [1, 0, 1, 0]),
        ("pupil_post", "A pupil's post", [0, 0, 0, 1]),
    ]


def test_the_pack_counts_its_terms_together_as_each_term_alone(cast, pack_cases):
    # The pack counts this term and the last in one set of statements (FILTER per term): every
    # figure is the one the term gets alone, which the tests above check by hand.
    calendar = calendar_for(cast.oakfield)
    spring, summer = calendar.term(2026, "spring"), calendar.term(2026, "summer")
    autumn = calendar.previous(spring)
    for user in (cast.gary, cast.carol, cast.tom, cast.olive):
        cases = figures.counted(user).filter(school=cast.oakfield)
        for terms in ([spring, autumn], [autumn, spring], [summer, spring, autumn]):
            alone = [figures.term_figures(user, cases, term, now=NOW) for term in terms]
            assert figures.terms_figures(user, cases, terms, now=NOW) == alone, (user, terms)
    both = figures.terms_figures(
        cast.carol, figures.counted(cast.carol).filter(school=cast.oakfield), [spring, autumn], now=NOW
    )
    assert [f.received for f in both] == [4, 3] and both[0].median_hours != both[1].median_hours
    with pytest.raises(ValueError, match="overlap"):
        figures.terms_figures(cast.gary, figures.counted(cast.gary), [spring, spring], now=NOW)


def test_a_school_in_wales_reports_by_its_own_term_dates(cast):
    brookside = cast.brookside
    brookside.nation = Nation.WALES
    brookside.save()
    wyn = person("Wyn Evans", brookside, Role.GOVERNOR)
    # No rows: the Welsh defaults (spring from 6 Jan, summer from 13 Apr).
    default = calendar_for(brookside).term(2026, "spring")
    assert (default.starts_on, default.period_end, default.own_dates) == (date(2026, 1, 6), date(2026, 4, 13), False)
    # Its own dates: spring from Wed 7 Jan to 27 Mar, summer from Mon 20 Apr.
    TermDate.objects.create(
        school=brookside, year=2026, term="spring", starts_on=date(2026, 1, 7), ends_on=date(2026, 3, 27)
    )
    TermDate.objects.create(
        school=brookside, year=2026, term="summer", starts_on=date(2026, 4, 20), ends_on=date(2026, 7, 17)
    )
    case(cast, at("2026-01-06 12:00"), school=brookside)  # England's spring; Brookside's autumn
    case(cast, at("2026-01-07 00:00"), school=brookside)  # Brookside's spring
    case(cast, at("2026-04-14 09:00"), school=brookside)  # England's summer; Brookside's Easter holiday: spring
    case(cast, at("2026-04-20 00:00"), school=brookside)  # Brookside's summer
    assert _figures(wyn, brookside, "2026-spring").received == 2
    assert _figures(wyn, brookside, "2025-autumn").received == 1
    assert _figures(wyn, brookside, "2026-summer").received == 1
    assert calendar_for(brookside).containing(date(2026, 4, 19)).slug == "2026-spring"
    assert calendar_for(brookside).containing(date(2026, 4, 20)).slug == "2026-summer"


def test_the_nations_defaults_and_the_order_of_terms():
    england, scotland, ni = Calendar(Nation.ENGLAND), Calendar(Nation.SCOTLAND), Calendar(Nation.NORTHERN_IRELAND)
    assert england.containing(date(2026, 8, 20)).slug == "2026-summer"  # the summer holiday
    assert scotland.containing(date(2026, 8, 20)).slug == "2026-autumn"  # Scottish schools are back
    assert ni.term(2026, "summer").ends_on == date(2026, 6, 30)
    assert england.containing(date(2026, 1, 2)).slug == "2025-autumn"
    assert [t.slug for t in england.recent(date(2026, 2, 1), 4)] == [
        "2025-spring",
        "2025-summer",
        "2025-autumn",
        "2026-spring",
    ]
    for bad in ("2026", "2026-winter", "26-spring", "x-spring", ""):
        with pytest.raises(ValueError):
            parse(bad)


def test_policy_in_force_acknowledgements_and_review_date(cast):
    version = policy_for(cast.oakfield)
    version.next_review_date = date(2026, 3, 1)
    version.save()
    Acknowledgement.objects.create(user=cast.sam, version=version)
    state = figures.policy_state(cast.oakfield, date(2026, 4, 20))
    # Staff of Oakfield: Helen, Dina (staff too) and Sam; Sam acknowledged.
    assert (state.version, state.required, state.acknowledged, state.pct) == (version, 3, 1, 33)
    assert state.review_overdue
    assert not figures.policy_state(cast.oakfield, date(2026, 2, 28)).review_overdue
    assert figures.policies_in_force([cast.oakfield, cast.brookside], date(2026, 4, 20))[cast.oakfield.pk] == state


def test_trust_rows_side_by_side_and_below_target(cast, pack_cases):
    member(cast.tom, cast.brookside, Role.TRUST_ADMIN)
    schools = [cast.brookside, cast.oakfield]
    calendars = {s.pk: calendar_for(s) for s in schools}
    terms = {pk: c.term(2026, "spring") for pk, c in calendars.items()}
    previous = {pk: calendars[pk].previous(t) for pk, t in terms.items()}
    rows = {r.school.pk: r for r in figures.trust_rows(cast.tom, schools, terms, previous, NOW.date(), now=NOW)}
    oak, brk = rows[cast.oakfield.pk], rows[cast.brookside.pk]
    assert oak.now["received"] == 4 and oak.before["received"] == 3
    assert (oak.now["due"], oak.now["within"], oak.within_pct, oak.below_target) == (4, 2, 50, True)
    assert (oak.now["upheld"], oak.now["not_upheld"], oak.before["low_level"]) == (3, 1, 1)
    assert (brk.now["received"], brk.within_pct, brk.below_target) == (1, 100, False)
    # Brookside's term is England's default (5 Jan to 13 Apr); Oakfield's its own.
    assert brk.term.starts_on == date(2026, 1, 5) and oak.term.starts_on == date(2026, 1, 5)


def test_a_trust_admin_who_is_the_subject_is_not_counted(cast, pack_cases):
    pack_cases["c4"].__class__.objects.filter(pk=pack_cases["c4"].pk).update(
        involved="staff", subject=cast.tom, status=Status.TRIAGE
    )
    schools = [cast.oakfield]
    term = calendar_for(cast.oakfield).term(2026, "spring")
    rows = figures.trust_rows(
        cast.tom, schools, {cast.oakfield.pk: term}, {cast.oakfield.pk: term}, NOW.date(), now=NOW
    )
    assert rows[0].now["received"] == 3
    assert _figures(cast.tom, cast.oakfield, "2026-spring").received == 3
    assert _figures(cast.gary, cast.oakfield, "2026-spring").received == 3  # c1, c4, c5: c4 is not about Gary


def test_no_relation_no_figures(cast, pack_cases):
    # Olive is head at the other school: nothing of Oakfield counts for her.
    assert _figures(cast.olive, cast.oakfield, "2026-spring").received == 0
    # A governor of the other school counts nothing of Oakfield, however many roles they hold there.
    wyn = person("Wyn Evans", cast.brookside, Role.GOVERNOR, Role.CHAIR)
    assert _figures(wyn, cast.oakfield, "2026-spring").received == 0
    assert _figures(wyn, cast.brookside, "2026-spring").received == 1  # c8
