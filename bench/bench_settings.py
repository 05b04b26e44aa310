"""Settings for bench/pages.py: the project's own, plus a bare hello-world view to compare with."""

from policyhub.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
