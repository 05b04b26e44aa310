"""The governors' pack keeps its figures between views (reporting/figures_cache.py) and never shows
what working them out afresh would not: after every kind of change (through the ORM, in bulk, in
raw SQL, deleted), as time alone passes a deadline or midnight, to a person who is the subject of a
case after someone else's view, after pruning, and on PostgreSQL when transactions commit out of
the order they wrote in."""

import threading
from datetime import date, timedelta
from unittest import mock

import pytest
from django.core.cache import caches
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, Role, User
from dataprotection.retention import _allow_timeline_deletion as allow_timeline_deletion
from incidents.models import (
    Deadline,
    DeadlineKind,
    DeadlineState,
    GovernorReview,
    Incident,
    Outcome,
    Referral,
    ReferralKind,
    ReviewDecision,
    Route,
    Status,
    TakedownRequest,
    Task,
    TimelineEntry,
    TimelineKind,
)
from policyhub.models import Acknowledgement, Clause, PolicyAdoption, PolicyVersion, VersionStatus
from reporting import pack, stamps
from reporting.models import FiguresChange, TermDate
from reporting.tasks import prune_figures_changes
from reporting.terms import calendar_for
from tests.factories import member, person
from tests.incidents.factories import policy_for

from .fixtures import NOW, at, case, pack_cases

pytestmark = pytest.mark.django_db
_fixtures = (pack_cases,)


def _spring(school):
    return calendar_for(school).term(2026, "spring")


def _pack(user, school, term, now=NOW):
    return pack.build(user, school, term, now=now)


def _fresh(user, school, term, now=NOW):
    caches["kept"].clear()
    return _pack(user, school, term, now)


def _upheld(user, school, term):
    page = pack.upheld_page(user, school, term, None)
    return page.paginator.count, page.object_list, str(page.lines)


def _same(kept, fresh):
    assert kept.sections == fresh.sections
    assert (kept.months, kept.series, kept.this, kept.before) == (fresh.months, fresh.series, fresh.this, fresh.before)


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# Each change, made the way some part of the system (or someone at a database prompt) makes it.
def _new_case(cast, c):
    case(cast, at("2026-02-02 10:00"), responded_after=timedelta(hours=1))


def _answer_in_bulk(cast, c):
    Incident.objects.filter(pk=c["c4"].pk).update(acknowledged_at=at("2026-03-01 12:00"))


def _route_in_raw_sql(cast, c):
    _raw("UPDATE incidents_incident SET route = %s WHERE id = %s", [Route.LOW_LEVEL, c["c5"].pk])


def _delete_case(cast, c):
    with transaction.atomic():
        allow_timeline_deletion()  # only the retention job deletes a case's timeline (PostgreSQL)
        c["c5"].delete()


def _close_allegation(cast, c):
    Incident.objects.filter(pk=c["c11"].pk).update(status=Status.CLOSED)
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(
                incident=c["c11"], kind=TimelineKind.TRANSITION, from_status=Status.INVESTIGATING,
                to_status=Status.CLOSED, at=at("2026-03-03 10:00"),
            )
        ]
    )  # fmt: skip


def _reopen_in_raw_sql(cast, c):
    _raw("UPDATE incidents_incident SET status = %s WHERE id = %s", [Status.INVESTIGATING, c["c11"].pk])


def _review_in_bulk(cast, c):
    GovernorReview.objects.bulk_create(
        [GovernorReview(incident=c["c4"], decision=ReviewDecision.UPHOLD, decided_by=cast.carol)]
    )
    GovernorReview.objects.filter(incident=c["c4"]).update(decided_at=at("2026-03-10 10:00"))


def _clock_met(cast, c):
    Deadline.objects.filter(incident=c["c11"], data__step="due").update(state=DeadlineState.DONE)


def _referral_deleted(cast, c):
    Referral.objects.filter(incident=c["c1"]).delete()


def _referral_made(cast, c):
    Referral.objects.create(
        incident=c["c4"], kind=ReferralKind.POLICE, made_on=date(2026, 3, 2), recorded_by=cast.helen
    )


def _takedown_in_raw_sql(cast, c):
    _raw("DELETE FROM incidents_takedownrequest WHERE incident_id = %s", [c["c4"].pk])


def _outcome_in_bulk(cast, c):
    Incident.objects.filter(pk=c["c4"].pk).update(outcome=Outcome.PARENT_ASKED)


CHANGES = [
    _new_case,
    _answer_in_bulk,
    _route_in_raw_sql,
    _close_allegation,
    _reopen_in_raw_sql,
    _review_in_bulk,
    _clock_met,
    _referral_deleted,
    _referral_made,
    _takedown_in_raw_sql,
    _outcome_in_bulk,
    _delete_case,
]


def test_after_each_change_the_kept_pack_is_the_pack_worked_out_afresh(cast, pack_cases):
    spring = _spring(cast.oakfield)
    viewers = (cast.gary, cast.carol, cast.tom)
    for user in viewers:
        _pack(user, cast.oakfield, spring)
        _upheld(user, cast.oakfield, spring)
    for change in CHANGES:
        before = {user.pk: _pack(user, cast.oakfield, spring) for user in viewers}
        change(cast, pack_cases)
        moved = False
        for user in viewers:
            kept, kept_list = _pack(user, cast.oakfield, spring), _upheld(user, cast.oakfield, spring)
            fresh = _fresh(user, cast.oakfield, spring)
            _same(kept, fresh)
            assert kept_list == _upheld(user, cast.oakfield, spring)
            moved |= fresh.sections != before[user.pk].sections
            _pack(user, cast.oakfield, spring)  # kept again for the next change
            _upheld(user, cast.oakfield, spring)
        assert moved, f"{change.__name__} changed no figure: it tests nothing"


def test_without_the_stamp_the_kept_pack_would_be_stale(cast, pack_cases):
    # The control: were the stamp not moved by a change, the comparison above would fail.
    spring = _spring(cast.oakfield)
    _pack(cast.carol, cast.oakfield, spring)
    with mock.patch.object(stamps, "stamp", return_value=(1, 1)):
        _pack(cast.carol, cast.oakfield, spring)
        _answer_in_bulk(cast, pack_cases)
        kept = _pack(cast.carol, cast.oakfield, spring)
    assert kept.sections != _fresh(cast.carol, cast.oakfield, spring).sections


def test_a_kept_pack_reads_no_case_table(cast, pack_cases):
    spring = _spring(cast.oakfield)
    _pack(cast.carol, cast.oakfield, spring)
    with CaptureQueriesContext(connection) as queries:
        _pack(cast.carol, cast.oakfield, spring)
    statements = [q["sql"] for q in queries.captured_queries]
    assert sum("reporting_figureschange" in sql for sql in statements) == 1, statements
    assert not [sql for sql in statements if "incidents_" in sql], statements


@pytest.mark.parametrize(
    ("make", "school"),
    [
        (lambda cast, c: case(cast, at("2026-02-02 10:00")), "oakfield"),
        (lambda cast, c: Incident.objects.filter(pk=c["c8"].pk).update(route=Route.BREACH), "brookside"),
        (lambda cast, c: _raw("DELETE FROM incidents_referral WHERE incident_id = %s", [c["c3"].pk]), "oakfield"),
        (lambda cast, c: Deadline.objects.filter(incident=c["c3"]).delete(), "oakfield"),
        (
            lambda cast, c: Task.objects.create(
                incident=c["c4"],
                assignee=cast.helen,
                assigned_by=cast.helen,
                title="Look",
                due_on=date(2026, 3, 2),
                due_at=at("2026-03-02 17:00"),
            ),
            "oakfield",
        ),  # fmt: skip
        (lambda cast, c: person("Nia Head", cast.oakfield, Role.HEAD), "oakfield"),
        (lambda cast, c: Membership.objects.filter(school=cast.brookside).delete(), "brookside"),
        (
            lambda cast, c: TakedownRequest.objects.filter(incident=c["c1"]).update(url="https://example.org/b"),
            "oakfield",
        ),
    ],
    ids=["case", "bulk-update", "raw-delete", "deadline-delete", "task", "membership", "membership-delete", "takedown"],
)
def test_each_table_the_figures_read_moves_its_schools_stamp_only(cast, pack_cases, make, school):
    changed, other = (cast.oakfield, cast.brookside) if school == "oakfield" else (cast.brookside, cast.oakfield)
    before = stamps.stamp(changed.pk), stamps.stamp(other.pk)
    make(cast, pack_cases)
    assert stamps.stamp(changed.pk) != before[0]
    assert stamps.stamp(other.pk) == before[1]


def test_a_deadline_passing_changes_the_kept_figures_with_no_write(cast, pack_cases):
    # Summer 2026 (NOW is 20 April): a case waiting for its first response, due in two hours, and an
    # allegation clock due in three. Nothing is written while time passes.
    summer = calendar_for(cast.oakfield).term(2026, "summer")
    waiting = case(cast, NOW - timedelta(hours=22))
    Deadline.objects.create(incident=waiting, kind=DeadlineKind.LADO, due_at=NOW + timedelta(hours=3))
    first = _pack(cast.carol, cast.oakfield, summer, NOW)
    for later in (NOW + timedelta(hours=2), NOW + timedelta(hours=3), NOW + timedelta(hours=14)):
        kept = _pack(cast.carol, cast.oakfield, summer, later)
        _same(kept, _fresh(cast.carol, cast.oakfield, summer, later))
        _pack(cast.carol, cast.oakfield, summer, later)
    assert (first.this.due, kept.this.due) == (1, 2)  # c6, then c6 and the waiting case
    assert first.this.clocks == [("LADO referral", 0, 0, 0, 1)]
    assert kept.this.clocks == [("LADO referral", 0, 0, 1, 0)]


def test_a_new_day_moves_the_allegation_ages_with_no_write(cast, pack_cases):
    spring = _spring(cast.oakfield)
    # c11 (received 1 Oct 2025) is open: one month past "within one month" on 1 Nov, etc.
    for day in ("2026-03-31 23:00", "2026-04-01 01:00", "2026-09-30 23:30", "2026-10-01 00:30"):
        kept = _pack(cast.carol, cast.oakfield, spring, at(day))
        _same(kept, _fresh(cast.carol, cast.oakfield, spring, at(day)))
        _pack(cast.carol, cast.oakfield, spring, at(day))


def test_the_subject_of_a_case_never_gets_another_viewers_figures(cast, pack_cases):
    spring = _spring(cast.oakfield)
    assert _pack(cast.carol, cast.oakfield, spring).this.received == 4  # c3, about Gary, counted
    gary = _pack(cast.gary, cast.oakfield, spring)
    assert gary.this.received == 3
    assert gary.this.referrals == {"lado": 1}  # not c3's police referral
    # Gary also holds a second role at the school: still never his case.
    member(cast.gary, cast.oakfield, Role.DSL)
    assert _pack(cast.gary, cast.oakfield, spring).this.received == 3
    assert _pack(cast.carol, cast.oakfield, spring).this.received == 4


def test_pruning_keeps_each_schools_newest_row_and_the_figures_true(cast, pack_cases):
    spring = _spring(cast.oakfield)
    _pack(cast.carol, cast.oakfield, spring)
    schools = set(FiguresChange.objects.values_list("school_id", flat=True))
    newest = {s: FiguresChange.objects.filter(school_id=s).latest("id").pk for s in schools}
    assert FiguresChange.objects.count() > len(schools)
    deleted = prune_figures_changes()
    assert deleted > 0
    assert dict(FiguresChange.objects.values_list("school_id", "id")) == newest
    _answer_in_bulk(cast, pack_cases)
    _same(_pack(cast.carol, cast.oakfield, spring), _fresh(cast.carol, cast.oakfield, spring))
    assert prune_figures_changes() == 1  # the change's row kept, the one before it gone
    _same(_pack(cast.carol, cast.oakfield, spring), _fresh(cast.carol, cast.oakfield, spring))


# What the pack shows beside its figures, kept under the same stamp: the school's terms, the policy
# in force today and its acknowledgements, and the upheld list's cited clauses. Each change is made
# the way some part of the system (or a database prompt) makes it.
def _acknowledge(cast, c):
    Acknowledgement.objects.create(user=cast.sam, version=PolicyVersion.objects.for_school(cast.oakfield).get())


def _staff_made_inactive(cast, c):
    _raw("UPDATE accounts_user SET is_active = %s WHERE id = %s", [False, cast.helen.pk])


def _review_date_in_bulk(cast, c):
    PolicyVersion.objects.for_school(cast.oakfield).update(next_review_date=date(2026, 4, 1))


def _new_version_in_force(cast, c):
    old = PolicyVersion.objects.for_school(cast.oakfield).get()
    PolicyVersion.objects.filter(pk=old.pk).update(status=VersionStatus.ARCHIVED)
    PolicyVersion.objects.create(
        policy=old.policy, number=2, status=VersionStatus.ACTIVE, effective_date=date(2026, 4, 1)
    )


def _clause_cited(cast, c):
    c["c1"].clauses.add(Clause.objects.get(ref="7.1"))


def _clause_renumbered_in_raw_sql(cast, c):
    _raw("UPDATE policyhub_clause SET ref = %s WHERE ref = %s", ["7.1a", "7.1"])


def _term_moved(cast, c):
    TermDate.objects.filter(school=cast.oakfield, year=2025).update(starts_on=date(2025, 9, 1))


def _policy_unadopted(cast, c):
    PolicyAdoption.objects.filter(school=cast.oakfield).delete()


BESIDE_THE_FIGURES = [
    _acknowledge,
    _staff_made_inactive,
    _review_date_in_bulk,
    _clause_cited,
    _clause_renumbered_in_raw_sql,
    _term_moved,
    _new_version_in_force,
    _policy_unadopted,
]


def _shown(user, school):
    """All a viewer's pack shows for spring 2026: its sections (the policy in force included), its
    previous term's dates and its upheld list."""
    spring = _spring(school)  # the school's terms as they are now (a test's term is not kept)
    p = _pack(user, school, spring)
    return p.sections, p.previous.bounds, _upheld(user, school, spring)


def test_after_each_change_beside_the_figures_the_kept_pack_is_the_pack_worked_out_afresh(cast, pack_cases):
    policy_for(cast.oakfield)
    viewers = (cast.gary, cast.carol, cast.tom)
    for change in BESIDE_THE_FIGURES:
        before = {user.pk: _shown(user, cast.oakfield) for user in viewers}
        change(cast, pack_cases)
        moved = False
        for user in viewers:
            kept = _shown(user, cast.oakfield)
            caches["kept"].clear()
            fresh = _shown(user, cast.oakfield)
            assert kept == fresh, change.__name__
            moved |= fresh != before[user.pk]
        assert moved, f"{change.__name__} changed nothing the pack shows: it tests nothing"


def test_a_policy_change_moves_every_schools_stamp_and_a_sign_in_none(cast, pack_cases):
    version = policy_for(cast.oakfield)

    def moved(make) -> tuple[bool, bool]:
        before = stamps.stamp(cast.oakfield.pk), stamps.stamp(cast.brookside.pk)
        make()
        return stamps.stamp(cast.oakfield.pk) != before[0], stamps.stamp(cast.brookside.pk) != before[1]

    assert moved(lambda: Acknowledgement.objects.create(user=cast.sam, version=version)) == (True, True)
    assert moved(lambda: Clause.objects.filter(version=version).update(text="Reworded.")) == (True, True)
    assert moved(lambda: User.objects.filter(pk=cast.dina.pk).update(is_active=False)) == (True, True)
    # A sign-in writes last_login; a name is edited: neither changes what the pack counts.
    assert moved(lambda: User.objects.filter(pk=cast.sam.pk).update(last_login=NOW)) == (False, False)
    assert moved(lambda: User.objects.filter(pk=cast.sam.pk).update(full_name="Sam Jones")) == (False, False)
    assert moved(lambda: User.objects.filter(pk=cast.dina.pk).update(is_active=False)) == (False, False)  # unchanged
    assert moved(lambda: TermDate.objects.filter(school=cast.oakfield).delete()) == (True, False)
    assert moved(lambda: pack_cases["c8"].clauses.add(Clause.objects.filter(version=version).first())) == (
        False,
        True,
    )
    assert moved(lambda: PolicyAdoption.objects.filter(school=cast.oakfield).delete()) == (True, False)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_change_committed_after_a_later_one_still_moves_the_stamp(cast):
    """T1 writes first and commits last: the school's newest row is T2's before and after, yet the
    figures T1 changed must not stay kept under the stamp read between the two commits."""
    from .fixtures import oakfield_terms

    oakfield_terms(cast.oakfield)
    spring = _spring(cast.oakfield)
    written, release = threading.Event(), threading.Event()
    errors = []

    def first_writer():
        try:
            with transaction.atomic():
                case(cast, at("2026-02-03 10:00"), responded_after=timedelta(hours=1))
                written.set()
                release.wait(30)
        except Exception as error:  # noqa: BLE001 (reported by the test below)
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_writer)
    thread.start()
    assert written.wait(30)
    case(cast, at("2026-02-04 10:00"), responded_after=timedelta(hours=1))  # T2, committed first
    assert _pack(cast.carol, cast.oakfield, spring).this.received == 1
    release.set()
    thread.join(30)
    assert not errors
    assert _pack(cast.carol, cast.oakfield, spring).this.received == 2


@pytest.mark.django_db(transaction=True)
def test_migrating_back_past_the_table_removes_the_triggers(cast):
    from django.core.management import call_command

    try:
        call_command("migrate", "reporting", "0001", verbosity=0)
        case(cast, at("2026-02-03 10:00"))  # a trigger left writing to the missing table would refuse this
        assert Incident.objects.count() == 1
    finally:
        call_command("migrate", verbosity=0)
    before = stamps.stamp(cast.oakfield.pk)
    case(cast, at("2026-02-04 10:00"))
    assert stamps.stamp(cast.oakfield.pk) != before


def test_the_written_out_sql_names_the_modules_table_trigger_and_token_range():
    for sql in (stamps.POSTGRES_FUNCTION, stamps.SQLITE_BY_SCHOOL, stamps.SQLITE_BY_CASE, stamps.SQLITE_BY_EVERY):
        assert f"INSERT INTO {stamps.TABLE} " in sql and f"random() * {stamps.TOKEN_RANGE})" in sql.replace("%", "*"), (
            sql
        )
    assert f"FUNCTION {stamps.TRIGGER}()" in stamps.POSTGRES_FUNCTION
