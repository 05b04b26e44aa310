"""The audit trail: record events, seal them into a hash chain, verify the chain.

- `record()` writes one AuditEvent (the app's view of who did what).
- `AuditMiddleware` records every read of case data (a view, a download, a refusal).
- Database triggers (accounts/audit_triggers.py) record every row change of the sensitive tables,
  bulk and raw SQL included, and make the audit tables append-only on PostgreSQL.
- `seal()` (Celery beat, every minute) chains events in id order:
  hash = sha256(previous hash + canonical event), and appends the newest hash to an anchor file
  outside the database. A database superuser can bypass the triggers; the chain checked against
  the anchor still shows an edited, deleted or inserted row (`manage.py verify_audit`).
"""

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import AuditAction, AuditEvent, AuditSeal

log = logging.getLogger("policyhub.audit")

GENESIS = "0" * 64
SEAL_LOCK = 7243001  # pg_advisory_xact_lock key: one sealer at a time
SEAL_MARGIN = timedelta(seconds=60)  # leave in-flight transactions time to commit before sealing


def client_ip(request) -> str | None:
    """The client's address as django-axes and the sign-in limiter see it: one function decides
    it (accounts.security.client_ip, which honours TRUSTED_PROXY_COUNT), so the audit trail never
    names the proxy where the lockout records name the client."""
    from .security import client_ip as decide  # here, not at the top: security imports django-axes

    return decide(request) or None


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
    """Append one event. Never put report content or names in `detail`: references and ids only."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        object_type=object_type,
        object_id=str(object_id or ""),
        object_ref=object_ref,
        school_id=school_id,
        path=(request.path[:300] if request is not None else ""),
        ip=client_ip(request) if request is not None else None,
        detail=detail or {},
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


def seal(*, now=None, margin: timedelta = SEAL_MARGIN, batch: int = 5000) -> int:
    """Chain the events not sealed yet (older than `margin`), then write the newest hash outside
    the database: a line in the anchor file and a log line. Returns how many were sealed."""
    now = now or timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK])
        last = AuditSeal.objects.order_by("-event_id").first()
        prev = last.hash if last else GENESIS
        events = list(
            AuditEvent.objects.filter(id__gt=last.event_id if last else 0, at__lte=now - margin).order_by("id")[:batch]
        )
        seals = []
        for event in events:
            digest = chain(prev, event)
            seals.append(AuditSeal(event_id=event.pk, prev_hash=prev, hash=digest, sealed_at=now))
            prev = digest
        AuditSeal.objects.bulk_create(seals)
    if seals:
        write_anchor(seals[-1].event_id, seals[-1].hash, now)
    return len(seals)


def write_anchor(event_id: int, digest: str, now) -> None:
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"{now.isoformat()} {event_id} {digest}\n")
    log.info("audit anchor event=%s hash=%s", event_id, digest)


def read_anchor() -> tuple[int, str] | None:
    path = anchor_path()
    if not path.exists():
        return None
    lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        return None
    _, event_id, digest = lines[-1]
    return int(event_id), digest


@dataclass
class Verification:
    checked: int
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify() -> Verification:
    """Recompute the chain; name the first broken link. Checks deletions, edits, insertions into
    the sealed range, and the newest seal against the anchor kept outside the database."""
    prev = GENESIS
    checked = 0
    events = AuditEvent.objects.order_by("id")
    seals = AuditSeal.objects.order_by("event_id").values_list("event_id", "prev_hash", "hash")
    event_iter = events.iterator(chunk_size=2000)
    pending = next(event_iter, None)
    for event_id, prev_hash, digest in seals.iterator(chunk_size=2000):
        if pending is not None and pending.pk < event_id:
            return Verification(checked, f"event {pending.pk} is not in the chain: inserted after sealing")
        if pending is None or pending.pk != event_id:
            return Verification(checked, f"event {event_id} is missing: deleted after sealing")
        if prev_hash != prev:
            return Verification(checked, f"seal of event {event_id} does not follow the one before it")
        if chain(prev, pending) != digest:
            return Verification(checked, f"event {event_id} was changed after sealing")
        prev, checked = digest, checked + 1
        pending = next(event_iter, None)
    anchor = read_anchor()
    if anchor is not None:
        anchor_id, anchor_hash = anchor
        seal_hash = AuditSeal.objects.filter(event_id=anchor_id).values_list("hash", flat=True).first()
        if seal_hash != anchor_hash:
            return Verification(checked, f"the chain does not match the anchor at event {anchor_id}")
    return Verification(checked, None)


# --- Reads of case data: recorded by middleware, so no view can forget -----------------------------

AUDITED_NAMESPACES = {"incidents"}

# The case an evidence file belongs to, by the file's id (None if there is no such file). Registered
# by the incidents app in its AppConfig.ready(): accounts is the base of the house and imports
# nothing from the apps above it, so they hand it what it needs to know about their objects.
_case_of_evidence: Callable[[int], int | None] | None = None


def register_evidence_case(lookup: Callable[[int], int | None]) -> None:
    global _case_of_evidence
    _case_of_evidence = lookup


class AuditMiddleware:
    """Record every request for case data: a view or download when it succeeds, a refusal when
    the object was not found or not allowed (a refused read also gets a log line)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is None or match.namespace not in AUDITED_NAMESPACES or not request.user.is_authenticated:
            return response
        if request.method not in ("GET", "HEAD") and response.status_code not in (403, 404):
            return response  # changes are recorded by the services and the database triggers
        object_type, object_id, detail = _audited_object(match)
        if response.status_code in (403, 404):
            action = AuditAction.REFUSED
            log.warning("refused %s %s for user %s", request.method, match.view_name, request.user.pk)
        elif response.status_code == 200:
            action = AuditAction.DOWNLOAD if match.url_name.startswith("evidence_") else AuditAction.VIEW
        else:
            return response
        school = request.ctx.school if hasattr(request, "ctx") else None
        record(
            action,
            request=request,
            object_type=object_type,
            object_id=object_id,
            school_id=school.pk if school else None,
            detail={**detail, "view": match.view_name, "status": response.status_code},
        )
        return response


def _audited_object(match) -> tuple[str, str, dict]:
    """(type, id, extra detail) of the object a case URL is about. Evidence events also name their
    case, so a case's access history includes downloads of its files."""
    if match.url_name.startswith("evidence_") and "pk" in match.kwargs:
        # Not registered is a wiring mistake, never a reason to record a download without its case.
        if _case_of_evidence is None:
            raise RuntimeError("no evidence-to-case lookup registered (incidents.apps registers it)")
        incident_id = _case_of_evidence(match.kwargs["pk"])
        return "evidence", str(match.kwargs["pk"]), {"incident": incident_id}
    if "pk" in match.kwargs:
        return "incident", str(match.kwargs["pk"]), {}
    if "user_id" in match.kwargs:
        return "person", str(match.kwargs["user_id"]), {}
    return match.url_name, "", {}
