"""Benchmark: one deadline sweep over 1,000,000 pending deadlines of which 1,000 are due.

Run with `make bench` (a throwaway PostgreSQL cluster via pg_virtualenv) or with DATABASE_URL
pointing at a scratch PostgreSQL database. It migrates that database and fills it; never point it
at real data. Prints the timings and the plan of the sweep's query. Not a test: no assertions.
"""

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyhub.settings")

PENDING = int(os.environ.get("BENCH_PENDING", 1_000_000))
DUE = int(os.environ.get("BENCH_DUE", 1_000))


def main() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("bench/deadline_sweep.py needs DATABASE_URL=postgres://... (make bench starts one).")
        return
    import django

    django.setup()
    import logging

    logging.getLogger("incidents").setLevel(logging.WARNING)  # one line per fired deadline otherwise
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import School, User
    from incidents.clocks import SWEEP_BATCH, deadlines_sweep, due_pending
    from incidents.models import Category, Deadline, DeadlineKind, Incident, Involved, Platform

    call_command("migrate", verbosity=0)
    now = timezone.now()
    school, _ = School.objects.get_or_create(
        slug="bench", defaults={"name": "Bench School", "code": "BEN", "urn": "999999"}
    )
    reporter, _ = User.objects.get_or_create(email="bench@example.org", defaults={"full_name": "Bench"})
    Incident.objects.filter(school=school).delete()
    Deadline.objects.all().delete()

    started = time.perf_counter()
    incidents = Incident.objects.bulk_create(
        [
            Incident(
                school=school,
                reference=f"BEN-2025-{i:06d}",
                year=2025,
                sequence=i,
                reporter=reporter,
                category=Category.PARENT_POST,
                platform=Platform.FACEBOOK,
                seen_at=now - timedelta(days=2),
                involved=Involved.PARENT,
                description="bench",
                child_at_risk=False,
                owner=reporter,
                received_at=now - timedelta(days=2),
            )
            for i in range(DUE)
        ],
        batch_size=1000,
    )
    Deadline.objects.bulk_create(
        [Deadline(incident=i, kind=DeadlineKind.RESPONSE, due_at=now - timedelta(minutes=1)) for i in incidents],
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO incidents_deadline (kind, due_at, state, generation, reason, data, created_at)
            SELECT 'reminder', %s + (g * interval '1 second'), 'pending', 1, '', '{}', now()
            FROM generate_series(1, %s) AS g
            """,
            [now + timedelta(days=1), PENDING - DUE],
        )
        cursor.execute("ANALYZE incidents_deadline")
    print(f"filled {PENDING:,} pending deadlines ({DUE:,} due) in {time.perf_counter() - started:.1f} s")

    query = due_pending(now).values_list("pk", flat=True)[:SWEEP_BATCH]
    print("plan of the sweep's query:")
    print("  " + query.explain(analyze=True).replace("\n", "\n  "))

    started = time.perf_counter()
    fired = deadlines_sweep(now=now)
    elapsed = time.perf_counter() - started
    print(f"one sweep fired {fired:,} deadlines in {elapsed:.2f} s ({elapsed / max(fired, 1) * 1000:.2f} ms each)")

    started = time.perf_counter()
    deadlines_sweep(now=now)
    print(f"an idle sweep (nothing due) over {PENDING:,} pending took {(time.perf_counter() - started) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
