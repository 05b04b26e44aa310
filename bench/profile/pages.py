"""Profile: cProfile around signed-in GETs of each busy page, in-process (Django's test client), with
the bench settings (DEBUG off, the project's middleware and templates). Prints, per page, the CPU
time, the elapsed time (the database's work included) and the number of Python function calls per
request (the last does not move with the load of a shared machine), then the top functions by own
time and by cumulative time.

Same data as bench/pages.py (sized by the same BENCH_* variables, 20,000 cases unless told;
PROFILE_REQUESTS GETs a page, PROFILE_TOP rows). Needs DATABASE_URL=postgres://... of a scratch
database, as bench/pages.py; not run by `make bench` (a profile, not a figure):

    pg_virtualenv -t bash -c 'DATABASE_URL=postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/postgres \
        PROFILE_PAGES=queue,home .venv/bin/python bench/profile/pages.py'

`PROFILE_PAGES=queue,home` limits the pages (login, home, queue, case, mine, policy, reviews, termly,
hello). `PROFILE_DUMP=folder` also writes each page's profile there as `<page>.prof` (for pstats).
"""

import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bench_settings"
os.environ.setdefault("BENCH_TOTAL_CASES", "20000")

from bench import pages as bench  # noqa: E402

REQUESTS = int(os.environ.get("PROFILE_REQUESTS", 50))
TOP = int(os.environ.get("PROFILE_TOP", 25))


def main() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("bench/profile/pages.py needs DATABASE_URL=postgres://... (see bench/pages.py).")
        return
    state = bench.setup()
    from django.conf import settings
    from django.test import Client

    cookies = state["cookies"]
    pages = {
        "login": ("/accounts/login/", None),
        "home": ("/", cookies["helen"]),
        "queue": ("/incidents/queue/", cookies["helen"]),
        "case": (f"/incidents/{state['case']}/", cookies["helen"]),
        "mine": ("/incidents/mine/", cookies["sam"]),
        "policy": ("/policy/", cookies["sam"]),
        "reviews": ("/incidents/reviews/", cookies["gary"]),
        "termly": ("/incidents/reviews/termly/", cookies["gary"]),
        "hello": ("/bench-hello/", None),
        "signed-in": ("/bench-signed-in/", cookies["helen"]),
    }
    wanted = os.environ.get("PROFILE_PAGES")
    if wanted:
        pages = {k: v for k, v in pages.items() if k in wanted.split(",")}
    for name, (path, cookie) in pages.items():
        client = Client()
        if cookie:
            client.cookies[settings.SESSION_COOKIE_NAME] = cookie
        for _ in range(3):  # warm: template cache, URL resolver, imports
            assert client.get(path).status_code == 200, name
        # Unprofiled CPU time of this process (the database server's is not in it) and elapsed time
        # (the database's work included), best of three; then Python function calls per request,
        # which the machine's load does not change.
        cpu, wall = [], []
        for _ in range(3):
            started, elapsed = time.process_time(), time.perf_counter()
            for _ in range(REQUESTS):
                client.get(path)
            cpu.append((time.process_time() - started) / REQUESTS)
            wall.append((time.perf_counter() - elapsed) / REQUESTS)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(REQUESTS):
            client.get(path)
        profile.disable()
        if os.environ.get("PROFILE_DUMP"):
            profile.dump_stats(Path(os.environ["PROFILE_DUMP"]) / f"{name}.prof")
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        calls = stats.total_calls / REQUESTS
        stats.strip_dirs().sort_stats("tottime").print_stats(TOP)
        stats.sort_stats("cumulative").print_stats(TOP)
        print(
            f"===== {name} {path}: {1000 * min(cpu):.1f} ms CPU, {1000 * min(wall):.1f} ms elapsed, "
            f"{calls:,.0f} Python calls per request"
        )
        print(out.getvalue(), flush=True)


if __name__ == "__main__":
    main()
