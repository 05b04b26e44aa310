"""Database triggers for the audit trail, installed after every `migrate` (idempotent).

PostgreSQL: the audit tables and case timelines reject UPDATE and DELETE, and every row change
of the sensitive tables (bulk and raw SQL included) appends a `db_change` audit event. A retention
job may delete a case's timeline only inside a transaction that says so
(`SET LOCAL policyhub.retention = 'on'`).
SQLite (the embedded default): the same changes are recorded by Django signals (not bulk or raw
SQL), and the ORM refuses to update or delete audit events; the hash chain covers the rest.
"""

from django.db import connections

# Row changes of these tables are recorded (table -> column naming the school, if any).
TRACKED_TABLES = [
    "incidents_incident",
    "incidents_evidence",
    "incidents_timelineentry",
    "incidents_referral",
    "incidents_governorreview",
    "incidents_incident_clauses",
    "accounts_membership",
    "accounts_user",
    "policyhub_policyversion",
    "incidents_casemessage",
    "incidents_takedownrequest",
    "incidents_takedownstep",
    "obligations_declaration",
]
APPEND_ONLY_TABLES = ["accounts_auditevent", "accounts_auditseal"]
RETENTION_GUARDED_TABLES = ["incidents_timelineentry", "incidents_casemessage"]

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION policyhub_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END; $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION policyhub_retention_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('policyhub.retention', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% is append-only (deletion only by the retention job)', TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END; $$ LANGUAGE plpgsql;

-- The actor comes from the session settings that accounts/actor.py sets for each request, task
-- and command: a person (id and email) or a system actor's label; none for anonymous work.
CREATE OR REPLACE FUNCTION policyhub_audit_change() RETURNS trigger AS $$
DECLARE
  row_id text;
  case_id text;
  actor text := NULLIF(current_setting('policyhub.actor_id', true), '');
  by_email text := coalesce(current_setting('policyhub.actor_email', true), '');
  by_label text := NULLIF(current_setting('policyhub.actor', true), '');
  change jsonb := jsonb_build_object('op', lower(TG_OP), 'db_user', session_user::text);
BEGIN
  IF TG_OP = 'DELETE' THEN row_id := OLD.id::text; ELSE row_id := NEW.id::text; END IF;
  IF by_label IS NOT NULL THEN change := change || jsonb_build_object('actor', by_label); END IF;
  -- The case the row belongs to, so the log can leave it out for the case's subject
  -- (accounts/audit_cases.py): the case itself, or the incident_id of its files, timeline...
  IF TG_TABLE_NAME = 'incidents_incident' THEN
    case_id := row_id;
  ELSIF TG_OP = 'DELETE' THEN
    case_id := to_jsonb(OLD) ->> 'incident_id';
  ELSE
    case_id := to_jsonb(NEW) ->> 'incident_id';
  END IF;
  IF case_id IS NOT NULL THEN change := change || jsonb_build_object('incident', case_id::bigint); END IF;
  INSERT INTO accounts_auditevent
    (at, actor_id, actor_email, action, object_type, object_id, object_ref, school_id, path, ip, detail)
  VALUES
    (clock_timestamp(), actor::bigint, by_email, 'db_change', TG_TABLE_NAME, row_id, '', NULL, '', NULL, change);
  RETURN NULL;
END; $$ LANGUAGE plpgsql;
"""


TRIGGERS = [
    # (name, timing and events, function, tables)
    ("policyhub_append_only", "BEFORE UPDATE OR DELETE", "policyhub_append_only", APPEND_ONLY_TABLES),
    ("policyhub_retention_only", "BEFORE UPDATE OR DELETE", "policyhub_retention_only", RETENTION_GUARDED_TABLES),
    ("policyhub_audit_change", "AFTER INSERT OR UPDATE OR DELETE", "policyhub_audit_change", TRACKED_TABLES),
]


def install(using: str = "default", **kwargs) -> None:
    conn = connections[using]
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        existing = set(conn.introspection.table_names(cursor))
        cursor.execute(FUNCTIONS)
        for name, when, function, tables in TRIGGERS:
            for table in tables:
                if table not in existing:
                    continue
                cursor.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}"')
                cursor.execute(f'CREATE TRIGGER {name} {when} ON "{table}" FOR EACH ROW EXECUTE FUNCTION {function}()')
