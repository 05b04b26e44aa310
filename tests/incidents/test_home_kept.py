"""The home page's summary is kept between views (incidents/selectors.home, under the stamp of every
case the person's rules reach and until the next moment a waiting case falls overdue). After every
kind of change, and after time alone has passed a deadline, each card shows what working it out
afresh shows, for the head, a reporter and a governor; a case that comes to be about the viewer
leaves their cards at once."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from incidents.models import Incident, Involved, Outcome, Status
from tests.incidents.factories import IncidentFactory, fast_passwords
from tests.kept_pages import assert_a_kept_view_reads_only_the_stamp, kept_then_fresh, main_of, raw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

URL = reverse("home")


def _cards(client, person) -> str:
    return main_of(client, person, URL)


@pytest.fixture
def cases(cast):
    now = timezone.now()
    return {
        "waiting": IncidentFactory(school=cast.oakfield, reporter=cast.sam, response_due_at=now + timedelta(hours=5)),
        "triage": IncidentFactory(school=cast.oakfield, reporter=cast.sam, status=Status.TRIAGE),
        "review": IncidentFactory(
            school=cast.oakfield, reporter=cast.sam, status=Status.GOVERNOR_REVIEW, outcome=Outcome.PARENT_ASKED
        ),
        "elsewhere": IncidentFactory(school=cast.brookside, reporter=cast.sam),
    }


CHANGES = {
    "a new report": lambda cast, c: IncidentFactory(school=cast.oakfield, reporter=cast.sam),
    "triaged in bulk": lambda cast, c: Incident.objects.filter(pk=c["waiting"].pk).update(status=Status.TRIAGE),
    "review decided in raw SQL": lambda cast, c: raw(
        "UPDATE incidents_incident SET status = %s WHERE id = %s", [Status.CLOSED, c["review"].pk]
    ),
    "his report elsewhere closed in bulk": lambda cast, c: Incident.objects.filter(pk=c["elsewhere"].pk).update(
        status=Status.CLOSED, outcome=Outcome.INFORMAL_ACTION
    ),
    "the head's role removed": lambda cast, c: Membership.objects.filter(user=cast.helen, role=Role.HEAD).delete(),
    "the governor's role moved in raw SQL": lambda cast, c: raw(
        "UPDATE accounts_membership SET school_id = %s WHERE user_id = %s", [cast.brookside.pk, cast.gary.pk]
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_after_each_change_the_kept_cards_are_those_worked_out_afresh(client, cast, cases, change):
    viewers = (cast.helen, cast.sam, cast.gary)
    moved = kept_then_fresh(lambda user: _cards(client, user), viewers, lambda: CHANGES[change](cast, cases))
    assert moved, f"{change} changed nothing the cards show: it tests nothing"


def test_a_case_falls_overdue_on_the_kept_card_the_moment_its_deadline_passes(client, cast, cases):
    due = cases["waiting"].response_due_at
    with time_machine.travel(due - timedelta(minutes=1)):
        assert 'data-testid="overdue"' not in _cards(client, cast.helen)
        assert 'data-testid="overdue"' not in _cards(client, cast.helen)  # kept
    with time_machine.travel(due + timedelta(seconds=1)):
        kept = _cards(client, cast.helen)
        assert 'data-testid="overdue"' in kept
        caches["kept"].clear()
        assert _cards(client, cast.helen) == kept


def test_a_case_about_the_viewer_leaves_their_cards_whatever_roles_they_hold(client, cast, cases):
    Membership.objects.create(user=cast.gary, school=cast.oakfield, role=Role.STAFF)  # two roles
    for person in (cast.sam, cast.helen, cast.gary):
        mine = IncidentFactory(
            school=cast.oakfield, reporter=person, status=Status.GOVERNOR_REVIEW, outcome=Outcome.PARENT_ASKED
        )
        assert mine.reference in _cards(client, person), person
        before = _cards(client, person)
        Incident.objects.filter(pk=mine.pk).update(involved=Involved.STAFF, subject=person)
        after = _cards(client, person)
        assert mine.reference not in after and after != before, person


def test_the_kept_cards_read_no_case_table_but_the_stamp(client, cast, cases):
    assert_a_kept_view_reads_only_the_stamp(lambda: _cards(client, cast.helen), stamp_reads_cases=True)
