"""In a request, `Incident.objects.visible_to(user)` & co build the access rule once per person, roles
and entry point, keep it for the requests that follow, and hand out a fresh copy each time
(incidents.models.IncidentManager). The copies must behave as independently built querysets, and a
kept rule must never outlive what it was built from: the person's memberships, their being active,
and the rule's own code."""

import threading

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, Role
from incidents import access, models
from incidents.models import Incident
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    models._built_rules.rules.clear()
    yield
    models._built_rules.rules.clear()


@pytest.fixture
def built(monkeypatch):
    """The entry points' names each time a rule is really built."""
    names = []
    real = access.matching
    monkeypatch.setattr(access, "matching", lambda qs, user, wanted: names.append(wanted) or real(qs, user, wanted))
    return names


def _in_a_request(user):
    """What accounts/middleware.py lends the user for one request: this request's memberships."""
    memberships = list(Membership.objects.for_user(user))
    user.memberships_of_request = lambda: memberships
    return user


def test_the_rule_is_built_once_per_entry_point_and_each_use_is_a_fresh_queryset(cast, built):
    mine = IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    other = IncidentFactory(school=cast.brookside, reporter=cast.bethan, owner=cast.olive)
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


def test_the_next_request_with_the_same_roles_reuses_the_rule(cast, built):
    case = IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    assert list(Incident.objects.owned_by(_in_a_request(cast.helen))) == [case]
    # A new request: a new user object, memberships fetched again, the same roles.
    again = _in_a_request(type(cast.helen).objects.get(pk=cast.helen.pk))
    assert list(Incident.objects.owned_by(again)) == [case]
    assert built == [access.OWNED]
    # The data is read afresh each time: only the rule is kept.
    later = IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    assert set(Incident.objects.owned_by(_in_a_request(cast.helen))) == {case, later}


def test_the_rule_is_per_person_and_follows_roles_and_deactivation_at_the_next_request(cast, built):
    case = IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    IncidentFactory(school=cast.brookside, reporter=cast.bethan, owner=cast.olive)
    assert list(Incident.objects.owned_by(_in_a_request(cast.helen))) == [case]
    # Sam's own rule, and Sam owns nothing: never Helen's.
    assert list(Incident.objects.owned_by(_in_a_request(cast.sam))) == []

    # Olive becomes head of Oakfield too: her next request sees its cases.
    olive = _in_a_request(cast.olive)
    assert case not in Incident.objects.owned_by(olive)
    grant = Membership.objects.create(user=cast.olive, school=cast.oakfield, role=Role.HEAD)
    assert case in Incident.objects.owned_by(_in_a_request(cast.olive))
    # ...and no longer once the role is removed.
    grant.delete()
    assert case not in Incident.objects.owned_by(_in_a_request(cast.olive))

    # Helen, deactivated in the middle of a request, matches nothing from then on.
    helen = _in_a_request(cast.helen)
    helen.is_active = False
    assert list(Incident.objects.owned_by(helen)) == []
    assert list(Incident.objects.visible_to(helen)) == []


def test_the_written_rule_names_the_person_and_roles_and_is_written_once_per_kept_rule(cast, built, monkeypatch):
    """`written_rule` (the cache key of reporting/figures_cache.py) is the SQL of the rule's ids:
    another person, a role more or a deactivated person gives another; the same person and roles
    at the next request the same, without writing it again."""

    def written(user, entry="figures_for"):
        return Incident.objects.written_rule(entry, user)

    helen = written(_in_a_request(cast.helen))
    sql, params = helen
    assert "incidents_incident" in sql and cast.helen.pk in params
    compiled = []
    real = type(Incident.objects.none().query).sql_with_params
    monkeypatch.setattr(type(Incident.objects.none().query), "sql_with_params", lambda q: compiled.append(1) or real(q))
    assert written(_in_a_request(cast.helen)) == helen and not compiled  # kept with the rule
    assert written(_in_a_request(cast.dina)) != helen
    grant = Membership.objects.create(user=cast.helen, school=cast.brookside, role=Role.GOVERNOR)
    assert written(_in_a_request(cast.helen)) != helen
    grant.delete()
    assert written(_in_a_request(cast.helen)) == helen
    # A trust admin reads no case as a governor: a rule with nothing to write.
    assert written(_in_a_request(cast.tom), "under_review_for") == ("", ())
    inactive = _in_a_request(cast.helen)
    inactive.is_active = False
    assert written(inactive) != helen
    # Outside a request it is written each time, the same.
    assert written(Membership.objects.get(user=cast.helen, role=Role.HEAD).user) == helen


def test_a_changed_rule_is_built_again(cast, built, monkeypatch):
    """The key holds the rule's code: a relation replaced (as the mutation tests do) is never served
    from what the old relation built, and the old rule is back once it is restored."""
    case = IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    assert list(Incident.objects.owned_by(_in_a_request(cast.helen))) == [case]
    owned = access.OWNED
    with monkeypatch.context() as patch:
        nobody = tuple(
            access.Relation(r.name, r.role, q=lambda v: Q(pk__in=[]), holds=r.holds, guarded=r.guarded)
            if r.name == "head"
            else r
            for r in access.RELATIONS
        )
        patch.setattr(access, "RELATIONS", nobody)
        patch.setattr(access, "BY_NAME", {r.name: r for r in nobody})
        assert list(Incident.objects.owned_by(_in_a_request(cast.helen))) == []
        patch.setattr(access, "OWNED", ("dsl",))
        assert list(Incident.objects.owned_by(_in_a_request(cast.helen))) == []
        # Viewer.at, a method of a class of access.py, is part of the rule too.
        patch.setattr(access, "OWNED", owned)
        patch.setattr(access.Viewer, "at", lambda self, *roles: [])
        assert list(Incident.objects.owned_by(_in_a_request(cast.helen))) == []
    # Restored: the rule first built, still kept, is served again.
    assert list(Incident.objects.owned_by(_in_a_request(cast.helen))) == [case]
    assert built == [owned, owned, ("dsl",), owned]


def test_related_managers_other_threads_and_work_outside_a_request_build_their_own(cast, built):
    case = IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    IncidentFactory(school=cast.brookside, reporter=cast.bethan, owner=cast.olive)
    olive = _in_a_request(cast.olive)
    # A related manager is not "every case": its own filter (Oakfield) stays, and Olive owns none there.
    assert list(cast.oakfield.incidents.owned_by(olive)) == []
    assert not models._built_rules.rules

    helen = _in_a_request(cast.helen)
    assert list(Incident.objects.owned_by(helen)) == [case]
    # Another thread keeps its own rules: nothing built here is shared with it.
    seen = []
    thread = threading.Thread(target=lambda: seen.append(len(models._built_rules.rules)))
    thread.start()
    thread.join()
    assert seen == [0]

    del helen.memberships_of_request  # outside a request (Celery, commands): built every time
    assert list(Incident.objects.owned_by(helen)) == [case]
    assert list(Incident.objects.owned_by(helen)) == [case]
    assert built == [access.OWNED, access.OWNED, access.OWNED, access.OWNED]


def test_the_kept_rules_are_bounded(cast, monkeypatch):
    monkeypatch.setattr(models._built_rules, "SIZE", 2)
    people = [cast.helen, cast.sam, cast.olive, cast.bethan]
    for person in people:
        Incident.objects.visible_to(_in_a_request(person))
    assert len(models._built_rules.rules) == 2
    assert [key[1] for key in models._built_rules.rules] == [cast.olive.pk, cast.bethan.pk]
