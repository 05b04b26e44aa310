"""Benchmark: the busy pages as ratios of a bare hello-world Django view, served by gunicorn
(2 sync workers) on PostgreSQL and loaded with `wrk -t2 -c8` ([12] Performance).

Run with `make bench` (a throwaway PostgreSQL cluster via pg_virtualenv) or with DATABASE_URL
pointing at a scratch PostgreSQL database: it migrates and fills that database, never point it at
real data. One school holds BENCH_SCHOOL_CASES cases (10,000), other schools the rest up to
BENCH_TOTAL_CASES (1,000,000). People sign in through the real sign-in and two-factor pages. Hello
and page runs alternate (BENCH_ROUNDS rounds of BENCH_SECONDS each) so both see the same machine,
after BENCH_WARM_SECONDS (1) of each, not measured: the web processes' first views of a page.
Prints one table: requests/s, the ratio to hello-world, p50 and p99. Not a test: no assertions.
BENCH_PAGES=login,signed-in runs only those rows.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bench_settings"

SCHOOL_CASES = int(os.environ.get("BENCH_SCHOOL_CASES", 10_000))
TOTAL_CASES = int(os.environ.get("BENCH_TOTAL_CASES", 1_000_000))
SECONDS = int(os.environ.get("BENCH_SECONDS", 5))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2))
WARM_SECONDS = int(os.environ.get("BENCH_WARM_SECONDS", 1))  # per page, before its measured rounds
PORT = int(os.environ.get("BENCH_PORT", 8765))
PER_OTHER_SCHOOL = 50_000
# BENCH_PAGES=login,signed-in limits the run to those rows (the names' first words, lower case).
PAGES = [p for p in os.environ.get("BENCH_PAGES", "").split(",") if p]


def setup() -> dict:
    """Migrate, fill, sign in: {who: session cookie}, and a case the head may open."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from incidents.models import Incident
    from reporting import stamps
    from tests.auth import authenticator, current_code
    from tests.factories import PASSWORD, Role, SchoolFactory, TrustFactory, person
    from tests.incidents.bulk_cases import bulk_cases
    from tests.incidents.factories import IncidentFactory, policy_for

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    trust = TrustFactory(name="Bench Trust", slug="bench-trust")
    school = SchoolFactory(trust=trust, name="Bench Primary", slug="bench", code="BEN", urn="900001")
    people = {
        "helen": person("Helen Head", school, Role.HEAD, Role.STAFF, email="helen@bench.example.org"),
        "sam": person("Sam Staff", school, Role.STAFF, email="sam@bench.example.org"),
        "gary": person("Gary Governor", school, Role.GOVERNOR, email="gary@bench.example.org"),
    }
    version = policy_for(school, effective=timezone.localdate().replace(year=2020))
    clause_ids = list(version.clauses.values_list("pk", flat=True))
    template = IncidentFactory(school=school, reporter=people["sam"], owner=people["helen"])
    bulk_cases(
        template,
        school_id=school.pk,
        n=SCHOOL_CASES,
        prefix="BEN",
        open_every=50,
        clause_ids=clause_ids,
        cite_every=3,
        upheld_every=20,
        upheld_this_term_first=200,
        decided_by_id=people["gary"].pk,
    )
    left, k = TOTAL_CASES - SCHOOL_CASES, 0
    while left > 0:
        k += 1
        other = SchoolFactory(trust=trust, name=f"Other {k}", slug=f"other-{k}", code=f"OT{k}", urn=f"91{k:04d}")
        rita = person("Rita Reporter", other, Role.STAFF, email=f"rita{k}@bench.example.org")
        n = min(left, PER_OTHER_SCHOOL)
        bulk_cases(
            IncidentFactory(school=other, reporter=rita),
            school_id=other.pk,
            n=n,
            prefix=f"OT{k}",
            open_every=50,
            upheld_every=20,
            upheld_this_term_first=100,
            decided_by_id=people["gary"].pk,
        )
        left -= n
    # The hourly task's work (reporting/stamps.py): one figures-change row per school, as a live
    # database keeps them, not one per row the data generation wrote.
    stamps.prune()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"data: {Incident.objects.count():,} cases in {time.perf_counter() - started:.0f} s", flush=True)

    cookies = {}
    for who, user in people.items():
        client = Client()
        client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
        if who != "sam":  # heads and governors verify a second factor, as in real life
            client.post(reverse("two_factor_verify"), {"code": current_code(authenticator(user))})
        assert client.get(reverse("home")).status_code == 200, who
        cookies[who] = client.cookies["sessionid"].value
    case = Incident.objects.filter(school=school, status="submitted").order_by("pk").first()
    return {"cookies": cookies, "case": case.reference}


def wrk(path: str, cookie: str | None, seconds: int = SECONDS) -> dict:
    command = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{PORT}{path}"]
    if cookie:
        command[1:1] = ["-H", f"Cookie: sessionid={cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def latency(p):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {"rps": rps, "p50": latency(50), "p99": latency(99), "errors": int(non2xx.group(1)) if non2xx else 0}


def main() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("bench/pages.py needs DATABASE_URL=postgres://... (make bench starts one).")
        return
    if shutil.which("wrk") is None:
        print("bench/pages.py needs wrk, the HTTP load generator: apt-get install wrk")
        return
    state = setup()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.bench_settings", "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "policyhub.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{PORT}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/bench-hello/", timeout=1)  # noqa: S310 (local)
                break
            except OSError:
                time.sleep(0.2)
        cookies = state["cookies"]
        pages = [
            ("login page", "/accounts/login/", None),
            ("home (head)", "/", cookies["helen"]),
            ("triage queue", "/incidents/queue/", cookies["helen"]),
            ("case page", f"/incidents/{state['case']}/", cookies["helen"]),
            ("my reports", "/incidents/mine/", cookies["sam"]),
            ("policy page", "/policy/", cookies["sam"]),
            ("governor reviews", "/incidents/reviews/", cookies["gary"]),
            ("termly report", "/incidents/reviews/termly/", cookies["gary"]),
            # Not a page: a signed-in hello-world, the floor under every signed-in page (session,
            # person, second factor, memberships, audit actor: bench/bench_urls.py).
            ("signed-in hello", "/bench-signed-in/", cookies["helen"]),
        ]
        if PAGES:
            pages = [row for row in pages if row[0].split()[0] in PAGES]
        print(f"{'page':<18} {'req/s':>8} {'hello':>8} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
        for name, path, cookie in pages:
            hello, page = [], []
            # Not measured: each web process's first views of the page (templates compiled, queries
            # prepared, what it keeps worked out), which a server that has been up a while has done.
            if WARM_SECONDS:
                wrk("/bench-hello/", None, WARM_SECONDS)
                wrk(path, cookie, WARM_SECONDS)
            for _ in range(ROUNDS):
                hello.append(wrk("/bench-hello/", None))
                page.append(wrk(path, cookie))
            h = sum(r["rps"] for r in hello) / ROUNDS
            p = sum(r["rps"] for r in page) / ROUNDS
            p50 = sorted(r["p50"] for r in page)[ROUNDS // 2]
            p99 = max(r["p99"] for r in page)
            errors = sum(r["errors"] for r in page)
            row = f"{name:<18} {p:>8.0f} {h:>8.0f} {100 * p / h:>6.1f}% {p50:>8.1f} {p99:>8.1f} {errors:>8}"
            print(row, flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
