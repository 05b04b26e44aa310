"""The embedded default (`make run`: SQLite, with the worker and beat writing beside the web
server) under simultaneous writes: no "database is locked", no 500. Real processes on a real
SQLite file, because the test server's in-memory database hides exactly this."""

import re
import threading

import pytest

from policyhub.demo import DEFAULT_DEMO_PASSWORD
from tests.embedded import HEAD, HEAD_TOTP_KEY, Client, Stack, copy_var, free_port, new_cases

CLICKS = 8
# Real processes and timing-dependent collisions: never beside another real-process test.
pytestmark = pytest.mark.xdist_group("real-processes")
ROUNDS = 5


@pytest.fixture(scope="module")
def stack(seeded_var_template, tmp_path_factory):
    directory = tmp_path_factory.mktemp("sqlite-concurrency")
    stack = Stack(copy_var(seeded_var_template, directory), free_port(), directory / "run.log").start()
    try:
        stack.wait_ready()
        yield stack
    finally:
        stack.ctrl_c()
        stack.process.wait(timeout=30)
        stack.kill()


def _outcome(tab: Client, response) -> str:
    if response.status != 302:
        return f"HTTP {response.status}"
    page = tab.follow(response)
    if page.status != 200:
        return f"HTTP {page.status} after redirect"
    if re.search(r"alert-success[^>]*>Acknowledged\. ", page.text):
        return "acknowledged"
    if re.search(r"alert-danger[^>]*>[^<]*Nothing was changed", page.text):
        return "refused"
    return "no message"


def _errors(log: str) -> str:
    """Each traceback of the server's log (its innermost frames) and every 500 line."""
    lines, out = log.splitlines(), []
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = next((j for j in range(i + 1, len(lines)) if not lines[j].startswith(" ")), len(lines))
            frames = [f for f in lines[i : end + 1] if f.strip(" ^~")]
            out += [line, *frames[-24:]]
        elif '" 500 ' in line:
            out.append(line)
    return "\n".join(out[:200]) or log[-6000:]


def _eight_clicks(head: Client, pk: str) -> list[str]:
    # Eight tabs of the head's browser, each showing the case as it was, click at the same moment.
    tabs = [head.copy() for _ in range(CLICKS)]
    for tab in tabs:
        assert tab.request(f"/incidents/{pk}/").status == 200
    start = threading.Barrier(CLICKS)
    outcomes = [None] * CLICKS

    def click(i):
        start.wait()
        response = tabs[i].request(f"/incidents/{pk}/acknowledge/", {})
        outcomes[i] = _outcome(tabs[i], response)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_eight_simultaneous_acknowledge_clicks_give_one_success_and_seven_clean_refusals(stack):
    # Several rounds, one case each: whether two transactions collide depends on timing.
    cases = new_cases(stack.env, ROUNDS)
    head = Client(stack.url)
    head.sign_in(HEAD, DEFAULT_DEMO_PASSWORD, HEAD_TOTP_KEY)
    results = {pk: _eight_clicks(head, pk) for pk in cases}

    expected = ["acknowledged"] + ["refused"] * (CLICKS - 1)
    got = {pk: sorted(outcomes) for pk, outcomes in results.items()}
    # On a mismatch, the server's own account of it: each traceback and 500 line of its log.
    assert got == dict.fromkeys(cases, expected), _errors(stack.text())
    for pk in cases:
        case = head.request(f"/incidents/{pk}/")
        assert case.status == 200 and "Acknowledged" in case.text
    log = stack.text()
    assert "database is locked" not in log
    assert not re.search(r'" 500 \d+', log), log[-3000:]
