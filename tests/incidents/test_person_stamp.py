"""The stamp of everything a person's rules reach (reporting/stamps.person_stamp): their schools and
the schools of their own reports. It is only right while every relation but the reporter's is bound
to the person's schools (incidents/access.py): checked row by row, and on data, for every entry
point, for people holding one role, two roles, a task elsewhere, and reports at a school they left."""

from datetime import timedelta

import pytest
from django.db import connection

from accounts.models import Membership, Role
from incidents import access
from incidents.models import Incident, Involved, Outcome, Status, Task
from reporting import stamps
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db

ENTRY_POINTS = [
    "visible_to",
    "owned_by",
    "under_review_for",
    "counted_for",
    "dpo_scope",
    "retention_scope",
    "figures_for",
]
UNBOUND = {"reporter"}  # the rows person_stamp reaches through the reports themselves


def test_every_relation_but_the_reporters_matches_nothing_without_a_school(cast):
    nowhere = access.Viewer(user=cast.sam, schools={})
    for relation in access.RELATIONS:
        assert access._never(relation.q(nowhere)) is (relation.name not in UNBOUND), relation.name


def _reach(user) -> set[int]:
    schools = set(Membership.objects.filter(user=user).values_list("school_id", flat=True))
    return schools | set(Incident.objects.filter(reporter=user).values_list("school_id", flat=True))


@pytest.fixture
def spread(cast):
    """Cases of every kind at both schools, reported by people of both."""
    made = []
    for school, reporter in ((cast.oakfield, cast.sam), (cast.brookside, cast.bethan)):
        survivor = IncidentFactory(school=school, reporter=reporter)
        for status in Status.values:
            fields = {"outcome": Outcome.PARENT_ASKED} if status in (Status.GOVERNOR_REVIEW, Status.CLOSED) else {}
            fields |= {"merged_into": survivor} if status == Status.MERGED else {}
            made.append(IncidentFactory(school=school, reporter=reporter, status=status, **fields))
        made.append(IncidentFactory(school=school, reporter=reporter, category="safeguarding"))
        made.append(IncidentFactory(school=school, reporter=reporter, escalated_at=made[-1].received_at))
        made.append(IncidentFactory(school=school, reporter=reporter, involved=Involved.STAFF, subject=cast.helen))
    Incident.objects.filter(school=cast.brookside).update(upheld=True)
    # Sam reports at Brookside, where he holds no role; Helen has a task there, Tom two roles.
    IncidentFactory(school=cast.brookside, reporter=cast.sam)
    due = made[-1].received_at + timedelta(days=3)
    Task.objects.create(
        incident=made[-1], assignee=cast.helen, assigned_by=cast.olive, title="Look", due_on=due.date(), due_at=due
    )
    Membership.objects.create(user=cast.tom, school=cast.oakfield, role=Role.GOVERNOR)
    return made


def test_every_entry_point_reaches_only_the_persons_schools_and_their_reports(cast, spread):
    people = [cast.helen, cast.dina, cast.sam, cast.gary, cast.carol, cast.tom, cast.priya, cast.olive, cast.bethan]
    Membership.objects.filter(user=cast.bethan).delete()  # left Brookside: her reports there still reach
    reached = set()
    for user in people:
        for entry_point in ENTRY_POINTS:
            schools = set(getattr(Incident.objects, entry_point)(user).values_list("school_id", flat=True))
            assert schools <= _reach(user), (user, entry_point)
            reached |= {(user.pk, s) for s in schools}
    assert (cast.sam.pk, cast.brookside.pk) in reached and (cast.bethan.pk, cast.brookside.pk) in reached


def _touch(case):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE incidents_incident SET outcome = %s WHERE id = %s", [Outcome.INFORMAL_ACTION, case.pk])


def test_the_stamp_is_that_of_the_schools_and_the_reported_schools(cast):
    for _ in range(3):  # several reports at each school: each school counted once
        IncidentFactory(school=cast.oakfield, reporter=cast.sam)
        IncidentFactory(school=cast.brookside, reporter=cast.sam)
    both = stamps.stamp_of([cast.oakfield.pk, cast.brookside.pk])
    assert stamps.person_stamp(cast.sam.pk, [cast.oakfield.pk]) == both
    assert stamps.person_stamp(cast.sam.pk, []) == both
    assert stamps.person_stamp(cast.bethan.pk, []) == stamps.stamp_of([stamps.EVERY_SCHOOL, stamps.EVERY_SCHOOL])
    assert stamps.person_stamp(cast.bethan.pk, [cast.brookside.pk]) == stamps.stamp(cast.brookside.pk)


def test_a_change_to_a_report_at_a_school_the_reporter_left_moves_their_stamp(cast):
    report = IncidentFactory(school=cast.oakfield, reporter=cast.sam)
    elsewhere = IncidentFactory(school=cast.brookside, reporter=cast.bethan)
    Membership.objects.filter(user=cast.sam).delete()
    before = stamps.person_stamp(cast.sam.pk, [])
    _touch(elsewhere)
    assert stamps.person_stamp(cast.sam.pk, []) == before  # another school's change is not his
    _touch(report)
    after = stamps.person_stamp(cast.sam.pk, [])
    assert after != before
    IncidentFactory(school=cast.brookside, reporter=cast.sam)  # his first report at a new school
    assert stamps.person_stamp(cast.sam.pk, []) != after
