"""In a request, `Incident.objects.visible_to(user)` & co build the access rule once and hand out a
fresh copy each time (incidents.models.IncidentManager): the copies must behave as independently
built querysets, and nothing may outlive the request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, Role
from incidents import access
from incidents.models import Incident
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def _in_a_request(user):
    """What accounts/middleware.py lends the user for one request."""
    memberships = list(Membership.objects.for_user(user))
    user.memberships_of_request = lambda: memberships
    user.access_rules_of_request = {}
    return user


def test_the_rule_is_built_once_per_entry_point_and_each_use_is_a_fresh_queryset(cast, monkeypatch):
    mine = IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    other = IncidentFactory(school=cast.brookside, reporter=cast.bethan, owner=cast.olive)
    built = []
    real = access.matching
    monkeypatch.setattr(access, "matching", lambda qs, user, names: built.append(names) or real(qs, user, names))
    helen = _in_a_request(cast.helen)

    first, second = Incident.objects.visible_to(helen), Incident.objects.visible_to(helen)
    assert first is not second
    assert list(first) == [mine]
    assert second._result_cache is None  # evaluating one copy filled no other
    assert list(second.filter(pk=other.pk)) == []
    assert list(Incident.objects.visible_to(helen)) == [mine]  # the filter above changed no other copy
    assert Incident.objects.owned_by(helen).get() == mine
    assert built == [access.VISIBLE, access.OWNED]  # once per entry point

    with CaptureQueriesContext(connection) as twice:
        assert Incident.objects.visible_to(helen).count() == Incident.objects.visible_to(helen).count() == 1
    assert twice[0]["sql"] == twice[1]["sql"]


def test_the_memo_is_per_person_and_follows_deactivation(cast):
    case = IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    helen, sam = _in_a_request(cast.helen), _in_a_request(cast.sam)
    assert list(Incident.objects.owned_by(helen)) == [case]
    # Sam's own memo, and Sam owns nothing: never Helen's rule.
    assert list(Incident.objects.owned_by(sam)) == []
    helen.is_active = False
    assert list(Incident.objects.owned_by(helen)) == []


def test_related_managers_and_requests_without_a_memo_build_as_before(cast):
    case = IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    IncidentFactory(school=cast.brookside, reporter=cast.bethan, owner=cast.olive)
    olive = _in_a_request(cast.olive)
    # A related manager is not "every case": its own filter (Oakfield) stays, and Olive owns none there.
    assert list(cast.oakfield.incidents.owned_by(olive)) == []
    assert not olive.access_rules_of_request
    Membership.objects.create(user=cast.olive, school=cast.oakfield, role=Role.HEAD)
    # The next request lends a new memo and the new membership: the rule follows at once.
    olive = _in_a_request(cast.olive)
    assert case in Incident.objects.owned_by(olive)
    del olive.access_rules_of_request  # outside a request (Celery, commands): built every time
    assert case in Incident.objects.owned_by(olive)
