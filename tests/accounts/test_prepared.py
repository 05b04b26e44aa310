"""Queries written once (accounts/prepared.py): each call runs one query with its own values and gives
what the queryset would, and the memberships every signed-in page reads are Membership.objects.for_user's,
school and trust included."""

import threading
from datetime import datetime

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from accounts.middleware import memberships_of
from accounts.models import Membership, Role, School
from accounts.prepared import Prepared
from tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_memberships_are_those_of_for_user_with_school_and_trust_loaded(cast):
    lone = SchoolFactory(trust=None, name="Lone School", slug="lone", code="LON", urn="100009")
    Membership.objects.create(user=cast.helen, school=lone, role=Role.GOVERNOR)
    Membership.objects.create(user=cast.helen, school=cast.brookside, role=Role.DSL)
    for user in (cast.helen, cast.sam, cast.tom, cast.olive, cast.bethan):
        expected = list(Membership.objects.for_user(user))
        with CaptureQueriesContext(connection) as queries:
            found = memberships_of(user)
            # School and trust come with them: reading them costs nothing more.
            names = [(m.school.name, m.school.trust.name if m.school.trust_id else None) for m in found]
        assert len(queries) == 1
        assert [_fields(m) for m in found] == [_fields(m) for m in expected]  # same rows, same order
        assert [_fields(m.school) for m in found] == [_fields(m.school) for m in expected]
        assert names == [(m.school.name, m.school.trust.name if m.school.trust_id else None) for m in expected]
        assert all(isinstance(m.created_at, datetime) for m in found)  # converted, as the ORM would
    assert ("Lone School", None) in [(m.school.name, m.school.trust) for m in memberships_of(cast.helen)]
    assert len(memberships_of(cast.helen)) == 4


def test_an_inactive_person_has_no_memberships(cast):
    cast.helen.is_active = False
    cast.helen.save()
    assert memberships_of(cast.helen) == [] == list(Membership.objects.for_user(cast.helen))


def test_each_call_runs_with_its_own_values_in_each_thread(cast):
    names = Prepared(lambda school_id: School.objects.filter(pk=school_id).values_list("name", flat=True), 1)
    assert names.rows(cast.oakfield.pk) == [("Oakfield Primary",)]
    assert names.rows(cast.brookside.pk) == [("Brookside Academy",)]
    assert names.rows(-1) == []
    seen = []
    thread = threading.Thread(target=lambda: seen.append(names._local.__dict__.get("per_db")))
    thread.start()
    thread.join()
    assert seen == [None]  # another thread writes its own


def test_a_value_that_stands_in_several_places_goes_to_each(cast):
    """A person's id in each branch of a rule: every place gets the call's value, not only the first."""

    def build(pk):
        return School.objects.filter(Q(pk=pk) | Q(trust_id=pk)).order_by("pk").values_list("name")

    either = Prepared(build, 1)
    for value in (cast.oakfield.pk, cast.brookside.pk, cast.oakfield.trust_id):
        assert either.rows(value) == [tuple(row) for row in build(value)]
    assert {row for value in (cast.oakfield.pk, cast.oakfield.trust_id) for row in either.rows(value)} == {
        ("Oakfield Primary",),
        ("Brookside Academy",),
    }
    # Only the second place would match: a value left in the second place would find nothing.
    lone = SchoolFactory(trust=None, name="Lone School", slug="lone", code="LON", urn="100009")
    tail = Prepared(lambda pk: School.objects.filter(pk__gte=pk, pk__lte=pk).values_list("name", flat=True), 1)
    assert tail.rows(lone.pk) == [("Lone School",)]


def test_a_shape_whose_value_is_not_a_parameter_as_itself_is_refused(cast):
    turned = Prepared(lambda pk: School.objects.filter(pk=pk + 1).values_list("name"), 1)
    with pytest.raises(ValueError, match="not a parameter"):
        turned.rows(cast.oakfield.pk)


def _stored(event_id) -> dict:
    from django.forms.models import model_to_dict

    from accounts.models import AuditEvent

    row = AuditEvent.objects.get(pk=event_id)
    return {**model_to_dict(row, exclude=["id"]), "at": row.at}


def test_the_audit_row_written_from_prepared_sql_is_the_one_save_writes(cast):
    """accounts/audit.record writes through PreparedInsert: every column as the model's own save()
    stores it, whatever the values (no school, an IPv6 address, nested and non-ASCII detail)."""
    from django.utils import timezone

    from accounts.models import AuditAction, AuditEvent
    from accounts.prepared import PreparedInsert

    insert = PreparedInsert(AuditEvent)
    at = timezone.now().replace(microsecond=123456)
    for values in (
        {"actor": cast.helen, "actor_email": cast.helen.email, "school_id": cast.oakfield.pk, "ip": "192.0.2.7"},
        {"actor": None, "school_id": None, "ip": None, "detail": {}},
        {"ip": "2001:db8::1", "detail": {"incident": 42, "fields": ["a", "é"], "nested": {"n": None, "ok": True}}},
    ):
        fields = {"at": at, "action": AuditAction.VIEW, "object_type": "incident", "object_ref": "OAK-X", **values}
        through_save, prepared = AuditEvent(**fields), AuditEvent(**fields)
        through_save.save(force_insert=True)
        insert.save(prepared)
        assert prepared.pk is not None and prepared.pk > through_save.pk and not prepared._state.adding
        assert _stored(prepared.pk) == _stored(through_save.pk)
    with pytest.raises(ValueError, match="new rows only"):
        insert.save(prepared)


def test_a_query_that_matches_nothing_whatever_the_values_runs_none(cast):
    """Built with `pk__in=[]` the ORM writes no SQL at all (EmptyResultSet): neither does a prepared
    query, and each call is an empty answer, not an error."""
    from accounts.prepared import PreparedObjects

    names = Prepared(lambda school_id: School.objects.filter(pk__in=[]).filter(pk=school_id).values_list("name"), 1)
    schools = PreparedObjects(lambda school_id: School.objects.filter(pk__in=[], trust=school_id), 1)
    with CaptureQueriesContext(connection) as queries:
        assert names.rows(cast.oakfield.pk) == [] == names.rows(cast.brookside.pk)
        assert schools.objects(cast.oakfield.pk) == [] == list(School.objects.filter(pk__in=[], trust=1))
    assert len(queries) == 0
