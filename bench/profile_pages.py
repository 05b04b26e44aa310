"""Profile: cProfile around signed-in GETs of each busy page, in-process (Django's test client), with
the bench settings (DEBUG off, the project's middleware and templates). Prints, per page, the mean
wall time per request and the top functions by own time and by cumulative time.

Same data as bench/pages.py (sized by the same BENCH_* variables; PROFILE_REQUESTS GETs a page,
PROFILE_TOP rows). Needs DATABASE_URL=postgres://... of a scratch database, as bench/pages.py.
`PROFILE_PAGES=queue,home` limits the pages.
"""

import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bench_settings"
os.environ.setdefault("BENCH_TOTAL_CASES", "20000")

from bench import pages as bench  # noqa: E402

REQUESTS = int(os.environ.get("PROFILE_REQUESTS", 50))
TOP = int(os.environ.get("PROFILE_TOP", 25))


def main() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("bench/profile_pages.py needs DATABASE_URL=postgres://... (see bench/pages.py).")
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
        "hello": ("/bench-hello/", None),
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
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for _ in range(REQUESTS):
            client.get(path)
        profile.disable()
        elapsed = (time.perf_counter() - started) / REQUESTS
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).strip_dirs()
        stats.sort_stats("tottime").print_stats(TOP)
        stats.sort_stats("cumulative").print_stats(TOP)
        print(f"===== {name} {path}: {1000 * elapsed:.1f} ms per request (profiled)")
        print(out.getvalue())


if __name__ == "__main__":
    main()
