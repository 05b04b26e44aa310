"""The anchor is history, not a bookmark: a database superuser who tampers with the audit trail and
lets the normal sealing run a minute later must not get an intact-looking chain back.

The attacker's sequence (issue item 1): disable the triggers, edit / delete / insert an event,
delete the seals from that event on, wait past the seal margin, and let the beat task (or
`verify_audit --seal`) seal. Sealing must refuse and raise an alarm; `verify_audit` must fail and
name the first event that no longer matches.
"""

import logging
from contextlib import suppress
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from accounts import audit
from accounts.audit import record, seal, verify
from accounts.models import AuditAction, AuditEvent, AuditSeal
from accounts.tasks import seal_audit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchor.log")
    return tmp_path / "anchor.log"


def _event(n):
    return record(AuditAction.VIEW, object_type="detail", object_id=n, detail={"n": n})


def _history():
    """Six events sealed in two runs of the sealer (two anchor lines), with a gap in the ids
    between the third and the fourth (a rolled-back transaction used one up)."""
    first = [_event(i) for i in range(3)]
    seal(margin=timedelta(0))
    with suppress(RuntimeError), transaction.atomic():
        _event(99)
        raise RuntimeError("rolled back: its id stays unused")
    second = [_event(i) for i in range(3, 6)]
    seal(margin=timedelta(0))
    return first + second


def _as_superuser(*statements):
    """Around the triggers, as a database superuser would."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE accounts_auditevent DISABLE TRIGGER ALL")
        cursor.execute("ALTER TABLE accounts_auditseal DISABLE TRIGGER ALL")
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("ALTER TABLE accounts_auditevent ENABLE TRIGGER ALL")
        cursor.execute("ALTER TABLE accounts_auditseal ENABLE TRIGGER ALL")


def _delete_seals_from(event_id):
    return ("DELETE FROM accounts_auditseal WHERE event_id >= %s", [event_id])


def _a_minute_later_the_sealer_runs(anchor_file, caplog):
    """New activity, time past the margin, then the beat task and the README's command."""
    seals_before = AuditSeal.objects.count()
    anchor_before = anchor_file.read_text()
    _event(1000)
    with time_machine.travel(timezone.now() + audit.SEAL_MARGIN + timedelta(minutes=1)), caplog.at_level(logging.ERROR):
        assert seal_audit() == 0
        with pytest.raises(CommandError) as failure:
            call_command("verify_audit", "--seal")
    # Refused: not one seal or anchor line added over the tampered chain, and an alarm was logged.
    assert AuditSeal.objects.count() == seals_before
    assert anchor_file.read_text() == anchor_before
    alarms = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "policyhub.audit"]
    assert alarms and all("refused" in r.getMessage() for r in alarms)
    return str(failure.value)


@pytest.mark.postgres
def test_an_edit_laundered_by_resealing_is_caught_and_sealing_refuses(anchor_file, caplog):
    events = _history()
    target = events[1]
    _as_superuser(
        ("UPDATE accounts_auditevent SET actor_email = %s WHERE id = %s", ["someone@else.example", target.pk]),
        _delete_seals_from(target.pk),
    )
    message = _a_minute_later_the_sealer_runs(anchor_file, caplog)
    assert f"event {target.pk} " in message
    result = verify()
    assert not result.ok and result.event_id == target.pk


@pytest.mark.postgres
def test_a_deletion_laundered_by_resealing_is_caught_and_sealing_refuses(anchor_file, caplog):
    events = _history()
    target = events[4]
    _as_superuser(
        ("DELETE FROM accounts_auditevent WHERE id = %s", [target.pk]),
        _delete_seals_from(target.pk),
    )
    message = _a_minute_later_the_sealer_runs(anchor_file, caplog)
    assert f"event {target.pk} is missing" in message
    assert verify().event_id == target.pk


@pytest.mark.postgres
def test_an_insertion_laundered_by_resealing_is_caught_and_sealing_refuses(anchor_file, caplog):
    events = _history()
    gap = events[2].pk + 1
    assert gap < events[3].pk and not AuditEvent.objects.filter(pk=gap).exists()
    _as_superuser(
        (
            "INSERT INTO accounts_auditevent"
            " (id, at, actor_email, action, object_type, object_id, object_ref, path, detail)"
            " VALUES (%s, %s, '', 'view', 'detail', '42', '', '', '{}')",
            [gap, events[2].at],
        ),
        _delete_seals_from(gap),
    )
    message = _a_minute_later_the_sealer_runs(anchor_file, caplog)
    assert f"event {gap} is not in the chain" in message
    assert verify().event_id == gap


@pytest.mark.postgres
def test_deleting_seals_alone_is_a_break(anchor_file):
    events = _history()
    _as_superuser(_delete_seals_from(events[3].pk))
    result = verify()
    assert not result.ok and result.event_id == events[3].pk
    assert "seal is missing" in result.problem


def test_every_anchor_line_must_still_be_reproduced_not_only_the_newest():
    """An attacker who rewrote every seal from an edited event on (their own sealer) still cannot
    reproduce the older anchor lines."""
    events = _history()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditevent DISABLE TRIGGER ALL")
            cursor.execute("ALTER TABLE accounts_auditseal DISABLE TRIGGER ALL")
        cursor.execute("UPDATE accounts_auditevent SET detail = %s WHERE id = %s", ['{"n": 42}', events[0].pk])
        prev = audit.GENESIS
        for event in AuditEvent.objects.filter(pk__in=AuditSeal.objects.values("event_id")).order_by("id"):
            digest = audit.chain(prev, event)
            cursor.execute(
                "UPDATE accounts_auditseal SET prev_hash = %s, hash = %s WHERE event_id = %s", [prev, digest, event.pk]
            )
            prev = digest
        # ... and rewrote the newest anchor line to match (the older ones stay as they were).
        path = audit.anchor_path()
        lines = path.read_text().splitlines()
        parts = lines[-1].split(" ")
        parts[2] = prev
        path.write_text("\n".join([*lines[:-1], " ".join(parts)]) + "\n")
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditevent ENABLE TRIGGER ALL")
            cursor.execute("ALTER TABLE accounts_auditseal ENABLE TRIGGER ALL")
    result = verify()
    assert not result.ok
    assert f"anchor at event {events[2].pk}" in result.problem
    assert seal(margin=timedelta(0)) == 0


def test_sealed_but_not_yet_anchored_events_are_still_checked(anchor_file, monkeypatch, caplog):
    """The anchor write failed after the seals were committed: the seals still protect those events,
    and the sealer refuses to anchor a tail that no longer matches them."""
    events = _history()

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    tail = [_event(i) for i in range(10, 13)]
    monkeypatch.setattr(audit, "write_anchor", disk_full)
    with pytest.raises(OSError):
        seal(margin=timedelta(0))
    monkeypatch.undo()
    assert AuditSeal.objects.filter(event_id__in=[e.pk for e in tail]).count() == 3
    assert "not anchored" in verify().problem
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditevent DISABLE TRIGGER ALL")
        cursor.execute("UPDATE accounts_auditevent SET action = 'export' WHERE id = %s", [tail[1].pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditevent ENABLE TRIGGER ALL")
    with caplog.at_level(logging.ERROR):
        assert seal(margin=timedelta(0)) == 0
    assert any("refused" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert verify().problem == f"event {tail[1].pk} was changed after sealing"
    assert audit.read_anchors()[-1].event_id == events[-1].pk  # nothing anchored over it


def test_a_failed_anchor_write_is_caught_up_by_the_next_seal(anchor_file, monkeypatch):
    _history()
    tail = [_event(i) for i in range(10, 13)]
    monkeypatch.setattr(audit, "write_anchor", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        seal(margin=timedelta(0))
    monkeypatch.undo()
    later = _event(13)
    assert seal(margin=timedelta(0)) == 1
    newest = audit.read_anchors()[-1]
    assert newest.event_id == later.pk
    assert newest.ids == ((tail[0].pk, later.pk),)
    assert verify().ok


def test_a_lost_anchor_file_is_a_break_and_sealing_refuses(anchor_file):
    _history()
    anchor_file.unlink()
    result = verify()
    assert not result.ok and "anchor" in result.problem
    _event(7)
    assert seal(margin=timedelta(0)) == 0
    assert not anchor_file.exists()
    with pytest.raises(CommandError, match="anchor"):
        call_command("verify_audit")


def test_verify_against_the_shipped_log_lines(anchor_file, tmp_path, caplog):
    """The anchor file lost its lines (truncated) after an edit and a consistent re-seal by the
    attacker; the copy of the anchors in the shipped log still shows it."""
    with caplog.at_level(logging.INFO, logger="policyhub.audit"):
        events = _history()
    shipped = tmp_path / "shipped.log"
    shipped.write_text(
        "\n".join(f"2026-12-02 10:00:00 INFO policyhub.audit {r.getMessage()}" for r in caplog.records) + "\n"
    )
    assert len(audit.read_anchors(shipped)) == 2
    assert verify(anchors=audit.read_anchors(shipped)).ok
    anchor_file.write_text("")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditevent DISABLE TRIGGER ALL")
            cursor.execute("ALTER TABLE accounts_auditseal DISABLE TRIGGER ALL")
        cursor.execute("UPDATE accounts_auditevent SET object_id = '7' WHERE id = %s", [events[4].pk])
        cursor.execute("DELETE FROM accounts_auditseal")
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditevent ENABLE TRIGGER ALL")
            cursor.execute("ALTER TABLE accounts_auditseal ENABLE TRIGGER ALL")
    with pytest.raises(CommandError, match=f"event {events[0].pk} "):
        call_command("verify_audit", "--anchors", str(shipped))


def test_a_malformed_anchor_line_is_a_clear_break(anchor_file):
    _history()
    with anchor_file.open("a") as fh:
        fh.write("not an anchor\n")
    result = verify()
    assert not result.ok and "line 3" in result.problem


def test_an_edit_under_intact_seals_is_caught_by_the_hourly_check(settings, caplog):
    """The sealer reads only the seals each minute; extending an intact chain of seals destroys no
    evidence: the hourly recomputation still names the edited event, and keeps raising the alarm."""
    from accounts.tasks import verify_audit

    assert settings.CELERY_BEAT_SCHEDULE["verify-audit"]["task"] == verify_audit.name
    events = _history()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditevent DISABLE TRIGGER ALL")
        cursor.execute("UPDATE accounts_auditevent SET object_id = '77' WHERE id = %s", [events[1].pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditevent ENABLE TRIGGER ALL")
    _event(8)
    assert seal(margin=timedelta(0)) == 1
    with caplog.at_level(logging.ERROR):
        assert verify_audit.apply().get() is False
    [alarm] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"event {events[1].pk} was changed after sealing" in alarm.getMessage()
    with pytest.raises(CommandError, match=f"event {events[1].pk} was changed"):
        call_command("verify_audit")


def test_an_intact_trail_verifies_after_many_runs_and_the_anchor_lists_what_each_run_sealed():
    events = _history()
    anchors = audit.read_anchors()
    assert [(a.event_id, a.ids) for a in anchors] == [
        (events[2].pk, ((events[0].pk, events[2].pk),)),
        (events[5].pk, ((events[3].pk, events[5].pk),)),
    ]
    assert seal(margin=timedelta(0)) == 0
    assert len(audit.read_anchors()) == 2  # nothing new: no line
    result = verify()
    assert result.ok and result.checked == 6
    call_command("verify_audit")


def test_a_truncated_anchor_file_is_reported_until_the_sealer_anchors_the_checked_tail_again(anchor_file):
    """Documented limit: lines lost from the end of the file are a break for `verify_audit`; the
    next seal re-anchors those seals only after checking them against their events."""
    events = _history()
    lines = anchor_file.read_text().splitlines(keepends=True)
    anchor_file.write_text(lines[0])
    result = verify()
    assert "not anchored" in result.problem and result.unanchored_after == events[2].pk
    assert seal(margin=timedelta(0)) == 0
    assert audit.read_anchors()[-1].event_id == events[5].pk
    assert verify().ok


def test_anchor_lines_of_the_previous_version_still_verify(anchor_file):
    """Lines written before the anchors listed their events ("time event hash") still count."""
    events = _history()
    anchor_file.write_text("".join(line.split(" ids=")[0] + "\n" for line in anchor_file.read_text().splitlines()))
    assert [a.ids for a in audit.read_anchors()] == [None, None]
    assert verify().ok
    _event(9)
    assert seal(margin=timedelta(0)) == 1
    assert verify().ok
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditseal DISABLE TRIGGER ALL")
        cursor.execute("DELETE FROM accounts_auditseal WHERE event_id >= %s", [events[4].pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditseal ENABLE TRIGGER ALL")
    assert seal(margin=timedelta(0)) == 0
    assert not verify().ok
