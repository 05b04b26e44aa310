"""Many cases fast, in SQL (generate_series), for query-plan tests and bench/pages.py.

Each row is a copy of one template case made through the ORM (so every NOT NULL column holds a valid
value), with the reference, status, outcome, dates and school varied per row. PostgreSQL only."""

from django.db import connection
from django.utils import timezone

from incidents.models import GovernorReview, Incident, ReviewDecision
from incidents.references import ALPHABET, check_character


def references(prefix: str, n: int) -> list[str]:
    """n distinct canonical references (incidents/references.py: shape and check character)."""
    found, k = [], 0
    while len(found) < n:
        k += 1
        digits = ""
        value = k
        for _ in range(6):
            value, rest = divmod(value, 32)
            digits = ALPHABET[rest] + digits
        body = "X" + digits  # a letter: never read as an old-style all-digit reference
        check = check_character(body)
        if check is not None:
            full = body + check
            found.append(f"{prefix}-{full[:4]}-{full[4:]}")
    return found


def _columns():
    return [f.column for f in Incident._meta.concrete_fields if f.column != "id"]


def bulk_cases(
    template: Incident,
    *,
    school_id: int,
    n: int,
    prefix: str,
    open_every: int,
    clause_ids: list[int] = (),
    cite_every: int = 0,
    upheld_every: int = 0,
    upheld_this_term_first: int = 0,
    decided_by_id: int | None = None,
) -> None:
    """n cases at `school_id`: one in `open_every` open (submitted or in triage, due over the next
    days), the rest closed with a breach outcome, received over the past years. One closed case in
    `cite_every` cites a clause of `clause_ids`; one in `upheld_every` was upheld by the board, the
    first `upheld_this_term_first` of those in the last hours (this term), the others in past terms."""
    columns = _columns()
    overrides = {
        "school_id": "%(school)s",
        "reference": "(%(refs)s::text[])[g]",
        "status": "CASE WHEN g %% %(open_every)s = 0 THEN (CASE WHEN g %% 2 = 0 THEN 'submitted' ELSE 'triage' END)"
        " ELSE 'closed' END",
        "outcome": "CASE WHEN g %% %(open_every)s = 0 THEN '' ELSE 'parent_asked' END",
        "received_at": "%(now)s - g * interval '17 minutes'",
        "seen_at": "%(now)s - g * interval '17 minutes'",
        "response_due_at": "%(now)s + (g %% 500) * interval '7 minutes'",
        "acknowledged_at": "NULL",
        "created_at": "%(now)s",
        "updated_at": "%(now)s - g * interval '1 minute'",
    }
    select = ", ".join(overrides.get(c, f't."{c}"') for c in columns)
    params = {"school": school_id, "refs": references(prefix, n), "open_every": open_every, "now": timezone.now()}
    with connection.cursor() as cursor:
        names = ", ".join(f'"{c}"' for c in columns)
        # The names come from the model; every value is a parameter.
        insert = f"INSERT INTO incidents_incident ({names}) SELECT {select} "  # noqa: S608
        cursor.execute(
            insert + "FROM generate_series(1, %(n)s) g, incidents_incident t WHERE t.id = %(template)s",
            {**params, "n": n, "template": template.pk},
        )
        closed = (
            "FROM incidents_incident i WHERE i.school_id = %(school)s AND i.status = 'closed' "
            "AND i.reference LIKE %(like)s"
        )
        like = {"school": school_id, "like": prefix + "-%"}
        if clause_ids and cite_every:
            cursor.execute(
                "INSERT INTO incidents_incident_clauses (incident_id, clause_id) "  # noqa: S608
                f"SELECT i.id, (%(clauses)s::int[])[1 + i.id %% %(k)s] {closed} AND i.id %% %(every)s = 0",
                {**like, "clauses": list(clause_ids), "k": len(clause_ids), "every": cite_every},
            )
        if upheld_every:
            table = GovernorReview._meta.db_table
            cursor.execute(
                f"INSERT INTO {table} (incident_id, decision, comment, decided_by_id, decided_at) "  # noqa: S608
                "SELECT id, %(uphold)s, '', %(by)s, CASE WHEN rn <= %(first)s THEN %(now)s - rn * interval '1 minute' "
                "ELSE %(now)s - interval '400 days' - rn * interval '1 hour' END "
                f"FROM (SELECT i.id, row_number() OVER (ORDER BY i.id) rn {closed} AND i.id %% %(every)s = 0) s",
                {
                    **like,
                    "uphold": ReviewDecision.UPHOLD,
                    "by": decided_by_id,
                    "first": upheld_this_term_first,
                    "now": timezone.now(),
                    "every": upheld_every,
                },
            )
            # Raw SQL passes by GovernorReview.save, which marks an upheld case: mark them here.
            # The same rows as the reviews' (no self-join: its plan depends on statistics not yet gathered).
            cursor.execute(
                "UPDATE incidents_incident SET upheld = true WHERE school_id = %(school)s AND status = 'closed' "
                "AND reference LIKE %(like)s AND id %% %(every)s = 0",
                {**like, "every": upheld_every},
            )
