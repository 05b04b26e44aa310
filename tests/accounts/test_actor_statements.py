"""The audit actor travels with the statements that write (accounts/actor.py,
policyhub/postgresql/base.py ActingCursor): each INSERT, UPDATE or DELETE is sent with the settings
naming who is acting, in the same round trip, and they last until the end of its transaction.

What must hold whatever the statement looks like: every row change names the actor of the moment it
was made (nobody for anonymous work), inside a transaction and across a rollback, and nothing is
left on a connection for the next request; and a page that writes only its audit row sends no
statement of its own for the actor."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.actor import acting_as
from accounts.models import AuditAction, AuditEvent, User
from incidents.models import Status
from policyhub.postgresql.base import _reads_only, as_written
from tests.incidents.factories import fresh, policy_for, report, sign_in

pg = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.mark.parametrize(
    ("sql", "reads"),
    [
        ("SELECT 1", True),
        ('SELECT "a" FROM "t" WHERE "b" = %s', True),
        ("  select 1", True),
        ("SAVEPOINT s1", True),
        ("SET jit = off", True),
        ("CREATE DATABASE x", True),  # no row trigger, and cannot run inside a transaction
        ("VACUUM t", True),
        ("SELECT 1; UPDATE t SET a = 1", False),  # a second statement may write
        ("SELECT ';'", False),  # cannot tell without parsing: sent with the settings, harmlessly
        ('INSERT INTO "t" ("a") VALUES (%s)', False),
        ("update t set a = 1", False),
        ("\nWITH x AS (DELETE FROM t RETURNING a) SELECT * FROM x", False),
        ("-- a comment\nUPDATE t SET a = 1", False),
        ("/* hint */ DELETE FROM t", False),
        ("(SELECT 1)", False),
        ("EXECUTE ph_1 (1)", False),  # a prepared statement may write
        ("EXPLAIN ANALYZE DELETE FROM t", False),
        ("MERGE INTO t USING u ON true WHEN MATCHED THEN DELETE", False),
        (b"UPDATE t SET a = 1", False),
        (b"SELECT 1", True),
        ("", False),
    ],
)
def test_which_statements_are_sent_without_the_actor(sql, reads):
    assert _reads_only(sql) is reads


def _last_id():
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _changed_by(before, table="accounts_user"):
    """(actor_id, actor_email, system label) of each row change since `before`, in order."""
    changes = AuditEvent.objects.filter(pk__gt=before, action=AuditAction.DB_CHANGE, object_type=table).order_by("id")
    return [(e.actor_id, e.actor_email, e.detail.get("actor")) for e in changes]


def _touch(person, sql=None, params=None, many=None):
    """Change `person`'s row: through the ORM, or with `sql` (`%s` = their id) run plainly or with
    executemany."""
    if sql is None:
        User.objects.filter(pk=person.pk).update(full_name=person.full_name)
        return
    with connection.cursor() as cursor:
        if many is not None:
            cursor.executemany(sql, many)
        else:
            cursor.execute(sql, params)


@pytest.mark.parametrize(
    "how",
    [
        {},
        {"sql": 'UPDATE "accounts_user" SET "full_name" = "full_name" WHERE "id" = %s', "params": "pk"},
        {"sql": "update accounts_user set full_name = full_name where id = {pk}"},  # no parameters at all
        {"sql": "-- said first\nUPDATE accounts_user SET full_name = full_name WHERE id = %s", "params": "pk"},
        {
            "sql": "WITH changed AS (UPDATE accounts_user SET full_name = full_name WHERE id = %s RETURNING id)"
            " SELECT count(*) FROM changed",
            "params": "pk",
        },
        {"sql": "UPDATE accounts_user SET full_name = full_name WHERE id = %s", "many": "pk"},
        {"sql": "SELECT 1; UPDATE accounts_user SET full_name = full_name WHERE id = {pk}"},
    ],
    ids=["orm", "params", "no-params", "comment-first", "with", "executemany", "two-statements"],
)
@pytest.mark.postgres
@pytest.mark.django_db
def test_every_form_of_write_names_the_actor_and_the_next_anonymous_one_nobody(cast, how):
    sql = how.get("sql", "").replace("{pk}", str(cast.sam.pk)) or None
    params = [cast.sam.pk] if how.get("params") else None
    many = [[cast.sam.pk]] if how.get("many") else None
    before = _last_id()
    with acting_as(cast.helen):
        _touch(cast.sam, sql, params, many)
    _touch(cast.sam, sql, params, many)  # same transaction (the test's), nobody acting
    with acting_as(system="task:demo"):
        _touch(cast.sam, sql, params, many)
    assert _changed_by(before) == [
        (cast.helen.pk, cast.helen.email, None),
        (None, "", None),
        (None, "", "system:task:demo"),
    ]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_rolled_back_savepoint_does_not_take_the_actor_with_it(cast):
    before = _last_id()
    with transaction.atomic(), acting_as(cast.helen):
        _touch(cast.sam)
        try:
            with transaction.atomic():
                _touch(cast.tom)  # its change and the settings it sent are rolled back
                raise RuntimeError
        except RuntimeError:
            pass
        _touch(cast.gary)
        with acting_as(cast.olive):  # nested: Olive, then Helen again
            _touch(cast.sam)
        _touch(cast.tom)
    rows = AuditEvent.objects.filter(pk__gt=before, action=AuditAction.DB_CHANGE, object_type="accounts_user")
    assert [(int(e.object_id), e.actor_id) for e in rows.order_by("id")] == [
        (cast.sam.pk, cast.helen.pk),
        (cast.gary.pk, cast.helen.pk),
        (cast.sam.pk, cast.olive.pk),
        (cast.tom.pk, cast.helen.pk),
    ]


@pytest.mark.parametrize("with_params", [True, False])
@pytest.mark.postgres
@pytest.mark.django_db
def test_an_actor_with_quotes_and_percent_signs_is_recorded_exactly(cast, with_params):
    label = "task:50% o'clock; DROP TABLE x --"
    before = _last_id()
    with acting_as(system=label):
        if with_params:
            _touch(cast.sam, "UPDATE accounts_user SET full_name = full_name WHERE id = %s", [cast.sam.pk])
        else:
            _touch(cast.sam, f"UPDATE accounts_user SET full_name = full_name WHERE id = {cast.sam.pk}")  # noqa: S608 (an id)
    assert _changed_by(before) == [(None, "", f"system:{label}")]


def _session_settings():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(current_setting('policyhub.actor_id', true), ''),"
            " coalesce(current_setting('policyhub.actor_email', true), ''),"
            " coalesce(current_setting('policyhub.actor', true), '')"
        )
        return cursor.fetchone()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_in_autocommit_a_request_leaves_nothing_on_the_connection_and_sends_no_statement_for_it(client, cast):
    """As in production (no test transaction around the request): the settings end with each
    write's own transaction. A GET whose only write is its audit row sends no set_config of its own;
    a POST's writes name the person."""
    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam)
    sign_in(client, cast.helen)
    url = reverse("incidents:detail", args=[incident.reference])
    client.get(url)
    with CaptureQueriesContext(connection) as page:
        assert client.get(url).status_code == 200
    sent = [q["sql"] for q in page.captured_queries]
    assert not [sql for sql in sent if sql.startswith("SELECT set_config") and ";" not in sql], sent
    (audit_row,) = [sql for sql in sent if "INSERT INTO" in sql]
    assert audit_row.startswith("SELECT set_config('policyhub.actor_id', ")  # its settings go with it
    assert _session_settings() == ("", "", "")

    before = _last_id()
    assert client.post(reverse("incidents:acknowledge", args=[incident.reference])).status_code == 302
    assert fresh(incident).status == Status.TRIAGE
    assert set(_changed_by(before, "incidents_incident")) == {(cast.helen.pk, cast.helen.email, None)}
    assert _session_settings() == ("", "", "")

    # A statement that cannot run inside a transaction still runs while someone is acting.
    with acting_as(cast.helen), connection.cursor() as cursor:
        cursor.execute("VACUUM accounts_auditevent")


@pytest.mark.postgres
@pytest.mark.django_db
def test_with_prepared_statements_off_writes_still_name_the_actor(cast):
    """DATABASE_PREPARE_THRESHOLD=0 gives the connection the plain ActingCursor, not the preparing one."""
    from policyhub.postgresql.base import ActingCursor, PreparingCursor
    from tests.policyhub.test_prepared_statements import preparing

    before = _last_id()
    with preparing(0), connection.cursor() as cursor:
        assert type(cursor.cursor) is ActingCursor and not isinstance(cursor.cursor, PreparingCursor)
        with acting_as(cast.helen):
            _touch(cast.sam)
        _touch(cast.sam)
    assert _changed_by(before) == [(cast.helen.pk, cast.helen.email, None), (None, "", None)]


@pytest.mark.parametrize("label", ["task:plain", "task:50% o'clock; UPDATE x --", "task:back\\slash", ""])
@pytest.mark.postgres
@pytest.mark.django_db
def test_the_recorded_statement_reads_as_written_without_the_settings(cast, label):
    """Django records the text sent (settings included); as_written() gives the statement the code
    wrote, so that a write is still told from a read by its first word (tests/incidents/test_read_plans.py)."""
    with acting_as(system=label) if label else acting_as(), CaptureQueriesContext(connection) as captured:
        _touch(cast.sam)
        User.objects.filter(pk=cast.sam.pk).exists()
    write, read = (q["sql"] for q in captured.captured_queries)
    assert write.startswith("SELECT set_config(")
    assert as_written(write).startswith('UPDATE "accounts_user" SET')
    assert as_written(read) == read and read.startswith("SELECT ")
