"""PostgreSQL connections prepare the SELECTs they run again and again (policyhub/postgresql/base.py).

A prepared statement must answer exactly as the plain one: same rows, same Python types. The
parameters are declared with the type the plain statement gives psycopg2's literal, so PostgreSQL
cannot type them otherwise (`SELECT %s` with a number would be text if left to it).
"""

import datetime
import decimal
import uuid
from contextlib import contextmanager

import pytest
from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce, Concat, Now
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import Incident, TimelineEntry
from policyhub.postgresql.base import Statements, numbered, param_type
from tests.auth import verified_login
from tests.incidents.factories import IncidentFactory

# --- Without a database: how a statement is written and its parameters typed ------------------------


def test_numbered_writes_psycopg2_marks_as_postgresql_parameters():
    assert numbered("SELECT a FROM t WHERE b = %s AND c LIKE 'x%%' AND d IN (%s, %s)", 3) == (
        "SELECT a FROM t WHERE b = $1 AND c LIKE 'x%' AND d IN ($2, $3)"
    )
    assert numbered("SELECT 1", 0) == "SELECT 1"


@pytest.mark.parametrize(
    ("sql", "count"),
    [
        ("SELECT %s", 2),  # fewer marks than parameters
        ("SELECT %s, %s", 1),
        ("SELECT %(name)s", 1),  # named marks are psycopg2's dict form
        ("SELECT %d", 1),
    ],
)
def test_numbered_refuses_what_psycopg2_would_read_differently(sql, count):
    assert numbered(sql, count) is None


@pytest.mark.parametrize(
    ("value", "declared"),
    [
        (None, "unknown"),
        ("text", "unknown"),
        (True, "boolean"),
        (7, "integer"),
        (-(2**31), "integer"),
        (2**31, "bigint"),
        (2**63, "numeric"),
        (1.5, "numeric"),
        (float("inf"), "double precision"),
        (decimal.Decimal("2.50"), "numeric"),
        (datetime.date(2026, 12, 3), "date"),
        (datetime.datetime(2026, 12, 3, 9, 0), "timestamp without time zone"),
        (datetime.datetime(2026, 12, 3, 9, 0, tzinfo=datetime.UTC), "timestamp with time zone"),
        (datetime.time(9, 30), "time without time zone"),
        (datetime.timedelta(hours=24), "interval"),
        (uuid.UUID(int=5), "uuid"),
        (b"\x00\x01", "bytea"),
        ([1, 2, None], "integer[]"),
        ([1, 2**40], "bigint[]"),
        ([2**40, 2**70], "numeric[]"),
        (["a", None], "text[]"),
        ([], "unknown"),
    ],
)
def test_each_parameter_is_declared_as_the_plain_statement_types_its_literal(value, declared):
    assert param_type(value) == declared


@pytest.mark.parametrize(
    "value",
    [(1, 2), {"a": 1}, [1.5], [True], datetime.time(9, 30, tzinfo=datetime.UTC), object()],
)
def test_a_parameter_of_unsure_type_keeps_the_statement_plain(value):
    assert param_type(value) is None


def test_statements_are_prepared_at_the_threshold_and_the_least_recently_used_dropped():
    statements = Statements(threshold=2, size=2)
    assert statements.name_for("SELECT a") is None  # first time: plain
    assert statements.name_for("SELECT a") == ""  # second: prepare now
    statements.keep("SELECT a", "ph_1")
    assert statements.name_for("SELECT a") == "ph_1"
    for text, name in (("SELECT b", "ph_2"), ("SELECT c", "ph_3")):
        statements.name_for(text)
        statements.name_for(text)
        statements.keep(text, name)
    assert statements.stale == ["ph_1"]  # three kept, room for two: the oldest goes
    assert statements.name_for("SELECT a") is None


# --- On PostgreSQL ----------------------------------------------------------------------------------

pg = [pytest.mark.postgres, pytest.mark.django_db]


@contextmanager
def preparing(threshold=1, size=100):
    """This connection with a fresh set of statements prepared at `threshold`; 0: none."""
    connection.ensure_connection()
    kept = connection._statements
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection._statements = Statements(threshold, size) if threshold else None
    try:
        yield connection._statements
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        connection._statements = Statements(kept.threshold, kept.size) if kept else None


def _prepared_names():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, generic_plans + custom_plans FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def _queries(cast):
    """Queries with every kind of parameter the app sends, read as rows and Python types."""
    now = timezone.now()
    base = Incident.objects.order_by("pk")
    return {
        "plain rows": lambda: list(base.values_list("reference", "status", "received_at", "child_at_risk")),
        "numbers in the select list": lambda: list(
            base.annotate(one=Value(1), flag=Value(True), rate=Value(decimal.Decimal("1.25"))).values_list(
                "one", "flag", "rate"
            )
        ),
        "a CASE of numbers, grouped": lambda: list(
            base.annotate(
                term=Case(
                    When(received_at__gte=now - datetime.timedelta(days=30), then=Value(0)),
                    When(received_at__lt=now - datetime.timedelta(days=30), then=Value(1)),
                    output_field=IntegerField(),
                )
            )
            .values("term")
            .annotate(n=Count("pk"))
            .order_by("term")
        ),
        "exists and count": lambda: (base.filter(reporter=cast.sam).exists(), base.filter(reporter=cast.sam).count()),
        "an Exists subquery": lambda: list(
            base.annotate(
                noted=Exists(TimelineEntry.objects.filter(incident=OuterRef("pk"), at__lte=Now()))
            ).values_list("reference", "noted")
        ),
        "lists and ranges": lambda: list(
            base.filter(pk__in=[0, *base.values_list("pk", flat=True)], status__in=["submitted", "closed"])
            .filter(received_at__range=(now - datetime.timedelta(days=400), now))
            .values_list("pk", flat=True)
        ),
        "a date against a time": lambda: list(
            base.filter(received_at__date__lte=now.date()).values_list("pk", flat=True)
        ),
        "strings and NULLs": lambda: list(
            base.annotate(label=Concat(F("reference"), Value(" / "), Coalesce(F("outcome"), Value("none"))))
            .filter(Q(subject__isnull=True) | Q(subject=cast.helen))
            .values_list("label", flat=True)
        ),
        "no parameter at all": lambda: list(Incident.objects.raw("SELECT id FROM incidents_incident ORDER BY id")),
        # Ordered by a number the query chose: as text, 10 would come before 9.
        "ordered by a chosen number": lambda: list(
            base.annotate(rank=Case(When(subject__isnull=True, then=Value(10)), default=Value(9)))
            .order_by("rank", "pk")
            .values_list("pk", flat=True)
        ),
        "a raw cursor": lambda: _raw(
            "SELECT %s, %s, %s, %s, %s, %s ORDER BY 1", [5, 1.5, True, now, now.date(), ["a", "b"]]
        ),
    }


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _answer(value):
    """Rows with their Python types, so a number read back as text differs."""
    if isinstance(value, (list, tuple)):
        return [_answer(item) for item in value]
    if isinstance(value, dict):
        return {key: _answer(item) for key, item in value.items()}
    if hasattr(value, "pk"):
        return ("row", value.pk)
    return (type(value).__name__, value)


@pytest.mark.postgres
@pytest.mark.django_db
def test_prepared_statements_answer_exactly_as_the_plain_ones(cast):
    for n in range(3):
        about = {"involved": "staff", "subject": cast.helen} if n == 1 else {}
        IncidentFactory(school=cast.oakfield, reporter=cast.sam, **about)
    queries = _queries(cast)
    with preparing(0):
        plain = {name: _answer(run()) for name, run in queries.items()}
    with preparing(1):
        first = {name: _answer(run()) for name, run in queries.items()}  # prepared, then executed
        again = {name: _answer(run()) for name, run in queries.items()}  # executed
        used = _prepared_names()
    assert first == plain
    assert again == plain
    # They did run prepared: one statement per query (the raw one has no parameter list to prepare
    # from, but Django passes an empty one), each executed twice.
    assert len(used) >= len(queries), used
    assert all(times == 2 for times in used.values()), used


@pytest.mark.postgres
@pytest.mark.django_db
def test_django_still_records_the_plain_statement(cast):
    with preparing(1), CaptureQueriesContext(connection) as captured:
        list(Incident.objects.filter(reporter=cast.sam))
        list(Incident.objects.filter(reporter=cast.sam))
    assert len(captured) == 2
    for query in captured.captured_queries:
        assert query["sql"].startswith('SELECT "incidents_incident"."id"'), query["sql"]
        assert f'"reporter_id" = {cast.sam.pk}' in query["sql"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_statement_is_prepared_only_once_run_threshold_times():
    with preparing(3), connection.cursor() as cursor:
        for times in (1, 2, 3, 4):
            cursor.execute("SELECT %s + 1", [times])
            assert cursor.fetchone() == (times + 1,)
            assert len(_prepared_names()) == (1 if times >= 3 else 0)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_statement_postgresql_cannot_prepare_runs_plainly_and_the_transaction_goes_on(cast):
    # pg_typeof(NULL) is fine as a literal; as a parameter PostgreSQL cannot type it.
    with preparing(1), transaction.atomic():
        with connection.cursor() as cursor:
            for _ in range(2):
                cursor.execute("SELECT pg_typeof(%s)::text", [None])
                assert cursor.fetchone() == ("unknown",)
        assert _prepared_names() == {}
        assert Incident.objects.filter(reporter=cast.sam).count() == 0  # the transaction is usable


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_text_run_with_a_bigger_number_is_another_statement():
    with preparing(1), connection.cursor() as cursor:
        cursor.execute("SELECT %s + 1", [5])
        cursor.execute("SELECT %s + 1", [5_000_000_000])  # integer out of range if reused
        assert cursor.fetchone() == (5_000_000_001,)
        assert len(_prepared_names()) == 2


@pytest.mark.postgres
@pytest.mark.django_db
def test_no_more_than_the_limit_are_kept_on_the_server():
    with preparing(1, size=2), connection.cursor() as cursor:
        for n in range(6):
            cursor.execute(f"SELECT %s * {n + 2}", [n])
            assert cursor.fetchone() == (n * (n + 2),)
        assert len(_prepared_names()) <= 3  # two kept, one dropped with the next PREPARE


@pytest.mark.postgres
@pytest.mark.django_db
def test_inside_a_transaction_a_failed_execute_is_an_error_and_the_statement_is_forgotten():
    with preparing(1) as statements, connection.cursor() as cursor:
        cursor.execute("SELECT %s + 1", [1])
        (name,) = _prepared_names()
        cursor.execute(f"DEALLOCATE {name}")  # gone behind its back
        with pytest.raises(Exception, match="does not exist"), transaction.atomic():
            cursor.execute("SELECT %s + 1", [1])
        assert ("SELECT %s + 1", ("integer",)) not in statements.prepared
        cursor.execute("SELECT %s + 1", [2])  # prepared again
        assert cursor.fetchone() == (3,)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_failed_execute_runs_the_statement_plainly():
    with preparing(1), connection.cursor() as cursor:
        cursor.execute("SELECT %s + 1", [1])
        (name,) = _prepared_names()
        cursor.execute(f"DEALLOCATE {name}")
        cursor.execute("SELECT %s + 1", [5])
        assert cursor.fetchone() == (6,)


@pytest.mark.postgres
@pytest.mark.django_db
def test_pages_are_the_same_with_and_without_prepared_statements(cast, client):
    """Whole pages, as the person who sees the most: the same HTML whether or not the connection
    prepares (the CSRF token and the nonce aside)."""
    import re

    for n in range(4):
        IncidentFactory(school=cast.oakfield, reporter=cast.sam if n % 2 else cast.dina)
    verified_login(client, cast.helen)
    paths = ["/", "/incidents/queue/", "/policy/"]
    # Per request: the script nonce and the forms' CSRF token.
    noise = re.compile(r'nonce="[^"]*"|name="csrfmiddlewaretoken" value="[^"]*"')

    def pages():
        return {path: noise.sub("", client.get(path).content.decode()) for path in paths}

    with preparing(0):
        plain = pages()
    with preparing(1):
        pages()
        prepared = pages()
    assert prepared == plain
    assert all(client.get(path).status_code == 200 for path in paths)
    assert len(plain["/incidents/queue/"]) > 1000  # a real page, not an error


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_apps_connections_run_without_jit_unless_asked(settings):
    """JIT is chosen from a query's estimated cost; the person's stamp, estimated high at 1,000,000
    cases, compiled for 9 ms to run for 0.1 ms on every page (docs/performance.md). A new connection
    turns it off; DATABASE_JIT=true leaves the server's setting."""
    from django.db import connections

    def jit_of_a_new_connection() -> str:
        fresh = connections.create_connection("default")
        try:
            with fresh.cursor() as cursor:
                cursor.execute("SHOW jit")
                return cursor.fetchone()[0]
        finally:
            fresh.close()

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
    assert jit_of_a_new_connection() == "off"
    settings.DATABASE_JIT = True
    assert jit_of_a_new_connection() == "on"  # the server's default (PostgreSQL 12 and later)
