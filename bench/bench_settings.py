"""Settings for bench/pages.py: the project's own, plus a bare hello-world view to compare with."""

from policyhub.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
# bench/pages.py signs in through the real pages with Django's test client ("testserver").
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
