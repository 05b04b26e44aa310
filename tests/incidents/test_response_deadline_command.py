import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from incidents.models import SchoolClosure

EXAMPLES = [
    ("2025-11-19T10:30", "2025-11-20T10:30:00+00:00", "24 hours after receipt"),
    ("2025-11-21T16:00", "2025-11-22T16:00:00+00:00", "24 hours after receipt"),
    ("2025-11-22T09:00", "2025-11-24T17:00:00+00:00", "received Sat 22 Nov 09:00"),
    ("2026-05-24T12:00", "2026-05-26T17:00:00+01:00", "skipped Mon 25 May (bank holiday"),
    ("2026-03-28T23:30", "2026-03-30T17:00:00+01:00", "received Sat 28 Mar 23:30"),
]


def _run(*args) -> str:
    out = StringIO()
    call_command("response_deadline", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(("received", "due", "reason"), EXAMPLES)
def test_product_examples_in_json(received, due, reason):
    data = json.loads(_run("--received", received, "--nation", "england", "--json"))
    assert set(data) == {"due", "reason"}
    assert data["due"] == due
    assert reason in data["reason"]


def test_plain_output_is_due_then_reason():
    lines = _run("--received", "2026-05-24T12:00", "--nation", "england").splitlines()
    assert lines[0] == "2026-05-26T17:00:00+01:00"
    assert lines[1].startswith("due Tue 26 May 17:00")


def test_an_explicit_offset_is_respected():
    # 23:30 UTC on Fri 27 Mar 2026 is 23:30 local (GMT): a working day, so +24h.
    data = json.loads(_run("--received", "2026-03-27T23:30+00:00", "--nation", "england", "--json"))
    assert data["due"] == "2026-03-28T23:30:00+00:00"


def test_scotland_has_no_easter_monday_holiday():
    england = json.loads(_run("--received", "2026-04-04T10:00", "--nation", "england", "--json"))
    scotland = json.loads(_run("--received", "2026-04-04T10:00", "--nation", "scotland", "--json"))
    assert england["due"] == "2026-04-07T17:00:00+01:00"
    assert scotland["due"] == "2026-04-06T17:00:00+01:00"


@pytest.mark.django_db
def test_school_closures_count(cast):
    SchoolClosure.objects.create(school=cast.oakfield, date="2025-11-24", label="INSET day")
    data = json.loads(_run("--received", "2025-11-22T09:00", "--school", "oakfield", "--json"))
    assert data["due"] == "2025-11-25T17:00:00+00:00"
    assert "INSET day" in data["reason"]


@pytest.mark.django_db
def test_bad_input_is_a_clear_error():
    with pytest.raises(CommandError, match="ISO 8601"):
        _run("--received", "last tuesday", "--nation", "england")
    with pytest.raises(CommandError, match="No school"):
        _run("--received", "2025-11-22T09:00", "--school", "nowhere")
    with pytest.raises(CommandError, match="Give --nation or --school"):
        _run("--received", "2025-11-22T09:00")
