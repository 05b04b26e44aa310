"""Soak: the embedded default (`make run`: SQLite, filesystem broker, web + worker + beat) with
reports coming in for a while. Not a test: run it by hand, e.g. for 15 minutes

    .venv/bin/python bench/sqlite_soak.py --minutes 15

It starts the real `make run` on a throwaway var folder and a free port, then signs staff in at
both demo schools, who submit reports through the report form, while the Oakfield head
acknowledges each new case and adds a note, and the worker and beat do their work (notifications,
the minute sweeps, the audit seal). At the end it presses Ctrl-C and counts, in everything the
three processes logged: "database is locked", other tracebacks and HTTP 500s. Exit status 1 if
there was any, or if a request failed (if a process dies, `make run` stops and requests fail).
tests/policyhub/test_sqlite_soak.py runs it for 75 seconds.
(`make bench` skips it: it needs no PostgreSQL and takes as long as you ask.)
"""

import argparse
import contextlib
import os
import queue
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.embedded import (  # noqa: E402
    HEAD,
    HEAD_TOTP_KEY,
    STAFF,
    Client,
    Stack,
    copy_var,
    free_port,
    new_case,
    prepared_var,
    wait_until,
)

PASSWORD = "policyhub-demo"  # the demo accounts' default (policyhub.demo)


def _report(n: int) -> dict:
    return {
        "category": random.choice(["parent_post", "pupil_post", "cyberbullying"]),
        "platform": random.choice(["facebook", "instagram", "tiktok"]),
        "links": "",
        "seen_at": time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() - 3600)),
        "involved": random.choice(["parent", "pupil", "unknown"]),
        "involved_detail": "",
        "description": f"Soak report {n}: a post naming the school.",
        "child_at_risk": "no",
    }


def soak(seconds: float, directory: Path, reporters_per_school: int = 2, say=print, var_template=None) -> dict:
    """Runs the load for `seconds`; returns the counts (see the module's docstring). `var_template`:
    a migrated, seeded var folder to copy (the tests' seeded_var_template) instead of making one."""
    var_dir = copy_var(var_template, directory) if var_template else prepared_var(directory)
    stack = Stack(var_dir, free_port(), directory / "run.log").start()
    counts = {"reports": 0, "acknowledged": 0, "notes": 0, "refused": 0}
    failures: list[str] = []
    lock = threading.Lock()
    new_cases: queue.Queue = queue.Queue()
    try:
        stack.wait_ready()
        new_case(stack.env)  # the head's authenticator (and a first case)
        head = Client(stack.url)
        head.sign_in(HEAD, PASSWORD, HEAD_TOTP_KEY)
        staff = []
        for email in STAFF:
            signed_in = Client(stack.url)
            signed_in.sign_in(email, PASSWORD)
            staff += [signed_in] + [signed_in.copy() for _ in range(reporters_per_school - 1)]
        say(f"Serving {stack.url}; {len(staff)} reporters and the head for {seconds:.0f} s.")
        deadline = time.monotonic() + seconds

        def count(key):
            with lock:
                counts[key] += 1

        def fail(what):
            with lock:
                failures.append(what)

        def reporter(client: Client, number: int):
            n = 0
            while time.monotonic() < deadline:
                n += 1
                try:
                    response = client.request("/incidents/report/", _report(n))
                except OSError as exc:  # the server dropped the connection or timed out
                    fail(f"report: {exc!r}")
                    if stack.process.poll() is not None:
                        return  # make run has stopped (the log says why)
                    time.sleep(1)
                    continue
                match = re.search(r"/incidents/report/([^/]+)/done/", response.location)
                if response.status == 302 and match:
                    count("reports")
                    if number < reporters_per_school:  # Oakfield's reporters: the head's cases
                        new_cases.put(match.group(1))
                else:
                    fail(f"report: HTTP {response.status}")
                time.sleep(random.uniform(0.2, 1.5))

        def head_at_work():
            while time.monotonic() < deadline:
                try:
                    pk = new_cases.get(timeout=1)
                except queue.Empty:
                    continue
                for action, data, key in (
                    ("acknowledge", {}, "acknowledged"),
                    ("notes", {"add_note-note": "Spoke to the reporter."}, "notes"),
                ):
                    try:
                        response = head.request(f"/incidents/{pk}/{action}/", data)
                        if response.status != 302:
                            fail(f"{action}: HTTP {response.status}")
                            break
                        page = head.follow(response)
                    except OSError as exc:
                        fail(f"{action}: {exc!r}")
                        if stack.process.poll() is not None:
                            return
                        break
                    if "alert-danger" in page.text:
                        count("refused")  # a clean refusal (the case changed): not a failure
                    elif page.status == 200:
                        count(key)
                    else:
                        fail(f"{action}: HTTP {page.status} after redirect")

        threads = [threading.Thread(target=reporter, args=(c, i)) for i, c in enumerate(staff)]
        threads.append(threading.Thread(target=head_at_work))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Let the worker finish what the last reports queued: up to 5 s, until it has finished
        # every task it received and at least one per report.
        wait_until(lambda: _settled(stack.text(), counts["reports"]), timeout=5, interval=0.25)
    finally:
        if stack.process.poll() is None:
            stack.ctrl_c()
            with contextlib.suppress(subprocess.TimeoutExpired):  # stack.kill() below
                stack.process.wait(timeout=30)
        stack.kill()
    log = stack.text()
    return {
        **counts,
        "failures": failures,
        "locked": log.count("database is locked"),
        "tracebacks": log.count("Traceback (most recent call last)"),
        "http_500": len(re.findall(r'" 500 \d+', log)),
        "tasks_succeeded": _succeeded(log),
        "sweeps": len(re.findall(r"Task incidents\.tasks\.sweep_deadlines\[\S+\] succeeded", log)),
        "log": str(directory / "run.log"),
    }


def _succeeded(log: str) -> int:
    return len(re.findall(r"Task \S+ succeeded", log))


def _settled(log: str, reports: int) -> bool:
    received = len(re.findall(r"Task \S+ received", log))
    return _succeeded(log) >= max(received, reports)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=15)
    parser.add_argument("--keep", help="folder to keep the var folder and run.log in")
    args = parser.parse_args()
    if os.environ.get("DATABASE_URL"):
        print("bench/sqlite_soak.py runs the embedded default (SQLite); run it without DATABASE_URL.")
        return 0
    directory = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="policyhub-soak-"))
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result = soak(args.minutes * 60, directory)
    print(f"Ran {time.monotonic() - started:.0f} s.")
    for key, value in result.items():
        if key == "failures":
            value = f"{len(value)} {sorted(set(value))[:5]}"
        print(f"  {key}: {value}")
    bad = result["failures"] or result["locked"] or result["tracebacks"] or result["http_500"]
    print("FAILED" if bad else "OK: no locking error, no traceback, no HTTP 500.")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
