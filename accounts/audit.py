"""The audit trail: record events, seal them into a hash chain, verify the chain.

- `record()` writes one AuditEvent (the app's view of who did what).
- `accounts.audit_reads.AuditMiddleware` records every read of case data (a view, a download, a
  refusal); `accounts.audit_cases` says which events concern which case.
- Database triggers (accounts/audit_triggers.py) record every row change of the sensitive tables,
  bulk and raw SQL included, and make the audit tables append-only on PostgreSQL.
- `seal()` (Celery beat, every minute) chains events in id order:
  hash = sha256(previous hash + canonical event), and appends the newest hash (and which events it
  sealed) to an anchor file outside the database, and to the log. A database superuser can bypass
  the triggers; the chain checked against every anchor line ever written still shows an edited,
  deleted or inserted row, or missing seals (`manage.py verify_audit`), and `seal()` refuses to
  extend a chain that no longer matches its anchors, so re-sealing cannot launder a change.
"""

import hashlib
import json
import logging
import os
import re
from bisect import bisect_left
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from itertools import takewhile
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import AuditAction, AuditEvent, AuditSeal
from .prepared import PreparedInsert

log = logging.getLogger("policyhub.audit")

GENESIS = "0" * 64
SEAL_LOCK = 7243001  # pg_advisory_xact_lock key: one sealer at a time
SEAL_MARGIN = timedelta(seconds=60)  # leave in-flight transactions time to commit before sealing
_INSERT = PreparedInsert(AuditEvent)


def client_ip(request) -> str | None:
    """The client's address as django-axes and the sign-in limiter see it: one function decides
    it (accounts.security.client_ip, which honours TRUSTED_PROXY_COUNT), so the audit trail never
    names the proxy where the lockout records name the client."""
    from .security import client_ip as decide  # here, not at the top: security imports django-axes

    return decide(request) or None


def _event(action: str, *, request=None, actor=None, object_id="", detail=None, **fields) -> AuditEvent:
    """One unsaved event: who acted, from where, on what. Never put report content or names in
    `detail`: references and ids only."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return AuditEvent(
        action=action,
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        object_id=str(object_id or ""),
        path=(request.path[:300] if request is not None else ""),
        ip=client_ip(request) if request is not None else None,
        detail=detail or {},
        **fields,
    )


def record(
    action: str,
    *,
    request=None,
    actor=None,
    object_type: str = "",
    object_id="",
    object_ref: str = "",
    school_id: int | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Append one event."""
    event = _event(
        action,
        request=request,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        object_ref=object_ref,
        school_id=school_id,
        detail=detail,
    )
    _INSERT.save(event)  # event.save(force_insert=True), its SQL written once (accounts/prepared.py)
    return event


def record_each(action: str, *, request=None, actor=None, events: list[dict]) -> None:
    """`record` for many objects at once (one event per case of a subject-access run): one INSERT,
    so a page's queries do not grow with the cases it shows."""
    if events:
        AuditEvent.objects.bulk_create([_event(action, request=request, actor=actor, **fields) for fields in events])


def record_case_change(actor, case, **detail) -> AuditEvent:
    """A change to a case, naming the case by id and reference only: what changed is in `detail`
    (kinds and ids, never a reason's text), so the subject filter and the case's history find it."""
    return record(
        AuditAction.CHANGE,
        actor=actor,
        object_type="incident",
        object_id=case.pk,
        object_ref=case.reference,
        school_id=case.school_id,
        detail=detail,
    )


# --- The hash chain ------------------------------------------------------------------------------


def canonical(event: AuditEvent) -> str:
    return json.dumps(
        [
            event.pk,
            event.at.isoformat(),
            event.actor_id,
            event.actor_email,
            event.action,
            event.object_type,
            event.object_id,
            event.object_ref,
            event.school_id,
            event.path,
            event.ip,
            event.detail,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def chain(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode()).hexdigest()


def anchor_path() -> Path:
    return Path(settings.AUDIT_ANCHOR_FILE)


@contextmanager
def _sealer_lock():
    """One sealer or verifier at a time, held until the anchor line is written (after the commit),
    so a verification never sees seals whose anchor line is still being written."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [SEAL_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SEAL_LOCK])


def seal(*, now=None, margin: timedelta = SEAL_MARGIN, batch: int = 5000) -> int:
    """Chain the events not sealed yet (older than `margin`), then write the newest hash outside
    the database: a line in the anchor file and a log line. Returns how many were sealed.

    First the stored chain is checked against every anchor line (`check_seals`): a chain that no
    longer matches them is never extended (that would re-anchor a rewritten history); sealing is
    refused with an error-level alarm, every minute, until someone looks. The one repair it makes
    by itself: seals committed after the newest anchor line whose line was never written (the
    write failed) are anchored now, once they check out against their events."""
    now = now or timezone.now()
    with _sealer_lock():
        result = check_seals()
        if not result.ok and result.unanchored_after is None:
            log.error("audit chain broken: sealing refused (%s). Run manage.py verify_audit.", result.problem)
            return 0
        with transaction.atomic():
            last = AuditSeal.objects.order_by("-event_id").first()
            prev = last.hash if last else GENESIS
            cutoff = now - margin
            # Only a prefix in id order: an event skipped now (written later than a younger one by
            # another clock or transaction) would otherwise never be sealed.
            pending = AuditEvent.objects.filter(id__gt=last.event_id if last else 0).order_by("id")[:batch]
            seals = []
            for event in takewhile(lambda e: e.at <= cutoff, pending):
                digest = chain(prev, event)
                seals.append(AuditSeal(event_id=event.pk, prev_hash=prev, hash=digest, sealed_at=now))
                prev = digest
            AuditSeal.objects.bulk_create(seals)
        if result.unanchored_after is not None:
            log.warning(
                "audit anchor catch-up: seals after event %s had no anchor line (a failed write?); anchoring them now",
                result.unanchored_after,
            )
            ids = list(
                AuditSeal.objects.filter(event_id__gt=result.unanchored_after)
                .order_by("event_id")
                .values_list("event_id", flat=True)
            )
            newest = AuditSeal.objects.get(event_id=ids[-1])
            write_anchor(newest.event_id, newest.hash, now, ids)
        elif seals:
            write_anchor(seals[-1].event_id, seals[-1].hash, now, [s.event_id for s in seals])
    return len(seals)


def write_anchor(event_id: int, digest: str, now, ids=()) -> None:
    """One line per sealing run: when, the newest event and its chain hash, and which events the
    run sealed (as id ranges), so a verification can name an event deleted or inserted later."""
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    ranges = format_ids(ids or [event_id])
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"{now.isoformat()} {event_id} {digest} ids={ranges}\n")
        fh.flush()
        os.fsync(fh.fileno())
    log.info("audit anchor event=%s hash=%s ids=%s", event_id, digest, ranges)


def format_ids(ids) -> str:
    """[1, 2, 3, 5] -> "1..3,5" (ids are mostly consecutive)."""
    ranges: list[list[int]] = []
    for i in sorted(ids):
        if ranges and i == ranges[-1][1] + 1:
            ranges[-1][1] = i
        else:
            ranges.append([i, i])
    return ",".join(f"{lo}..{hi}" if lo != hi else str(lo) for lo, hi in ranges)


def _parse_ids(text: str) -> tuple[tuple[int, int], ...] | None:
    ranges = []
    for part in text.split(","):
        match = _RANGE.fullmatch(part)
        if match is None:
            return None
        lo = int(match[1])
        hi = int(match[2]) if match[2] is not None else lo
        if lo > hi or (ranges and lo <= ranges[-1][1]):
            return None
        ranges.append((lo, hi))
    return tuple(ranges)


_ANCHOR_LINE = re.compile(r"(?P<at>\S+) (?P<event>-?\d+) (?P<hash>[0-9a-f]{64})(?: ids=(?P<ids>\S+))?")
_LOG_LINE = re.compile(r"audit anchor event=(?P<event>-?\d+) hash=(?P<hash>[0-9a-f]{64})(?: ids=(?P<ids>\S+))?")
_RANGE = re.compile(r"(-?\d+)(?:\.\.(-?\d+))?")


class AnchorFileError(ValueError):
    pass


@dataclass(frozen=True)
class Anchor:
    line: int
    at: str  # when it was written; "" for a line copied from a log
    event_id: int
    hash: str
    ids: tuple[tuple[int, int], ...] | None  # the event ids that run sealed; None on lines of old versions

    @property
    def where(self) -> str:
        return f"anchored {self.at}" if self.at else f"anchored on line {self.line}"


def read_anchors(path=None) -> list[Anchor]:
    """Every anchor line, oldest first. `path`: another copy of them, e.g. the shipped log, where
    lines other than `audit anchor ...` ones are skipped. The anchor file itself must hold nothing
    else: a line that is not an anchor is an error (AnchorFileError), not something to skip."""
    strict = path is None
    path = anchor_path() if path is None else Path(path)
    if not path.exists():
        return []
    anchors = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = text.strip()
        if not text:
            continue
        match = _ANCHOR_LINE.fullmatch(text)
        at = match["at"] if match else ""
        if match is None:
            match = _LOG_LINE.search(text)
        if match is None and not strict and "audit anchor" not in text:
            continue
        ids = _parse_ids(match["ids"]) if match is not None and match["ids"] else None
        if match is None or (match["ids"] and ids is None):
            raise AnchorFileError(f"line {number} of {path.name} is not an anchor line")
        anchors.append(Anchor(number, at, int(match["event"]), match["hash"], ids))
    return anchors


def read_anchor() -> tuple[int, str] | None:
    """The newest anchor: (event id, hash)."""
    anchors = read_anchors()
    return (anchors[-1].event_id, anchors[-1].hash) if anchors else None


@dataclass
class Verification:
    checked: int
    problem: str | None
    event_id: int | None = None  # the first event that no longer matches, where one can be named
    # Everything checks out, but the seals after this event have no anchor line yet (seal() writes it).
    unanchored_after: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(*, anchors: list[Anchor] | None = None) -> Verification:
    """Recompute the chain from the events and name the first broken link.

    Every anchor line ever written must still be reproduced: the seal at its event carries its
    hash, recomputed from the events, and the events it sealed are exactly those still sealed.
    A missing seal is a break, as are an edited, deleted or inserted event, seals that no longer
    follow each other, and seals with no anchor line at all. `anchors`: check against another
    copy of the anchor lines (read_anchors(path)) instead of the anchor file."""
    with _sealer_lock():
        return _verify(read_anchors if anchors is None else lambda: anchors)


def _verify(load_anchors) -> Verification:
    try:
        anchors = _in_order(load_anchors())
    except AnchorFileError as exc:
        return Verification(0, str(exc))
    anchor_at = {a.event_id: a for a in anchors}
    anchor_ids = [a.event_id for a in anchors]
    newest = anchors[-1].event_id if anchors else None

    def covering(event_id):  # the anchor line of the run that sealed (or would have sealed) this id
        i = bisect_left(anchor_ids, event_id)
        return anchors[i] if i < len(anchors) else None

    events = AuditEvent.objects.order_by("id").iterator(chunk_size=2000)
    seals = AuditSeal.objects.order_by("event_id").values_list("event_id", "prev_hash", "hash")
    seals = seals.iterator(chunk_size=2000)
    expected = _anchored_ids(anchors)
    event, sealed, anchor = next(events, None), next(seals, None), next(expected, None)
    prev, checked, last_sealed = GENESIS, 0, None
    while sealed is not None or anchor is not None:
        here = min(i for i in (event and event.pk, sealed and sealed[0], anchor and anchor[0]) if i is not None)
        has_event = event is not None and event.pk == here
        was_anchored = anchor[1] if anchor is not None and anchor[0] == here else None
        if sealed is None or sealed[0] != here:
            when = was_anchored.where if was_anchored is not None else ""
            if was_anchored is not None and has_event:
                problem = f"event {here} no longer matches: its seal is missing (it was sealed and {when})"
            elif was_anchored is not None:
                problem = f"event {here} is missing: it was sealed and {when}, and is gone from the database"
            else:
                problem = f"event {here} is not in the chain: inserted after sealing"
            return Verification(checked, problem, here)
        if not has_event:
            return Verification(checked, f"event {here} is missing: deleted after sealing", here)
        cover = covering(here)
        if was_anchored is None and cover is not None and cover.ids is not None:
            problem = f"event {here} is not in the chain: inserted after sealing (not among the events {cover.where})"
            return Verification(checked, problem, here)
        _, prev_hash, digest = sealed
        if prev_hash != prev:
            return Verification(checked, f"seal of event {here} does not follow the one before it", here)
        if chain(prev, event) != digest:
            return Verification(checked, f"event {here} was changed after sealing", here)
        if here in anchor_at and anchor_at[here].hash != digest:
            problem = (
                f"the chain does not match the anchor at event {here} ({anchor_at[here].where}): an event up to it"
                " was changed, deleted or inserted and the seals rewritten"
            )
            return Verification(checked, problem, here)
        prev, checked, last_sealed = digest, checked + 1, here
        event, sealed = next(events, None), next(seals, None)
        if was_anchored is not None:
            anchor = next(expected, None)
    if event is not None and newest is not None and event.pk <= newest:
        return Verification(checked, f"event {event.pk} is not in the chain: inserted after sealing", event.pk)
    if last_sealed is not None and newest is None:
        problem = f"{checked} events are sealed but there is no anchor line: the anchor file is missing or empty"
        return Verification(checked, problem)
    if last_sealed is not None and last_sealed > newest:
        problem = (
            f"the seals after event {newest} are not anchored: the anchor file ends there (a failed write, or lost"
            " lines)"
        )
        return Verification(checked, problem, unanchored_after=newest)
    return Verification(checked, None)


def _anchored_ids(anchors):
    """Every event id the anchor lines say was sealed, in order, with its line. (Lines of old
    versions name only their newest event.)"""
    for a in anchors:
        for lo, hi in a.ids or ((a.event_id, a.event_id),):
            for i in range(lo, hi + 1):
                yield i, a


def check_seals() -> Verification:
    """The sealer's check, every minute: the stored seals against every anchor line, without
    recomputing the events (that is `verify()`'s job, hourly and on demand): no anchored seal is
    missing or rewritten, none was added among them, each follows the one before, and the seals
    after the newest anchor line (if its write failed) check out against their events.
    A superuser cannot make the sealer build over a changed history: re-sealing needs the seals
    from the change on to be gone or rewritten, and that is what this sees."""
    try:
        anchors = _in_order(read_anchors())
    except AnchorFileError as exc:
        return Verification(0, str(exc))
    seals = AuditSeal.objects.order_by("event_id").values_list("event_id", "prev_hash", "hash")
    if not anchors:
        if seals.exists():
            return Verification(0, "events are sealed but there is no anchor line: the anchor file is missing or empty")
        return Verification(0, None)
    newest = anchors[-1]
    anchor_at = {a.event_id: a for a in anchors}
    anchor_ids = [a.event_id for a in anchors]
    expected = _anchored_ids(anchors)
    anchor = next(expected, None)
    prev, checked = GENESIS, 0

    def seal_missing(event_id, line):
        problem = f"event {event_id}: its seal is missing (it was sealed and {line.where})"
        return Verification(checked, problem, event_id)

    for event_id, prev_hash, digest in seals.filter(event_id__lte=newest.event_id).iterator(chunk_size=5000):
        if anchor is not None and anchor[0] < event_id:
            return seal_missing(*anchor)
        if (anchor is None or anchor[0] != event_id) and anchors[bisect_left(anchor_ids, event_id)].ids is not None:
            return Verification(checked, f"event {event_id} is not in the chain: its seal was added after sealing")
        if prev_hash != prev:
            return Verification(checked, f"seal of event {event_id} does not follow the one before it", event_id)
        if event_id in anchor_at and anchor_at[event_id].hash != digest:
            problem = f"the chain does not match the anchor at event {event_id} ({anchor_at[event_id].where})"
            return Verification(checked, problem, event_id)
        prev, checked = digest, checked + 1
        if anchor is not None and anchor[0] == event_id:
            anchor = next(expected, None)
    if anchor is not None:
        return seal_missing(*anchor)
    # Seals after the newest anchor line: sealed, but the line was never written. Recompute them.
    tail = list(seals.filter(event_id__gt=newest.event_id))
    if not tail:
        return Verification(checked, None)
    events = {e.pk: e for e in AuditEvent.objects.filter(id__gt=newest.event_id, id__lte=tail[-1][0])}
    for event_id, prev_hash, digest in tail:
        event = events.pop(event_id, None)
        if event is None:
            return Verification(checked, f"event {event_id} is missing: deleted after sealing", event_id)
        if prev_hash != prev or chain(prev, event) != digest:
            return Verification(checked, f"event {event_id} was changed after sealing", event_id)
        prev, checked = digest, checked + 1
    if events:
        first = min(events)
        return Verification(checked, f"event {first} is not in the chain: inserted after sealing", first)
    problem = f"the seals after event {newest.event_id} are not anchored: the anchor file ends there"
    return Verification(checked, problem, unanchored_after=newest.event_id)


def _in_order(anchors: list[Anchor]) -> list[Anchor]:
    """Anchor lines move forward: each names a later event than the one before, and the ids it
    sealed lie after that one. A line repeated (a log shipped twice) counts once."""
    kept: list[Anchor] = []
    for a in anchors:
        before = kept[-1] if kept else None
        if before is not None and (a.event_id, a.hash) == (before.event_id, before.hash):
            continue
        if before is not None and a.event_id <= before.event_id:
            raise AnchorFileError(f"anchor line {a.line} goes back to event {a.event_id} (after {before.event_id})")
        after_before = before is None or a.ids is None or a.ids[0][0] > before.event_id
        if a.ids is not None and (a.ids[-1][1] != a.event_id or not after_before):
            raise AnchorFileError(f"anchor line {a.line} lists events that do not fit between its neighbours")
        kept.append(a)
    return kept
