"""The WSGI entry point gunicorn serves (make serve, docker compose, bench/pages.py)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_loaded_application_is_kept_out_of_the_collectors_passes():
    script = (
        "import gc; before = gc.get_freeze_count(); import policyhub.wsgi as w; "
        "print(before, gc.get_freeze_count(), callable(w.application))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "policyhub.settings", "DATABASE_URL": ""}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    before, frozen, app = out.stdout.split()
    assert before == "0" and app == "True"
    assert int(frozen) > 50_000  # Django and the project's modules, not a handful of objects
