"""Which schools' figures have changed: database triggers and the stamp the pack's cache is keyed by
(reporting/figures_cache.py, docs/performance.md).

Every row inserted, updated or deleted in a table the governors' pack reads (the cases, their
timelines, reviews, deadlines, referrals, take-downs, tasks and cited clauses, the memberships the
access rule reads, the school's term dates and policy adoption) makes a trigger append one
`FiguresChange` row naming the school, with a random token. A change that may move every school's
pack (a policy version, a clause, an acknowledgement, a person made inactive or active again)
appends a row naming school 0, EVERY_SCHOOL. The trigger is in the database, so bulk updates, raw
SQL, the retention job and the admin are all seen; the row is written in the same transaction as
the change, so it is visible exactly when the change is.

A school's stamp is the count of its rows and school 0's, and the sum of their tokens. Appending needs no lock
(a counter row per school would make every writer of a school's cases queue for it until commit,
and two of them could deadlock); a row from a transaction that commits after a later one's still
changes the stamp, which the largest id would not. Two different sets of rows share a stamp only
if their token sums coincide, a chance of about one in 2**40 per change. `prune` keeps only each
school's newest row: that changes the stamp (the figures are worked out again once).
"""

import secrets

from django.db import connection, connections
from django.db.models import Count, Sum

TOKEN_RANGE = 2**40  # sums of a few million tokens stay inside SQLite's 64-bit integers
EVERY_SCHOOL = 0  # the school_id of a change that may move every school's pack (no school has id 0)


def _token() -> int:
    return secrets.randbelow(TOKEN_RANGE)


# Tables whose rows name their school (column), tables whose rows name a case (incident_id), and
# tables whose rows may change every school's pack; of accounts_user, only a change of is_active
# (the acknowledgement counts leave inactive people out) counts.
BY_SCHOOL = ["incidents_incident", "accounts_membership", "reporting_termdate", "policyhub_policyadoption"]
BY_CASE = [
    "incidents_timelineentry",
    "incidents_governorreview",
    "incidents_deadline",
    "incidents_referral",
    "incidents_takedownrequest",
    "incidents_task",
    "incidents_incident_clauses",
]
BY_EVERY = ["policyhub_policyversion", "policyhub_section", "policyhub_clause", "policyhub_acknowledgement"]
ONLY_COLUMN = {"accounts_user": "is_active"}
TABLE = "reporting_figureschange"
TRIGGER = "policyhub_figures_change"

# The SQL is written out in full (no value is put into it; the names are TABLE, TRIGGER and
# TOKEN_RANGE above, checked by tests/reporting/test_figures_cache.py).
POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION policyhub_figures_change() RETURNS trigger AS $$
DECLARE
  column_name text := CASE WHEN TG_ARGV[0] = 'school' THEN 'school_id' ELSE 'incident_id' END;
  ids bigint[] := ARRAY[(to_jsonb(OLD) ->> column_name)::bigint, (to_jsonb(NEW) ->> column_name)::bigint];
BEGIN
  IF TG_ARGV[0] = 'every' THEN
    ids := ARRAY[0];
  ELSIF TG_ARGV[0] = 'case' THEN
    SELECT array_agg(school_id) INTO ids FROM incidents_incident WHERE id = ANY(ids);
  END IF;
  INSERT INTO reporting_figureschange (school_id, token)
    SELECT s, floor(random() * 1099511627776)::bigint FROM (SELECT DISTINCT unnest(ids) AS s) AS d
    WHERE s IS NOT NULL;
  RETURN NULL;
END; $$ LANGUAGE plpgsql;
"""
# SQLite has no procedural triggers: one per event, the row's school found in SQL. ROW is NEW or
# OLD; an update that moves a row to another school or case names both (MOVED).
SQLITE_BY_SCHOOL = (
    "INSERT INTO reporting_figureschange (school_id, token)"
    " SELECT ROW.school_id, abs(random() % 1099511627776) WHERE ROW.school_id IS NOT NULL MOVED;"
)
SQLITE_BY_CASE = (
    "INSERT INTO reporting_figureschange (school_id, token)"
    " SELECT school_id, abs(random() % 1099511627776) FROM incidents_incident WHERE id = ROW.incident_id MOVED;"
)
SQLITE_BY_EVERY = "INSERT INTO reporting_figureschange (school_id, token) SELECT 0, abs(random() % 1099511627776);"

# (table, what its rows name: school, case or every)
TABLES = (
    [(t, "school") for t in BY_SCHOOL]
    + [(t, "case") for t in BY_CASE]
    + [(t, "every") for t in [*BY_EVERY, *ONLY_COLUMN]]
)


def _sqlite_triggers(table: str, by: str) -> list[str]:
    name = f"{TRIGGER}_{table}"
    if by == "every":
        only = ONLY_COLUMN.get(table)
        if only:
            return [
                f'CREATE TRIGGER {name}_update AFTER UPDATE OF {only} ON "{table}" FOR EACH ROW'
                f" WHEN OLD.{only} IS NOT NEW.{only} BEGIN {SQLITE_BY_EVERY} END"
            ]
        events = dict.fromkeys(("INSERT", "UPDATE", "DELETE"), SQLITE_BY_EVERY)
    else:
        column, template = ("school_id", SQLITE_BY_SCHOOL) if by == "school" else ("incident_id", SQLITE_BY_CASE)

        def insert(row: str, moved: bool = False) -> str:
            condition = f"AND OLD.{column} IS NOT NEW.{column}" if moved else ""
            return template.replace("ROW.", f"{row}.").replace("MOVED", condition)

        events = {
            "INSERT": insert("NEW"),
            "UPDATE": insert("NEW") + " " + insert("OLD", moved=True),
            "DELETE": insert("OLD"),
        }
    return [
        f'CREATE TRIGGER {name}_{event.lower()} AFTER {event} ON "{table}" FOR EACH ROW BEGIN {body} END'
        for event, body in events.items()
    ]


def _postgres_trigger(table: str, by: str) -> str:
    only = ONLY_COLUMN.get(table)
    events = f"UPDATE OF {only}" if only else "INSERT OR UPDATE OR DELETE"
    when = f" WHEN (OLD.{only} IS DISTINCT FROM NEW.{only})" if only else ""
    return (
        f"CREATE TRIGGER {TRIGGER} AFTER {events} ON \"{table}\" FOR EACH ROW{when} EXECUTE FUNCTION {TRIGGER}('{by}')"
    )


def uninstall(using: str = "default", **kwargs) -> None:
    """Remove the triggers; run before every `migrate` (pre_migrate). A migration may rebuild or
    remove a table a trigger reads (SQLite rebuilds a table to alter it), and the triggers name
    the tables of the latest migrations."""
    install(using, wanted=False)


def install(using: str = "default", wanted: bool = True, **kwargs) -> None:
    """Install (or replace) the triggers; run after every `migrate` (post_migrate). Without the
    table (migrated back past reporting 0002) they are removed: a trigger writing to a missing table
    would refuse every change of a case. Installing appends an EVERY_SCHOOL row: what a migration
    changed while the triggers were off moves every stamp."""
    conn = connections[using]
    if conn.vendor not in ("postgresql", "sqlite"):
        return
    with conn.cursor() as cursor:
        existing = set(conn.introspection.table_names(cursor))
        wanted = wanted and TABLE in existing
        if wanted:
            cursor.execute("INSERT INTO reporting_figureschange (school_id, token) VALUES (%s, %s)", [0, _token()])
        if wanted and conn.vendor == "postgresql":
            cursor.execute(POSTGRES_FUNCTION)
        for table, by in TABLES:
            if table not in existing:
                continue
            if conn.vendor == "postgresql":
                cursor.execute(f'DROP TRIGGER IF EXISTS {TRIGGER} ON "{table}"')
                if wanted:
                    cursor.execute(_postgres_trigger(table, by))
                continue
            for event in ("insert", "update", "delete"):  # also those of an earlier set of events
                cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}_{table}_{event}")
            for statement in _sqlite_triggers(table, by) if wanted else ():
                cursor.execute(statement)


def stamp(school_id: int) -> tuple[int, int]:
    """The school's stamp: (rows, sum of tokens) of the school's rows and EVERY_SCHOOL's. Read before
    anything it keys is worked out."""
    with connection.cursor() as cursor:
        sql = "SELECT count(*), coalesce(sum(token), 0) FROM reporting_figureschange WHERE school_id IN (%s, 0)"
        cursor.execute(sql, [school_id])
        count, total = cursor.fetchone()
    return int(count), int(total)


def stamp_of(school_ids) -> tuple[int, int]:
    """The stamp of several schools together (any change at any of them moves it); one query."""
    ids = sorted(set(school_ids))
    if len(ids) == 1:
        return stamp(ids[0])
    from .models import FiguresChange

    found = FiguresChange.objects.filter(school_id__in=[*ids, EVERY_SCHOOL]).aggregate(
        n=Count("id"), total=Sum("token")
    )
    return int(found["n"]), int(found["total"] or 0)


# The schools of a person's own reports, one index probe each (index incident_reporter_school): a
# loose scan, so a person with thousands of reports at one school costs two probes, not a read of them.
# Each probe asks for the next (reporter, school) pair in that index's order, the person's or not
# (the CASE keeps only theirs): an order no other index gives. Written as min(school_id) with the
# reporter as a filter, PostgreSQL walked the school index instead, through every case of the
# schools after the person's last (all 40,000 of another school in tests/incidents/test_read_plans.py).
# With their schools (UNION: each school once), each school's rows are then summed through the index
# figureschange_school (`school_id IN (...) OR school_id IN (subquery)` was planned as a scan of all).
# The statement begins with SELECT (the WITH inside): a read, prepared once per connection and not
# planned again (policyhub/postgresql/base.py prepares SELECTs only; it sent this one, begun by
# WITH, as a possible write, and PostgreSQL planned it on every page).
PERSON_STAMP = """SELECT coalesce(sum(
    (SELECT count(*) FROM reporting_figureschange AS c WHERE c.school_id = reach.school_id)
  ), 0),
  coalesce(sum((SELECT sum(c.token) FROM reporting_figureschange AS c WHERE c.school_id = reach.school_id)), 0)
FROM (
  WITH RECURSIVE reported(school_id) AS (
    SELECT (
      SELECT CASE WHEN i.reporter_id = %s THEN i.school_id END FROM incidents_incident AS i
      WHERE i.reporter_id >= %s ORDER BY i.reporter_id, i.school_id LIMIT 1
    )
    UNION ALL
    SELECT (
      SELECT CASE WHEN i.reporter_id = %s THEN i.school_id END FROM incidents_incident AS i
      WHERE (i.reporter_id, i.school_id) > (%s, r.school_id) ORDER BY i.reporter_id, i.school_id LIMIT 1
    )
    FROM reported AS r WHERE r.school_id IS NOT NULL
  )
  SELECT school_id FROM reported WHERE school_id IS NOT NULL UNION VALUES {placeholders}
) AS reach"""


def person_stamp(user_id: int, school_ids) -> tuple[int, int]:
    """The stamp of every case a person's rules can reach (incidents/access.py): those of their
    schools (`school_ids`, their memberships) and their own reports at any school (the reporter
    relation is the one row not bound to a membership, tests/incidents/test_person_stamp.py). One
    query."""
    ids = sorted({int(s) for s in school_ids} | {EVERY_SCHOOL})
    sql = PERSON_STAMP.format(placeholders=", ".join(["(%s)"] * len(ids)))  # only placeholders go in
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, user_id, user_id, user_id, *ids])
        count, total = cursor.fetchone()
    return int(count), int(total)


def prune() -> int:
    """Delete every row but each school's newest; the number deleted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM reporting_figureschange"
            " WHERE id NOT IN (SELECT max(id) FROM reporting_figureschange GROUP BY school_id)"
        )
        return cursor.rowcount
