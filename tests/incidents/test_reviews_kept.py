"""The governors' list keeps its count and rows between views (incidents/selectors.reviews_page, under
the stamp of the person's schools, reporting/stamps.py). After every kind of change, made the way
some part of the system or a database prompt makes it, the list served is the list worked out
afresh; the subject of a case never gets a list kept for a colleague; a governor of two schools sees
a change at either."""

import pytest
from django.urls import reverse

from accounts.models import Membership, Role
from incidents.models import GovernorReview, Incident, Involved, Outcome, ReviewDecision, Status
from tests.incidents.factories import IncidentFactory, fast_passwords
from tests.kept_pages import assert_a_kept_view_reads_only_the_stamp, kept_then_fresh, main_of, raw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

URL = reverse("incidents:reviews")


def _rows(client, person) -> str:
    return main_of(client, person, URL)


def _in_review(cast, school=None, **fields):
    fields = {"outcome": Outcome.PARENT_ASKED, **fields}
    return IncidentFactory(school=school or cast.oakfield, reporter=cast.sam, status=Status.GOVERNOR_REVIEW, **fields)


@pytest.fixture
def listed(cast):
    cases = {
        "waiting": _in_review(cast),
        "about_gary": _in_review(cast, involved=Involved.STAFF, subject=cast.gary),
        "upheld": IncidentFactory(
            school=cast.oakfield, reporter=cast.sam, status=Status.CLOSED, outcome=Outcome.PARENT_ASKED
        ),
        "elsewhere": _in_review(cast, school=cast.brookside),
    }
    GovernorReview.objects.create(incident=cases["upheld"], decision=ReviewDecision.UPHOLD, decided_by=cast.carol)
    return cases


CHANGES = {
    "new case in review": lambda cast, c: _in_review(cast),
    "outcome in bulk": lambda cast, c: Incident.objects.filter(pk=c["waiting"].pk).update(
        outcome=Outcome.INFORMAL_ACTION
    ),
    "closed in raw SQL": lambda cast, c: raw(
        "UPDATE incidents_incident SET status = %s WHERE id = %s", [Status.CLOSED, c["waiting"].pk]
    ),
    "upheld in bulk": lambda cast, c: (
        Incident.objects.filter(pk=c["waiting"].pk).update(status=Status.CLOSED),
        GovernorReview.objects.bulk_create(
            [GovernorReview(incident=c["waiting"], decision=ReviewDecision.UPHOLD, decided_by=cast.carol)]
        ),
    ),
    "moved to another school in raw SQL": lambda cast, c: raw(
        "UPDATE incidents_incident SET school_id = %s WHERE id = %s", [cast.brookside.pk, c["waiting"].pk]
    ),
    "brought from another school in bulk": lambda cast, c: Incident.objects.filter(pk=c["elsewhere"].pk).update(
        school=cast.oakfield
    ),
    "governor moved to another school": lambda cast, c: Membership.objects.filter(user=cast.gary).update(
        school=cast.brookside
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_after_each_change_the_kept_list_is_the_list_worked_out_afresh(client, cast, listed, change):
    moved = kept_then_fresh(
        lambda user: _rows(client, user), (cast.gary, cast.carol), lambda: CHANGES[change](cast, listed)
    )
    assert moved, f"{change} changed nothing the list shows: it tests nothing"


def test_the_subject_never_gets_a_list_kept_for_a_colleague(client, cast, listed):
    reference = listed["about_gary"].reference
    assert reference in _rows(client, cast.carol)
    assert reference not in _rows(client, cast.gary)
    # Gary also chairs the board's business as a second role at the school: still never his case.
    Membership.objects.create(user=cast.gary, school=cast.oakfield, role=Role.CHAIR)
    assert reference in _rows(client, cast.carol)
    assert reference not in _rows(client, cast.gary)
    assert listed["waiting"].reference in _rows(client, cast.gary)


def test_a_governor_of_two_schools_sees_a_change_at_either(client, cast, listed):
    Membership.objects.create(user=cast.gary, school=cast.brookside, role=Role.GOVERNOR)
    first = _rows(client, cast.gary)
    assert listed["elsewhere"].reference in first
    Incident.objects.filter(pk=listed["elsewhere"].pk).update(status=Status.CLOSED, outcome=Outcome.INFORMAL_ACTION)
    assert listed["elsewhere"].reference not in _rows(client, cast.gary)


def test_the_kept_list_reads_no_case_table(client, cast, listed):
    assert_a_kept_view_reads_only_the_stamp(lambda: _rows(client, cast.gary), stamp_reads_cases=False)
