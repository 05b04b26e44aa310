"""The retention rules, table-driven: every rule and every category against dates worked out by hand
(SECURITY-TEST-PLAN item 27: 0 deviations). `decide` is pure, so these need no database."""

from datetime import UTC, date, datetime, timedelta

import pytest

from dataprotection.retention import Rule, add_years, decide, is_due
from incidents.models import AllegationOutcome, Category, Incident, Route, Status

RECEIVED = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
CLOSED = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
NO_RULES: dict[str, int] = {}


def case(category=Category.PARENT_POST, **fields) -> Incident:
    values = {
        "category": category,
        "child_at_risk": False,
        "route": "",
        "allegation_outcome": "",
        "status": Status.CLOSED,
        "legal_hold": False,
        "received_at": RECEIVED,
        "subject_retirement_date": None,
    }
    values.update(fields)
    return Incident(**values)


def u(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


ALLEGATION = {"category": Category.STAFF_CONDUCT, "route": Route.ALLEGATION}

# (name, case fields, configured years per category, expected rule, expected due moment)
TABLE = [
    ("default six years after closure", {}, NO_RULES, Rule.DEFAULT, u(2032, 6, 1, 12)),
    ("category rule from the admin", {}, {Category.PARENT_POST: 3}, Rule.CATEGORY, u(2029, 6, 1, 12)),
    ("another category's rule does not apply", {}, {Category.PUPIL_POST: 1}, Rule.DEFAULT, u(2032, 6, 1, 12)),
    (
        "safeguarding: 25 years from the report",
        {"category": Category.SAFEGUARDING},
        NO_RULES,
        Rule.CHILD_PROTECTION,
        u(2051, 3, 3, 10),
    ),
    (
        "Prevent: 25 years from the report",
        {"category": Category.PREVENT},
        NO_RULES,
        Rule.CHILD_PROTECTION,
        u(2051, 3, 3, 10),
    ),
    (
        "illegal content: 25 years from the report",
        {"category": Category.ILLEGAL_CONTENT},
        NO_RULES,
        Rule.CHILD_PROTECTION,
        u(2051, 3, 3, 10),
    ),
    (
        "a child at risk in any category: 25 years",
        {"category": Category.CYBERBULLYING, "child_at_risk": True},
        {Category.CYBERBULLYING: 2},
        Rule.CHILD_PROTECTION,
        u(2051, 3, 3, 10),
    ),
    (
        "allegation, no pension date: 10 years from the allegation",
        ALLEGATION,
        NO_RULES,
        Rule.ALLEGATION,
        u(2036, 3, 3, 10),
    ),
    (
        "allegation, pension age later: kept to pension age (London midnight, BST)",
        {**ALLEGATION, "subject_retirement_date": date(2040, 7, 31)},
        NO_RULES,
        Rule.ALLEGATION,
        u(2040, 7, 30, 23),
    ),
    (
        "allegation, pension age earlier: 10 years wins",
        {**ALLEGATION, "subject_retirement_date": date(2030, 1, 1)},
        NO_RULES,
        Rule.ALLEGATION,
        u(2036, 3, 3, 10),
    ),
    (
        "substantiated allegation",
        {**ALLEGATION, "allegation_outcome": AllegationOutcome.SUBSTANTIATED},
        NO_RULES,
        Rule.ALLEGATION,
        u(2036, 3, 3, 10),
    ),
    (
        "unsubstantiated allegation",
        {**ALLEGATION, "allegation_outcome": AllegationOutcome.UNSUBSTANTIATED},
        NO_RULES,
        Rule.ALLEGATION,
        u(2036, 3, 3, 10),
    ),
    (
        "unfounded allegation",
        {**ALLEGATION, "allegation_outcome": AllegationOutcome.UNFOUNDED},
        NO_RULES,
        Rule.ALLEGATION,
        u(2036, 3, 3, 10),
    ),
    (
        "malicious allegation: removed once closed",
        {**ALLEGATION, "allegation_outcome": AllegationOutcome.MALICIOUS},
        NO_RULES,
        Rule.REMOVAL,
        CLOSED,
    ),
    (
        "false allegation: removed once closed",
        {**ALLEGATION, "allegation_outcome": AllegationOutcome.FALSE},
        NO_RULES,
        Rule.REMOVAL,
        CLOSED,
    ),
    (
        "malicious allegation about safeguarding is still removed",
        {**ALLEGATION, "category": Category.SAFEGUARDING, "allegation_outcome": AllegationOutcome.MALICIOUS},
        NO_RULES,
        Rule.REMOVAL,
        CLOSED,
    ),
    (
        "allegation on a safeguarding case: the longer (25 years) wins",
        {**ALLEGATION, "category": Category.SAFEGUARDING},
        NO_RULES,
        Rule.CHILD_PROTECTION,
        u(2051, 3, 3, 10),
    ),
    (
        "allegation on a safeguarding case with a pension date beyond 25 years",
        {**ALLEGATION, "category": Category.SAFEGUARDING, "subject_retirement_date": date(2060, 1, 15)},
        NO_RULES,
        Rule.ALLEGATION,
        u(2060, 1, 15, 0),
    ),
    (
        "29 February plus 25 years is 1 March, never 28 February",
        {"category": Category.SAFEGUARDING, "received_at": u(2028, 2, 29, 9)},
        NO_RULES,
        Rule.CHILD_PROTECTION,
        u(2053, 3, 1, 9),
    ),
]


@pytest.mark.parametrize(("name", "fields", "years", "rule", "due"), TABLE, ids=[row[0] for row in TABLE])
def test_each_rule_gives_the_date_worked_out_by_hand(name, fields, years, rule, due):
    decision = decide(case(**fields), closed_at=CLOSED, years=years, default=6)
    assert (decision.rule, decision.due_at) == (rule, due)


@pytest.mark.parametrize("category", Category.values)
def test_every_category_has_exactly_the_expected_date(category):
    """0 deviations across categories: child-protection categories 25 years from the report,
    every other category the default years after closure, or its own rule when it has one."""
    child_protection = category in {Category.SAFEGUARDING, Category.PREVENT, Category.ILLEGAL_CONTENT}
    expected = u(2051, 3, 3, 10) if child_protection else u(2032, 6, 1, 12)
    assert decide(case(category), closed_at=CLOSED, years=NO_RULES, default=6).due_at == expected
    configured = decide(case(category), closed_at=CLOSED, years={category: 2}, default=6).due_at
    assert configured == (u(2051, 3, 3, 10) if child_protection else u(2028, 6, 1, 12))


def test_a_case_closed_after_its_date_is_due_from_its_closing_not_before():
    late_close = u(2037, 5, 5, 8)
    assert decide(case(**ALLEGATION), closed_at=late_close, years=NO_RULES, default=6).due_at == late_close


def test_an_open_case_is_never_due_whatever_its_rule():
    far_future = u(2100, 1, 1)
    for fields in ({}, {"category": Category.SAFEGUARDING}, {**ALLEGATION, "allegation_outcome": "malicious"}):
        open_case = case(**fields, status=Status.INVESTIGATING)
        decision = decide(open_case, closed_at=None, years=NO_RULES, default=6)
        assert not is_due(open_case, decision, far_future)


def test_legal_hold_stops_a_case_being_due_whatever_the_date():
    held = case(legal_hold=True)
    decision = decide(held, closed_at=CLOSED, years=NO_RULES, default=6)
    assert not is_due(held, decision, u(2100, 1, 1))
    assert is_due(case(), decision, u(2100, 1, 1))


def test_due_is_inclusive_to_the_second():
    decision = decide(case(), closed_at=CLOSED, years=NO_RULES, default=6)
    assert not is_due(case(), decision, u(2032, 6, 1, 12) - timedelta(seconds=1))
    assert is_due(case(), decision, u(2032, 6, 1, 12))


def test_add_years_keeps_the_date_or_moves_29_february_later():
    assert add_years(u(2024, 2, 29, 12), 1) == u(2025, 3, 1, 12)
    assert add_years(u(2024, 2, 29, 12), 4) == u(2028, 2, 29, 12)
    assert add_years(u(2026, 12, 31, 23, 59), 6) == u(2032, 12, 31, 23, 59)


def test_the_default_comes_from_the_setting(settings):
    settings.RETENTION_DEFAULT_YEARS = 8
    assert decide(case(), closed_at=CLOSED, years=NO_RULES).due_at == u(2034, 6, 1, 12)
