"""The case page's repeated rows are written in Python (incidents/case_rows.py) instead of template
loops ([12] Performance). Their markup must stay what the templates wrote: each is compared, whitespace
normalised, with the template it replaced (kept verbatim below) over a spread of rows, on the owners'
page (`detailed`) and the others'. A dropped class, attribute or text fails the comparison."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.template import engines
from django.template.loader import render_to_string
from django.test.html import parse_html

from accounts.models import User
from incidents.forms import WithdrawForm
from incidents.models import CaseMessage, Evidence, MessageKind, Status, TimelineEntry, TimelineKind

pytestmark = pytest.mark.django_db  # the URL resolver only; every row here is unsaved

# The templates as they were before the rows moved to Python (commit ebb79fe), kept verbatim.
BEFORE = Path(__file__).parent / "case_rows_before"
OLD_TIMELINE = (BEFORE / "_timeline.html").read_text()
OLD_EVIDENCE = (BEFORE / "_case_evidence.html").read_text()
OLD_MESSAGES = (BEFORE / "_case_messages.html").read_text()

EVIL = '<script>alert(1)</script> & "quoted"\nsecond line'
AT = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night the clocks change
CSRF = "csrf-token-for-the-test"


def _normal(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def _both(old: str, new: str, context: dict) -> tuple[str, str]:
    before = engines["django"].from_string(old).render({**context, "csrf_token": CSRF})
    after = render_to_string(new, {**context, "csrf_token": CSRF})
    return _normal(before), _normal(after)


def _people():
    return User(pk=7, full_name="Helen <b>Head</b>", email="helen@x.example"), User(pk=8, email="sam@x.example")


def _timeline():
    helen, sam = _people()
    entries = []
    for i, kind in enumerate(TimelineKind):
        entries.append(
            TimelineEntry(
                pk=i + 1,
                kind=kind,
                at=AT + timedelta(hours=i),
                actor=(helen, sam, None)[i % 3],
                internal=bool(i % 2),
                note=EVIL if i % 4 == 0 else "",
            )
        )
    statuses = list(Status)
    for i, to in enumerate(statuses):
        entries.append(
            TimelineEntry(
                pk=100 + i,
                kind=TimelineKind.TRANSITION,
                at=AT,
                actor=helen,
                internal=False,
                to_status=to,
                from_status=statuses[i - 1] if i % 2 else "",
            )
        )
    return entries


@pytest.mark.parametrize("detailed", [True, False])
def test_the_timeline_lines_are_the_markup_the_template_wrote(detailed):
    before, after = _both(OLD_TIMELINE, "incidents/_timeline.html", {"timeline": _timeline(), "detailed": detailed})
    assert after == before
    assert "<script>" not in after and "&lt;script&gt;" in after


def test_every_timeline_kind_and_status_shows_its_text():
    after = render_to_string("incidents/_timeline.html", {"timeline": _timeline(), "detailed": True})
    lines = re.findall(r"<li .*?</li>", after, re.S)
    assert len(lines) == len(TimelineKind) + len(Status)
    for kind in TimelineKind:
        assert f"<div>{kind.label}" in after, kind
    for status in Status:
        assert f": {status.label}</div>" in after or f"→ {status.label}</div>" in after, status
    assert "<div></div>" not in after and "<div>: " not in after  # never a blank kind or status


def test_the_reporters_timeline_names_nobody_and_hides_internal_badges():
    after = render_to_string("incidents/_timeline.html", {"timeline": _timeline()})
    assert "Helen" not in after and "sam@x.example" not in after and "internal" not in after
    assert "border-secondary" not in after


def test_an_empty_timeline_says_so():
    assert _both(OLD_TIMELINE, "incidents/_timeline.html", {"timeline": []})[1] == "<p>Nothing yet.</p>"


def _files():
    helen, _ = _people()
    files = []
    for i in range(6):
        files.append(
            Evidence(
                pk=i + 1,
                public_id=uuid.UUID(int=i + 1),
                uploaded_by=helen,
                original_name=f"post {i} " + EVIL,
                size=10 ** (i + 1),
                sha256=f"{i:064x}",
                preview_name="p.jpg" if i % 2 else "",
                captured_at=AT if i % 3 == 0 else None,
                captured_url="https://x.example/p?a=1&b=<2>" if i % 2 else "",
                withdrawn_at=AT if i in (2, 5) else None,
                withdrawn_reason="the wrong <i>file</i>" if i in (2, 5) else "",
            )
        )
    return files


@pytest.mark.parametrize(
    "context",
    [
        {"detailed": True, "withdraw_form": WithdrawForm(prefix="withdraw")},
        {"detailed": True, "withdraw_form": None},
        {},
    ],
    ids=["owner-may-withdraw", "owner", "reporter-or-assignee"],
)
def test_the_evidence_rows_are_the_markup_the_template_wrote(context):
    before, after = _both(OLD_EVIDENCE, "incidents/_case_evidence.html", {"evidence": _files(), **context})
    # The withdraw form is written by plain_crispy now: crispy's markup without the space crispy
    # leaves at the start of a label (tests/incidents/test_action_markup.py compares the forms).
    assert after == re.sub(r"(<label[^>]*>) ", r"\1", before)
    assert parse_html(after) == parse_html(before)
    assert "<script>" not in after and "&lt;script&gt;" in after
    if context.get("withdraw_form"):
        assert after.count(CSRF) == 4  # each file not withdrawn has its form, with the token
        assert after.count('name="withdraw-reason"') == 4
    else:
        assert "csrfmiddlewaretoken" not in after
    if not context.get("detailed"):
        assert "SHA-256" not in after and "the wrong" not in after  # checksums and reasons: owners only
    else:
        assert "the wrong &lt;i&gt;file&lt;/i&gt;" in after


def test_no_files_says_so():
    before, after = _both(OLD_EVIDENCE, "incidents/_case_evidence.html", {"evidence": []})
    assert after == before and "No files." in after


def _thread():
    helen, sam = _people()
    return [
        CaseMessage(pk=i + 1, kind=kind, author=(helen, sam)[i % 2], sent_at=AT + timedelta(days=i), body=EVIL)
        for i, kind in enumerate([*MessageKind, *MessageKind])
    ]


@pytest.mark.parametrize("detailed", [True, False])
def test_the_messages_are_the_markup_the_template_wrote(detailed):
    before, after = _both(OLD_MESSAGES, "incidents/_case_messages.html", {"thread": _thread(), "detailed": detailed})
    assert after == before
    assert "<script>" not in after and "&lt;script&gt;" in after
    assert ("Helen" in after) is detailed  # the reporter never sees who on the school's side wrote


def test_the_reporters_thread_never_reads_the_authors(django_assert_num_queries):
    thread = [CaseMessage(pk=1, kind=MessageKind.TO_REPORTER, author_id=99, sent_at=AT, body="hello")]
    with django_assert_num_queries(0):  # an author would be fetched (and could be written) if read
        after = render_to_string("incidents/_case_messages.html", {"thread": thread})
    assert "From the school" in after
