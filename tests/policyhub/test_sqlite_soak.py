"""A short soak of the embedded default (`make run` on SQLite with worker and beat): reports
coming in from two schools while the head acknowledges and annotates each new case, for 75
seconds (so beat's minute sweeps run at least once). Nothing may log "database is locked", a
traceback or an HTTP 500. bench/sqlite_soak.py is the same for as long as you like (15 minutes)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
_spec = importlib.util.spec_from_file_location("sqlite_soak", ROOT / "bench" / "sqlite_soak.py")
sqlite_soak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sqlite_soak)


# With the other real-process tests: never beside a test that times processes, and it copies the
# same seeded var folder (built once per worker) instead of migrating and seeding its own.
pytestmark = pytest.mark.xdist_group("real-processes")


def test_make_run_under_load_logs_no_locking_error(seeded_var_template, tmp_path):
    result = sqlite_soak.soak(75, tmp_path, var_template=seeded_var_template)
    log = Path(result["log"]).read_text(errors="replace")
    assert result["failures"] == [], result
    assert result["locked"] == 0, log[-5000:]
    assert result["tracebacks"] == 0 and result["http_500"] == 0, log[-5000:]
    # The load was real: reports went in, the head acted on them, the worker and beat worked.
    assert result["reports"] >= 30 and result["acknowledged"] >= 10 and result["notes"] >= 10, result
    assert result["tasks_succeeded"] >= result["reports"] and result["sweeps"] >= 1, result
