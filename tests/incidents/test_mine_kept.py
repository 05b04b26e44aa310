""" "My reports" keeps its count and rows between views (incidents/selectors.my_reports_page, under
the stamp of every case the person's rules reach, reporting/stamps.person_stamp). After every kind
of change, made the way some part of the system or a database prompt makes it, whether the reporter
is still a member of the school or has left it, the list served is the list worked out afresh; a
report that comes to be about its reporter leaves their list at once."""

import pytest
from django.core.cache import caches
from django.urls import reverse

from accounts.models import Membership
from incidents.models import Incident, Involved, Outcome, Status
from tests.incidents.factories import IncidentFactory, fast_passwords
from tests.kept_pages import assert_a_kept_view_reads_only_the_stamp, main_of, raw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

URL = reverse("incidents:mine")


def _rows(client, person) -> str:
    return main_of(client, person, URL)


@pytest.fixture
def reports(cast):
    survivor = IncidentFactory(school=cast.oakfield, reporter=cast.helen)
    return {
        "open": IncidentFactory(school=cast.oakfield, reporter=cast.sam),
        "merged": IncidentFactory(school=cast.oakfield, reporter=cast.sam, status=Status.MERGED, merged_into=survivor),
        "survivor": survivor,
        "brookside": IncidentFactory(school=cast.brookside, reporter=cast.sam),
        "bethans": IncidentFactory(school=cast.brookside, reporter=cast.bethan),
    }


CHANGES = {
    "new report": lambda cast, r: IncidentFactory(school=cast.oakfield, reporter=cast.sam),
    "status in bulk": lambda cast, r: Incident.objects.filter(pk=r["open"].pk).update(status=Status.TRIAGE),
    "closed in raw SQL": lambda cast, r: raw(
        "UPDATE incidents_incident SET status = %s, outcome = %s WHERE id = %s",
        [Status.CLOSED, Outcome.INFORMAL_ACTION, r["open"].pk],
    ),
    "the case it joined resolved, in raw SQL": lambda cast, r: raw(
        "UPDATE incidents_incident SET status = %s, outcome = %s WHERE id = %s",
        [Status.CLOSED, Outcome.INFORMAL_ACTION, r["survivor"].pk],
    ),
    "a report elsewhere closed in bulk": lambda cast, r: Incident.objects.filter(pk=r["brookside"].pk).update(
        status=Status.CLOSED, outcome=Outcome.INFORMAL_ACTION
    ),
    "deleted in raw SQL": lambda cast, r: raw("DELETE FROM incidents_incident WHERE id = %s", [r["brookside"].pk]),
    "now about the reporter": lambda cast, r: Incident.objects.filter(pk=r["open"].pk).update(
        involved=Involved.STAFF, subject=cast.sam
    ),
    "another's report handed to him in raw SQL": lambda cast, r: raw(
        "UPDATE incidents_incident SET reporter_id = %s WHERE id = %s", [cast.sam.pk, r["bethans"].pk]
    ),
}


@pytest.mark.parametrize("left", [False, True], ids=["member", "left the school"])
@pytest.mark.parametrize("change", CHANGES)
def test_after_each_change_the_kept_list_is_the_list_worked_out_afresh(client, cast, reports, change, left):
    if left:
        Membership.objects.filter(user=cast.sam).delete()
    before = _rows(client, cast.sam)  # kept
    assert reports["brookside"].reference in before
    CHANGES[change](cast, reports)
    kept = _rows(client, cast.sam)
    caches["kept"].clear()
    fresh = _rows(client, cast.sam)
    assert kept == fresh, change
    assert fresh != before, f"{change} changed nothing the list shows: it tests nothing"


def test_a_report_about_its_reporter_leaves_the_list_whatever_roles_they_hold(client, cast, reports):
    for person in (cast.sam, cast.helen):
        mine = IncidentFactory(school=cast.oakfield, reporter=person)
        assert mine.reference in _rows(client, person)
        Incident.objects.filter(pk=mine.pk).update(involved=Involved.STAFF, subject=person)
        assert mine.reference not in _rows(client, person), person  # Helen is head and staff: two roles


def test_the_kept_list_reads_only_the_stamp(client, cast, reports):
    assert_a_kept_view_reads_only_the_stamp(lambda: _rows(client, cast.sam), stamp_reads_cases=True)
