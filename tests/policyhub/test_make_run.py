"""`make run` stops on Ctrl-C: web, worker and beat (and make, and scripts/run.sh) are all gone
within 10 seconds. It used to leave the worker in warm shutdown for minutes, some of the time, so
it is tried several times."""

import time

import pytest

from tests.embedded import Stack, alive, copy_var, free_port, wait_until

TRIES = 3
# Real processes timed to the second: never beside another real-process test (docs/notes/speed.md).
pytestmark = pytest.mark.xdist_group("real-processes")


@pytest.fixture(scope="module")
def seeded_var(seeded_var_template, tmp_path_factory):
    return copy_var(seeded_var_template, tmp_path_factory.mktemp("make-run"))


@pytest.mark.parametrize("attempt", range(1, TRIES + 1))
def test_ctrl_c_stops_web_worker_and_beat_within_10_seconds(seeded_var, tmp_path, attempt):
    stack = Stack(seeded_var, free_port(), tmp_path / "run.log").start()
    try:
        stack.wait_ready()
        # The worker has work in hand, as in real use: the heartbeat queued at start-up.
        assert wait_until(lambda: "Celery heartbeat ran" in stack.text(), timeout=30), stack.text()[-3000:]
        processes = stack.processes()
        commands = " | ".join(alive(processes).values())
        assert "runserver" in commands and "worker" in commands and "beat" in commands, commands

        stack.ctrl_c()
        started = time.monotonic()
        stopped = wait_until(lambda: not alive(processes) and stack.process.poll() is not None, timeout=10)
        left = alive(processes)
        assert stopped, f"still running {time.monotonic() - started:.0f} s after Ctrl-C: {left}\n{stack.text()[-3000:]}"
        # They stopped by themselves: scripts/run.sh did not have to kill anything.
        assert "Still running after" not in stack.text()
        assert "Warm shutdown" in stack.text()
    finally:
        stack.kill()
