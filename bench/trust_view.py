"""Benchmark: the trust view ([9]) for a trust admin of 50 schools with 2,000 cases each, and one
school's governors' pack, on PostgreSQL. The target is under a second for the trust view.

Run with `make bench` (a throwaway PostgreSQL cluster via pg_virtualenv) or with DATABASE_URL
pointing at a scratch PostgreSQL database: it migrates and fills that database, never point it at
real data. The trust admin signs in through the real sign-in and two-factor pages; each page is
fetched BENCH_ROUNDS times after one warm-up. Prints the timings and the number of queries. Not a
test: no assertions.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bench_settings"

SCHOOLS = int(os.environ.get("BENCH_SCHOOLS", 50))
CASES = int(os.environ.get("BENCH_CASES_PER_SCHOOL", 2_000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))


def main() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("bench/trust_view.py needs DATABASE_URL=postgres://... (make bench starts one).")
        return
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accounts.models import Membership
    from incidents.models import Incident
    from tests.auth import authenticator, current_code
    from tests.factories import PASSWORD, Role, SchoolFactory, TrustFactory, person
    from tests.incidents.bulk_cases import bulk_cases
    from tests.incidents.factories import IncidentFactory, policy_for

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    trust = TrustFactory(name="Bench Trust", slug="bench-trust")
    admin = None
    for k in range(1, SCHOOLS + 1):
        code = "S" + chr(65 + k // 26) + chr(65 + k % 26)  # SAB, SAC, ...: a school code is letters only
        school = SchoolFactory(trust=trust, name=f"School {k:02d}", slug=f"school-{k}", code=code, urn=f"92{k:04d}")
        staff = person("Rita Reporter", school, Role.STAFF, email=f"rita{k}@bench.example.org")
        governor = person("Gary Governor", school, Role.GOVERNOR, email=f"gary{k}@bench.example.org")
        if admin is None:
            admin = person("Tom Trust", school, Role.TRUST_ADMIN, email="tom@bench.example.org")
        else:
            Membership.objects.create(user=admin, school=school, role=Role.TRUST_ADMIN)
        policy_for(school)
        bulk_cases(
            IncidentFactory(school=school, reporter=staff),
            school_id=school.pk,
            n=CASES,
            prefix=school.code,
            open_every=50,
            upheld_every=20,
            upheld_this_term_first=20,
            decided_by_id=governor.pk,
        )
    with connection.cursor() as cursor:
        # Most cases answered, some late, some escalated: the figures have something to count.
        cursor.execute(
            "UPDATE incidents_incident SET acknowledged_at = received_at + (id % 30) * interval '1 hour', "
            "overdue_at = CASE WHEN id % 30 > 24 THEN response_due_at END, "
            "escalated_at = CASE WHEN id % 30 > 26 THEN response_due_at END, "
            "route = (ARRAY['breach', 'low_level', 'allegation', 'no_breach'])[1 + id % 4]"
        )
        cursor.execute("VACUUM ANALYZE")
    print(f"data: {Incident.objects.count():,} cases at {SCHOOLS} schools in {time.perf_counter() - started:.0f} s")

    client = Client()
    client.post(reverse("login"), {"username": admin.email, "password": PASSWORD})
    client.post(reverse("two_factor_verify"), {"code": current_code(authenticator(admin))})
    first = trust.schools.order_by("name").first()
    pages = [
        ("trust view", reverse("reporting:trust")),
        ("one school's pack", f"{reverse('incidents:termly_report')}?school={first.pk}"),
        ("the pack as PDF", f"{reverse('reporting:pack_pdf')}?school={first.pk}"),
    ]
    print(f"{'page':<20} {'median':>9} {'worst':>9} {'queries':>8}")
    for label, url in pages:
        assert client.get(url).status_code == 200, url  # warm-up
        times = []
        for _ in range(ROUNDS):
            with CaptureQueriesContext(connection) as queries:
                t = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - t)
            assert response.status_code == 200, url
        print(f"{label:<20} {statistics.median(times) * 1000:>7.0f}ms {max(times) * 1000:>7.0f}ms {len(queries):>8}")


if __name__ == "__main__":
    main()
