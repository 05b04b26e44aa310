"""The suite runs in two pytest-xdist workers (scripts/test.sh): what keeps them apart, and the
script's switches (docs/notes/speed.md)."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.testenv import _worker_redis_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("worker", "expected"),
    [
        ("", "redis://127.0.0.1:6390/0"),  # a serial run keeps the database it was given
        ("gw0", "redis://127.0.0.1:6390/1"),
        ("gw1", "redis://127.0.0.1:6390/2"),
        ("gw14", "redis://127.0.0.1:6390/15"),
        ("gw15", "redis://127.0.0.1:6390/1"),  # Redis has 16 databases (0-15)
    ],
)
def test_each_xdist_worker_gets_its_own_redis_database(worker, expected):
    assert _worker_redis_url("redis://127.0.0.1:6390/0", worker) == expected


def test_no_redis_stays_no_redis():
    assert _worker_redis_url("", "gw1") == ""


def test_this_process_uses_its_workers_redis_database():
    from tests.services import REDIS_URL

    if not REDIS_URL:
        pytest.skip("no test Redis in this run")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    db = int(REDIS_URL.rsplit("/", 1)[1])
    assert db == (int(worker[2:]) % 15 + 1 if worker else 0)


def _fake_bin(tmp_path, status):
    """A BIN folder whose pytest records its arguments and exits with `status`."""
    import sys

    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python").symlink_to(sys.executable)
    pytest_script = folder / "pytest"
    pytest_script.write_text(f'#!/bin/sh\necho "ARGS: $*"\nexit {status}\n')
    pytest_script.chmod(pytest_script.stat().st_mode | stat.S_IEXEC)
    return folder


def _test_sh(tmp_path, *args, status=0, **env):
    # DATABASE_URL set: no pg_virtualenv cluster; the fake pytest never looks at it.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "POLICYHUB_TEST_REDIS"))}
    base.update(BIN=str(_fake_bin(tmp_path, status)), DATABASE_URL="sqlite:///unused", POLICYHUB_REQUIRE_SERVICES="0")
    return subprocess.run(
        ["bash", "scripts/test.sh", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_test_sh_runs_two_workers_by_default_grouped_and_passes_the_arguments_on(tmp_path):
    result = _test_sh(tmp_path, "tests/test_x.py", "-q")
    assert result.returncode == 0, result.stderr
    assert "ARGS: -n 2 --dist loadgroup tests/test_x.py -q" in result.stdout


def test_test_sh_runs_serially_with_pytest_workers_0(tmp_path):
    result = _test_sh(tmp_path, "tests/test_x.py", PYTEST_WORKERS="0")
    assert result.returncode == 0, result.stderr
    assert "ARGS: tests/test_x.py\n" in result.stdout


def test_test_sh_fails_when_no_test_ran(tmp_path):
    result = _test_sh(tmp_path, "-k", "nothing", status=5)
    assert result.returncode == 5
    assert "ERROR: pytest ran no test." in result.stderr


GROUPED = """
import os
from pathlib import Path

import pytest

OUT = Path(os.environ["GROUP_TEST_OUT"])


@pytest.mark.xdist_group("alone")
@pytest.mark.parametrize("i", range(6))
def test_grouped(i):
    (OUT / f"grouped-{i}").write_text(os.environ["PYTEST_XDIST_WORKER"])


@pytest.mark.parametrize("i", range(6))
def test_free(i):
    (OUT / f"free-{i}").write_text(os.environ["PYTEST_XDIST_WORKER"])
"""


def test_an_xdist_group_runs_in_one_worker(tmp_path):
    """Without tests/xdist_groups.py, pytest 9 and xdist 3.8 spread a group over both workers."""
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    out = tmp_path / "out"
    out.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(PYTHONPATH=str(ROOT), GROUP_TEST_OUT=str(out))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "pytest"), "-p", "tests.xdist_groups", "-p", "no:cacheprovider"]
        + ["-n", "2", "--dist", "loadgroup", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    grouped = {f.read_text() for f in out.glob("grouped-*")}
    assert len(list(out.glob("grouped-*"))) == 6 and len(list(out.glob("free-*"))) == 6
    assert len(grouped) == 1, f"the group ran in {sorted(grouped)}"
