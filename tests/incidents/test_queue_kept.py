"""The triage queue keeps its count and its rows but their first-response badges between views
(incidents/selectors.queue_page, under the stamp of the person's schools). After every kind of
change, made the way some part of the system or a database prompt makes it, for the head, the DSL
and the chair, filtered or not, the queue served is the queue worked out afresh; the badges follow
the clock on kept rows; a case that comes to be about the head leaves their queue at once."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from incidents.models import Incident, Involved, Severity, Status
from tests.incidents.factories import IncidentFactory, fast_passwords
from tests.kept_pages import assert_a_kept_view_reads_only_the_stamp, kept_then_fresh, main_of, raw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

URL = reverse("incidents:queue")


def _rows(client, person, query="") -> str:
    return main_of(client, person, URL + query)


@pytest.fixture
def queued(cast):
    now = timezone.now()
    return {
        "waiting": IncidentFactory(school=cast.oakfield, reporter=cast.sam, response_due_at=now + timedelta(hours=2)),
        "safeguarding": IncidentFactory(school=cast.oakfield, reporter=cast.sam, category="safeguarding"),
        "escalated": IncidentFactory(school=cast.oakfield, reporter=cast.sam, escalated_at=now),
        "elsewhere": IncidentFactory(school=cast.brookside, reporter=cast.bethan),
    }


CHANGES = {
    "a new report": lambda cast, q: IncidentFactory(school=cast.oakfield, reporter=cast.sam, category="safeguarding"),
    "triaged in bulk": lambda cast, q: Incident.objects.filter(school=cast.oakfield).update(status=Status.TRIAGE),
    "severity in raw SQL": lambda cast, q: raw(
        "UPDATE incidents_incident SET severity = %s WHERE school_id = %s", [Severity.HIGH, cast.oakfield.pk]
    ),
    "closed in raw SQL": lambda cast, q: raw(
        "UPDATE incidents_incident SET status = %s, outcome = %s WHERE id IN (%s, %s, %s)",
        [Status.CLOSED, "informal_action", q["waiting"].pk, q["safeguarding"].pk, q["escalated"].pk],
    ),
    "brought from another school in bulk": lambda cast, q: Incident.objects.filter(pk=q["elsewhere"].pk).update(
        school=cast.oakfield, category="safeguarding", escalated_at=timezone.now()
    ),
    "now about the head": lambda cast, q: Incident.objects.filter(school=cast.oakfield).update(
        involved=Involved.STAFF, subject=cast.helen
    ),
    "roles moved in raw SQL": lambda cast, q: raw(
        "UPDATE accounts_membership SET school_id = %s WHERE school_id = %s AND role IN (%s, %s, %s)",
        [cast.brookside.pk, cast.oakfield.pk, Role.HEAD, Role.DSL, Role.CHAIR],
    ),
}


@pytest.mark.parametrize("query", ["", "?status=submitted"])
@pytest.mark.parametrize("change", CHANGES)
def test_after_each_change_the_kept_queue_is_the_queue_worked_out_afresh(client, cast, queued, change, query):
    viewers = (cast.helen, cast.dina, cast.carol)
    frozen = timezone.now()
    with time_machine.travel(frozen, tick=False):  # the badges read the clock: hold it still
        moved = kept_then_fresh(lambda user: _rows(client, user, query), viewers, lambda: CHANGES[change](cast, queued))
    assert moved, f"{change} changed nothing the queue shows: it tests nothing"


def test_the_badges_follow_the_clock_on_kept_rows(client, cast, queued):
    due = queued["waiting"].response_due_at
    with time_machine.travel(due - timedelta(minutes=90), tick=False):
        assert "1 hour 30 minutes left" in _rows(client, cast.helen)
    with time_machine.travel(due - timedelta(minutes=89, seconds=30), tick=False):
        kept = _rows(client, cast.helen)
        assert "1 hour 29 minutes left" in kept
        caches["kept"].clear()
        assert kept == _rows(client, cast.helen)
    with time_machine.travel(due + timedelta(minutes=5), tick=False):
        kept = _rows(client, cast.helen)
        assert "Overdue by 5 minutes" in kept
        caches["kept"].clear()
        assert kept == _rows(client, cast.helen)


def test_a_case_about_the_head_leaves_their_queue_whatever_roles_they_hold(client, cast, queued):
    Membership.objects.create(user=cast.helen, school=cast.oakfield, role=Role.DSL)  # head and DSL
    reference = queued["safeguarding"].reference
    assert reference in _rows(client, cast.helen)
    Incident.objects.filter(pk=queued["safeguarding"].pk).update(involved=Involved.STAFF, subject=cast.helen)
    assert reference not in _rows(client, cast.helen)
    assert reference in _rows(client, cast.carol)  # the chair's now


def test_the_kept_queue_reads_no_case_table(client, cast, queued):
    assert_a_kept_view_reads_only_the_stamp(lambda: _rows(client, cast.helen), stamp_reads_cases=False)
