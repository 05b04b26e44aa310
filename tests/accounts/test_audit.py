"""The audit trail: what is recorded, append-only, and a hash chain that shows tampering."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from accounts.audit import read_anchor, record, seal, verify
from accounts.models import AuditAction, AuditEvent, AuditSeal, Membership, Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchor.log")
    return tmp_path / "anchor.log"


def _events(n=5):
    return [record(AuditAction.VIEW, object_type="detail", object_id=i, detail={"n": i}) for i in range(n)]


def _raw(sql, params=()):
    """As a database superuser would: around the triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditevent ENABLE TRIGGER USER")


def test_sign_in_failed_sign_in_and_sign_out_are_recorded(client, cast):
    client.post(reverse("login"), {"username": cast.sam.email, "password": "wrong password here"})
    client.post(reverse("login"), {"username": cast.sam.email, "password": cast.password})
    client.post(reverse("logout"))
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "actor_id"))
    assert (AuditAction.SIGN_IN_FAILED, None) in actions
    assert (AuditAction.SIGN_IN, cast.sam.pk) in actions
    assert (AuditAction.SIGN_OUT, cast.sam.pk) in actions
    failed = AuditEvent.objects.get(action=AuditAction.SIGN_IN_FAILED)
    assert failed.detail == {"username": cast.sam.email}
    assert failed.ip == "127.0.0.1"


def test_role_changes_are_recorded(cast):
    membership = Membership.objects.create(user=cast.sam, school=cast.oakfield, role=Role.GOVERNOR)
    membership_id = membership.pk
    membership.delete()
    events = AuditEvent.objects.filter(action=AuditAction.ROLE_CHANGE, object_id=str(membership_id)).order_by("id")
    assert [(e.detail["op"], e.detail["user"], e.detail["role"]) for e in events] == [
        ("granted", cast.sam.pk, Role.GOVERNOR),
        ("removed", cast.sam.pk, Role.GOVERNOR),
    ]


def test_an_intact_chain_verifies_and_is_anchored(anchor_file):
    events = _events()
    assert seal(margin=__import__("datetime").timedelta(0)) >= 5
    result = verify()
    assert result.ok and result.checked >= 5
    assert read_anchor()[0] == AuditSeal.objects.order_by("-event_id").first().event_id
    assert AuditSeal.objects.filter(event_id__in=[e.pk for e in events]).count() == 5


def _sealed():
    from datetime import timedelta

    events = _events()
    seal(margin=timedelta(0))
    return events


def test_an_edited_event_is_caught():
    events = _sealed()
    _raw("UPDATE accounts_auditevent SET actor_email = %s WHERE id = %s", ["someone@else.example", events[2].pk])
    result = verify()
    assert result.problem == f"event {events[2].pk} was changed after sealing"


def test_a_deleted_event_is_caught():
    events = _sealed()
    _raw("DELETE FROM accounts_auditevent WHERE id = %s", [events[1].pk])
    assert verify().problem == f"event {events[1].pk} is missing: deleted after sealing"


def test_an_event_inserted_into_the_sealed_range_is_caught():
    events = _sealed()
    first = AuditSeal.objects.order_by("event_id").first().event_id
    _raw(
        "INSERT INTO accounts_auditevent"
        " (id, at, actor_email, action, object_type, object_id, object_ref, path, detail)"
        " VALUES (%s, %s, '', 'view', 'detail', '99', '', '', '{}')",
        [first - 1 if first > 1 else 0, events[0].at],
    )
    assert "inserted after sealing" in verify().problem


def test_a_rewritten_chain_does_not_match_the_anchor():
    """A superuser who edits an event and recomputes every seal is caught by the outside anchor."""
    from accounts.audit import GENESIS, chain

    events = _sealed()
    _raw("UPDATE accounts_auditevent SET detail = %s WHERE id = %s", ['{"n": 42}', events[0].pk])
    prev = GENESIS
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditseal DISABLE TRIGGER USER")
        for event in AuditEvent.objects.filter(pk__in=AuditSeal.objects.values("event_id")).order_by("id"):
            digest = chain(prev, event)
            cursor.execute(
                "UPDATE accounts_auditseal SET prev_hash = %s, hash = %s WHERE event_id = %s", [prev, digest, event.pk]
            )
            prev = digest
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditseal ENABLE TRIGGER USER")
    assert "does not match the anchor" in verify().problem


def test_verify_audit_command_exits_non_zero_naming_the_link():
    events = _sealed()
    call_command("verify_audit")
    _raw("UPDATE accounts_auditevent SET action = 'export' WHERE id = %s", [events[3].pk])
    with pytest.raises(CommandError, match=f"event {events[3].pk} was changed"):
        call_command("verify_audit")


def test_the_orm_refuses_to_change_or_delete_an_event():
    event = _events(1)[0]
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["accounts_auditevent", "accounts_auditseal"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET {column} = {column}", "DELETE FROM {table}"])
def test_the_database_rejects_updates_and_deletes_of_audit_tables(table, statement):
    _sealed()
    column = "action" if table == "accounts_auditevent" else "hash"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(table=table, column=column))


@pytest.mark.postgres
def test_raw_sql_changes_to_cases_are_recorded_by_the_database(cast):
    from tests.incidents.clock_helpers import received, report

    incident = report(cast, at=received("2025-11-19 10:30"))
    changes = AuditEvent.objects.filter(
        action=AuditAction.DB_CHANGE, object_type="incidents_incident", object_id=str(incident.pk)
    )
    assert "insert" in {event.detail["op"] for event in changes}
    before = set(changes.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE incidents_incident SET legal_hold = true WHERE id = %s", [incident.pk])
    new = changes.exclude(pk__in=before)
    assert [(event.detail["op"], bool(event.detail["db_user"])) for event in new] == [("update", True)]


@pytest.mark.postgres
def test_case_timelines_are_append_only_except_for_the_retention_job(cast):
    from incidents.models import TimelineEntry, TimelineKind
    from tests.incidents.clock_helpers import received, report

    incident = report(cast, at=received("2025-11-19 10:30"))
    entry = TimelineEntry.objects.create(incident=incident, kind=TimelineKind.NOTE, note="first")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TimelineEntry.objects.filter(pk=entry.pk).update(note="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TimelineEntry.objects.filter(pk=entry.pk).delete()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL policyhub.retention = 'on'")
        TimelineEntry.objects.filter(pk=entry.pk).delete()
    assert not TimelineEntry.objects.filter(pk=entry.pk).exists()


def test_row_changes_are_recorded_on_either_database(cast):
    """PostgreSQL: the triggers; SQLite (the embedded default): the ORM signals."""
    Membership.objects.create(user=cast.sam, school=cast.oakfield, role=Role.DSL)
    assert AuditEvent.objects.filter(action=AuditAction.DB_CHANGE, object_type="accounts_membership").exists()
