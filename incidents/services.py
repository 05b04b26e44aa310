"""Every write to a case. Keyword-only, typed, one transaction each (STYLE.md).

Each workflow service locks the incident row first (the order incidents/clocks.py locks in too),
checks the person's relation and the case's state against incidents/transitions.py, applies the
change with a conditional UPDATE on the state the caller read (so of two people acting on the same
copy only one succeeds), writes the timeline entry in the same transaction, and leaves email to
incidents/notify.py, which sends after commit. Logs carry references and ids, never content.
"""

import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import record_case_change
from accounts.models import REPORTING_ROLES, Membership, Role, School, User
from policyhub.models import Clause, PolicyVersion

from . import allegations, clocks, evidence, references
from .deadlines import LONDON
from .errors import Invalid, NotAllowed, Stale
from .models import (
    DSL_CATEGORIES,
    AllegationOutcome,
    Category,
    DeadlineKind,
    Evidence,
    GovernorReview,
    Incident,
    Involved,
    Outcome,
    Platform,
    Referral,
    ReferralKind,
    ReviewDecision,
    Route,
    Severity,
    Status,
    TimelineEntry,
    TimelineKind,
)
from .notify import notify
from .transitions import ReviewPanel, Transition, check, review_panel

log = logging.getLogger(__name__)

STAFF_ROLES = (Role.STAFF, Role.HEAD, Role.DSL)


# --- Helpers -------------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _lock(incident: Incident) -> None:
    """Lock the row (PostgreSQL) without re-reading it: the caller's copy is what the conditional
    update compares against, so a stale copy loses instead of silently acting on newer data."""
    list(Incident.objects.select_for_update().filter(pk=incident.pk).values_list("pk", flat=True))


def _people(school_id: int, *roles: str, exclude: Iterable[int | None] = ()) -> list:
    skip = {pk for pk in exclude if pk}
    people = User.objects.filter(is_active=True, memberships__school_id=school_id, memberships__role__in=roles)
    return [p for p in people.distinct().order_by("pk") if p.pk not in skip]


def _timeline(incident: Incident, actor, kind: str, *, note: str = "", internal: bool = True, **extra) -> None:
    TimelineEntry.objects.create(incident=incident, actor=actor, kind=kind, note=note, internal=internal, **extra)


def _move(incident: Incident, t: Transition, actor, now: datetime, *, note: str = "", internal=True, **changes):
    """Apply a transition with a conditional UPDATE; refuse if the case changed meanwhile."""
    old = incident.status
    target = t.target or old
    won = Incident.objects.filter(pk=incident.pk, status=old, updated_at=incident.updated_at).update(
        status=target, updated_at=now, **changes
    )
    if won != 1:
        current = Incident.objects.filter(pk=incident.pk).values_list("status", flat=True).first()
        label = Status(current).label if current else "gone"
        raise Stale(
            f"{incident.reference} changed while you were looking at it (it is now “{label}”). "
            "Nothing was changed: check the case and try again."
        )
    for field, value in changes.items():
        setattr(incident, field, value)
    incident.status, incident.updated_at = target, now
    if t.target and t.target != old:
        _timeline(
            incident,
            actor,
            TimelineKind.TRANSITION,
            note=note,
            internal=internal,
            from_status=old,
            to_status=target,
            data={"transition": t.name},
        )
    log.info("Incident %s: %s by user %s (%s -> %s)", incident.reference, t.name, actor.pk, old, target)


def _require(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid(f"Please give {what}.")
    return text


def _choice(value: str, choices, what: str, *, blank=False) -> str:
    if blank and not value:
        return ""
    if value not in choices.values:
        raise Invalid(f"Please choose {what} from the list.")
    return value


# --- Reporting -----------------------------------------------------------------------------------


def incident_date(incident: Incident) -> date:
    """The day the incident happened (or was seen): the policy version in force then applies."""
    return (incident.happened_at or incident.seen_at).astimezone(LONDON).date()


def route_owner(*, school: School, subject) -> tuple[object | None, bool]:
    """(owner, subject_is_head): the head, or the chair when the subject holds the head role.
    A chair who is also a head or DSL of the school is never the owner of a case about a head."""
    subject_is_head = bool(subject and Membership.objects.filter(user=subject, school=school, role=Role.HEAD).exists())
    if subject_is_head:
        insiders = _people(school.pk, Role.HEAD, Role.DSL)
        candidates = _people(school.pk, Role.CHAIR, exclude=[subject.pk, *(p.pk for p in insiders)])
    else:
        candidates = _people(school.pk, Role.HEAD, exclude=[subject.pk if subject else None])
    return (candidates[0] if candidates else None), subject_is_head


def _allocate(*, school: School, fields: dict) -> Incident:
    """Create the incident with a fresh random reference (incidents/references.py). Two cases may
    draw the same one (about one in 34 billion per pair at a school); the unique constraint refuses
    the second, which draws again."""
    for _attempt in range(20):
        reference = references.new_reference(school.code)
        try:
            with transaction.atomic():
                return Incident.objects.create(school=school, reference=reference, **fields)
        except IntegrityError:
            if not Incident.objects.filter(reference=reference).exists():
                raise  # some other constraint: not a collision of references
    raise IntegrityError(f"Could not allocate a reference at {school.code} after 20 attempts")


def incident_report(
    *,
    reporter,
    school: School,
    category: str,
    platform: str,
    description: str,
    seen_at: datetime,
    involved: str,
    child_at_risk: bool,
    links: str = "",
    happened_at: datetime | None = None,
    subject=None,
    involved_detail: str = "",
    files: Sequence = (),
    captured_at: datetime | None = None,
    captured_url: str = "",
    now: datetime | None = None,
) -> Incident:
    """A member of staff reports a concern. Routes it, starts the response clock, alerts people."""
    now = _now(now)
    if not Membership.objects.filter(user=reporter, school=school, role__in=REPORTING_ROLES).exists():
        raise NotAllowed("Only people the school's policy covers can report a concern there.")
    _choice(category, Category, "what the concern is about")
    _choice(platform, Platform, "where it was posted")
    _choice(involved, Involved, "who is involved")
    description = _require(description, "a description of what you saw")
    if involved == Involved.STAFF:
        if subject is None:
            raise Invalid("Please choose the member of staff from the list.")
        if subject.pk == reporter.pk:
            raise Invalid("You cannot choose yourself as the member of staff the concern is about.")
        if not Membership.objects.filter(user=subject, school=school, role__in=STAFF_ROLES).exists():
            raise Invalid("Please choose the member of staff from the list.")
    elif subject is not None:
        raise Invalid("A member of staff can only be chosen when the concern is about staff.")
    if len(files) > evidence.MAX_FILES:
        raise Invalid(f"Please attach at most {evidence.MAX_FILES} files to one report.")
    cleaned = evidence.clean_all(files)  # before any write: a bad file changes nothing

    owner, subject_is_head = route_owner(school=school, subject=subject)
    needs_dsl = category in DSL_CATEGORIES or child_at_risk
    dsl = None
    if needs_dsl and not subject_is_head:  # a case about the head is the chair's alone (KCSIE part 4)
        dsls = _people(school.pk, Role.DSL, exclude=[subject.pk if subject else None])
        dsl = dsls[0] if dsls else None
    stored: list[str] = []
    try:
        with transaction.atomic():
            incident = _allocate(
                school=school,
                fields={
                    "reporter": reporter,
                    "category": category,
                    "platform": platform,
                    "links": (links or "").strip(),
                    "happened_at": happened_at,
                    "seen_at": seen_at,
                    "involved": involved,
                    "subject": subject,
                    "involved_detail": (involved_detail or "").strip(),
                    "description": description,
                    "child_at_risk": child_at_risk,
                    "owner": owner,
                    "dsl": dsl,
                    "subject_is_head": subject_is_head,
                    "received_at": now,
                },
            )
            _timeline(incident, reporter, TimelineKind.REPORTED, note="Report received.", internal=False)
            _store_evidence(incident, reporter, cleaned, captured_at, captured_url, stored)
            clocks.clocks_start_response(incident=incident, now=now)
            _alert_on_report(incident, reporter)
    except BaseException:
        evidence.discard(stored)
        raise
    log.info("Incident %s reported by user %s with %s file(s)", incident.reference, reporter.pk, len(cleaned))
    return incident


def _alert_on_report(incident: Incident, reporter) -> None:
    skip = [incident.subject_id, reporter.pk]
    if incident.subject_is_head:
        # Nobody but the chair learns that a case about a head exists: not the heads, not the DSL.
        skip += [p.pk for p in _people(incident.school_id, Role.HEAD, Role.DSL)]
    owner_role = Role.CHAIR if incident.subject_is_head else Role.HEAD
    for person in _people(incident.school_id, owner_role, exclude=skip):
        notify(
            recipient=person,
            kind="report_received",
            key=f"incident:{incident.pk}:received:{person.pk}",
            incident=incident,
        )
    if incident.needs_dsl and not incident.subject_is_head:
        for person in _people(incident.school_id, Role.DSL, exclude=skip):
            notify(recipient=person, kind="dsl_alert", key=f"incident:{incident.pk}:dsl:{person.pk}", incident=incident)


# --- Evidence ------------------------------------------------------------------------------------


def _store_evidence(incident, actor, cleaned, captured_at, captured_url, stored: list[str]) -> list[Evidence]:
    rows = []
    for clean in cleaned:
        name = evidence.write_private(clean.data, clean.extension)
        stored.append(name)
        preview = ""
        if clean.preview:
            preview = evidence.write_private(clean.preview, "jpg")
            stored.append(preview)
        row = Evidence.objects.create(
            incident=incident,
            uploaded_by=actor,
            original_name=clean.original_name,
            stored_name=name,
            preview_name=preview,
            content_type=clean.content_type,
            size=len(clean.data),
            sha256=clean.sha256,
            captured_at=captured_at,
            captured_url=captured_url or "",
        )
        _timeline(
            incident,
            actor,
            TimelineKind.EVIDENCE_ADDED,
            note=f"Evidence added: {clean.original_name}",
            internal=actor.pk != incident.reporter_id,
            data={"evidence": row.pk, "sha256": clean.sha256, "original_sha256": clean.original_sha256},
        )
        rows.append(row)
    return rows


def evidence_add(
    *,
    incident: Incident,
    actor,
    files: Sequence,
    captured_at: datetime | None = None,
    captured_url: str = "",
    now: datetime | None = None,
) -> list[Evidence]:
    if not files:
        raise Invalid("Please choose at least one file.")
    already = incident.evidence.count()
    if already + len(files) > evidence.MAX_FILES:
        raise Invalid(f"A report can carry at most {evidence.MAX_FILES} files; this one has {already} already.")
    cleaned = evidence.clean_all(files)
    stored: list[str] = []
    try:
        with transaction.atomic():
            _lock(incident)
            check(actor, incident, "add_evidence")
            rows = _store_evidence(incident, actor, cleaned, captured_at, captured_url, stored)
    except BaseException:
        evidence.discard(stored)
        raise
    log.info("Incident %s: %s evidence file(s) added by user %s", incident.reference, len(rows), actor.pk)
    return rows


def evidence_withdraw(*, item: Evidence, actor, reason: str, now: datetime | None = None) -> Evidence:
    """Mark a wrong file withdrawn. The file and its row stay: evidence is never deleted here."""
    now = _now(now)
    reason = _require(reason, "the reason for withdrawing the file")
    incident = item.incident
    with transaction.atomic():
        _lock(incident)
        check(actor, incident, "withdraw_evidence")
        won = Evidence.objects.filter(pk=item.pk, withdrawn_at__isnull=True).update(
            withdrawn_at=now, withdrawn_by=actor, withdrawn_reason=reason
        )
        if won != 1:
            raise Stale("That file has already been withdrawn. Nothing was changed.")
        _timeline(
            incident,
            actor,
            TimelineKind.EVIDENCE_WITHDRAWN,
            note=f"Evidence withdrawn: {reason}",
            data={"evidence": item.pk},
        )
    item.withdrawn_at, item.withdrawn_by, item.withdrawn_reason = now, actor, reason
    log.info("Incident %s: evidence %s withdrawn by user %s", incident.reference, item.pk, actor.pk)
    return item


# --- The workflow --------------------------------------------------------------------------------


def incident_acknowledge(*, incident: Incident, actor, now: datetime | None = None) -> Incident:
    """The first response: stops the response clock and tells the reporter who owns the case."""
    now = _now(now)
    with transaction.atomic():
        _lock(incident)
        t = check(actor, incident, "acknowledge")
        owner = "the chair of governors" if incident.is_about_a_head() else "the head teacher"
        _move(
            incident,
            t,
            actor,
            now,
            note=f"Received and acknowledged. The case is owned by {owner}.",
            internal=False,
            acknowledged_at=now,
            acknowledged_by=actor,
        )
        clocks.clocks_stop_response(incident=incident, now=now)
        if incident.reporter_id != actor.pk:
            notify(
                recipient=incident.reporter,
                kind="acknowledged",
                key=f"incident:{incident.pk}:acknowledged",
                incident=incident,
            )
    return incident


def incident_triage(
    *,
    incident: Incident,
    actor,
    severity: str,
    clauses: Iterable[Clause] = (),
    route: str = "",
    harm_harmed_child: bool | None = None,
    harm_offence: bool | None = None,
    harm_risk_to_children: bool | None = None,
    harm_unsuitable: bool | None = None,
    harm_reason: str = "",
    now: datetime | None = None,
) -> Incident:
    """Severity, the clauses breached (from the version in force on the incident date), the harm
    threshold for concerns about an adult, and the route that follows from them."""
    now = _now(now)
    _choice(severity, Severity, "a severity")
    answers = [harm_harmed_child, harm_offence, harm_risk_to_children, harm_unsuitable]
    about_adult = incident.involved == Involved.STAFF
    if about_adult:
        if any(a is None for a in answers):
            raise Invalid("Please answer all four harm-threshold questions.")
        harm_reason = _require(harm_reason, "the reason for the harm-threshold answers")
        if any(answers):
            route = Route.ALLEGATION
        elif route not in (Route.LOW_LEVEL, Route.BREACH, Route.NO_BREACH):
            raise Invalid("Please choose the route: low-level concern, policy breach or no breach.")
    else:
        if any(a is not None for a in answers):
            raise Invalid("The harm-threshold questions apply only to concerns about a member of staff.")
        if route not in (Route.BREACH, Route.NO_BREACH):
            raise Invalid("Please choose the route: policy breach or no breach.")
    version = PolicyVersion.objects.in_force_on(incident.school, incident_date(incident))
    clauses = list(clauses)
    if clauses and (version is None or any(c.version_id != version.pk for c in clauses)):
        raise Invalid("Clauses must come from the policy version in force on the date of the incident.")
    with transaction.atomic():
        _lock(incident)
        t = check(actor, incident, "triage")
        previous_route = incident.route
        _move(
            incident,
            t,
            actor,
            now,
            severity=severity,
            route=route,
            policy_version=version,
            harm_harmed_child=harm_harmed_child,
            harm_offence=harm_offence,
            harm_risk_to_children=harm_risk_to_children,
            harm_unsuitable=harm_unsuitable,
            harm_reason=harm_reason.strip(),
        )
        incident.clauses.set(clauses)
        _timeline(
            incident,
            actor,
            TimelineKind.TRIAGED,
            note=f"Triaged: {Severity(severity).label} severity, {Route(route).label}.",
            data={
                "severity": severity,
                "route": route,
                "clauses": [c.ref for c in clauses],
                "policy_version": version.pk if version else None,
                "harm": answers,
            },
        )
        if route == Route.ALLEGATION and previous_route != Route.ALLEGATION:
            clocks.clocks_start_lado(incident=incident, now=now)
        if previous_route == Route.ALLEGATION and route != Route.ALLEGATION:
            allegations.stop_for_route(incident=incident, actor=actor, route=route, now=now)
    return incident


def incident_start_investigation(*, incident: Incident, actor, now: datetime | None = None) -> Incident:
    now = _now(now)
    with transaction.atomic():
        _lock(incident)
        _move(incident, check(actor, incident, "start_investigation"), actor, now, internal=False)
    return incident


def incident_propose_outcome(
    *,
    incident: Incident,
    actor,
    outcome: str,
    reason: str,
    allegation_outcome: str = "",
    now: datetime | None = None,
) -> Incident:
    now = _now(now)
    _choice(outcome, Outcome, "an outcome")
    reason = _require(reason, "the reasons for the outcome")
    if incident.route == Route.ALLEGATION:
        _choice(allegation_outcome, AllegationOutcome, "the allegation outcome (substantiated, false, ...)")
    elif allegation_outcome:
        raise Invalid("The statutory allegation outcomes apply only to cases on the allegation route.")
    with transaction.atomic():
        _lock(incident)
        t = check(actor, incident, "propose_outcome")
        _move(
            incident,
            t,
            actor,
            now,
            note=f"Outcome proposed: {Outcome(outcome).label}.",
            outcome=outcome,
            outcome_reason=reason,
            allegation_outcome=allegation_outcome,
        )
    return incident


def incident_close(*, incident: Incident, actor, note: str = "", now: datetime | None = None) -> Incident:
    """Close a case whose outcome is not a breach (no breach, advice and guidance)."""
    now = _now(now)
    with transaction.atomic():
        _lock(incident)
        _move(
            incident,
            check(actor, incident, "close"),
            actor,
            now,
            note=(note or "").strip() or "Closed.",
            internal=False,
        )
    return incident


def incident_refer_to_governors(*, incident: Incident, actor, summary: str, now: datetime | None = None) -> Incident:
    """A breach outcome goes to the board. Governors see the summary written here, not the report."""
    now = _now(now)
    summary = _require(summary, "a summary for the governors")
    with transaction.atomic():
        _lock(incident)
        t = check(actor, incident, "refer_to_governors")
        _move(incident, t, actor, now, note="Referred to the governors for review.", review_summary=summary)
        clocks.clocks_start_governor_review(incident=incident, now=now)
        panel = _sync_review_route(incident, actor, now)
        # Only those who may decide are told (a head who is a governor is not, nor the reporter).
        for person in panel.deciders:
            notify(
                recipient=person,
                kind="trust_review" if panel.by_trust else "governor_review",
                key=f"incident:{incident.pk}:review:{now.isoformat()}:{person.pk}",
                incident=incident,
            )
    return incident


def _sync_review_route(incident: Incident, actor, now: datetime) -> ReviewPanel:
    """Keep `review_by_trust` (which lets the trust admins open the review) in step with who may
    decide. Called under the incident's lock by every change that can alter the panel."""
    panel = review_panel(incident)
    if incident.status != Status.GOVERNOR_REVIEW or panel.by_trust == incident.review_by_trust:
        return panel
    Incident.objects.filter(pk=incident.pk).update(review_by_trust=panel.by_trust, updated_at=now)
    incident.review_by_trust, incident.updated_at = panel.by_trust, now
    if panel.by_trust:
        note = "No governor without a conflict remains: the review is decided by the trust."
    else:
        note = "A governor without a conflict can decide the review again: it is back with the governors."
    _timeline(incident, actor, TimelineKind.ROUTED, note=note, data={"review_by_trust": panel.by_trust})
    record_case_change(actor, incident, review_by_trust=panel.by_trust)
    log.info("Incident %s: review by trust %s", incident.reference, panel.by_trust)
    return panel


def incident_governor_decide(
    *, incident: Incident, actor, decision: str, comment: str = "", now: datetime | None = None
) -> GovernorReview:
    """Governors uphold the outcome (closed) or refer it back with a comment (investigating)."""
    now = _now(now)
    _choice(decision, ReviewDecision, "uphold or refer back")
    comment = (comment or "").strip()
    if decision == ReviewDecision.REFER_BACK and not comment:
        raise Invalid("Please say why the case is referred back.")
    with transaction.atomic():
        _lock(incident)
        t = check(actor, incident, decision)  # DECIDER: review_panel, read now under the lock
        _move(incident, t, actor, now, note=f"Governors: {ReviewDecision(decision).label}.")
        review = GovernorReview.objects.create(incident=incident, decision=decision, comment=comment, decided_by=actor)
        _timeline(incident, actor, TimelineKind.REVIEW, note=comment, data={"review": review.pk, "decision": decision})
        clocks.clocks_stop(incident=incident, kind=DeadlineKind.GOVERNOR_REVIEW, now=now)
        owners = [incident.owner] if incident.owner_id else []
        for person in owners:
            if person.pk not in (incident.subject_id, actor.pk):
                notify(
                    recipient=person,
                    kind="review_decided",
                    key=f"incident:{incident.pk}:decided:{review.pk}:{person.pk}",
                    incident=incident,
                )
    return review


def incident_reopen(*, incident: Incident, actor, reason: str, now: datetime | None = None) -> Incident:
    now = _now(now)
    reason = _require(reason, "the reason for reopening the case")
    with transaction.atomic():
        _lock(incident)
        _move(incident, check(actor, incident, "reopen"), actor, now, note=f"Reopened: {reason}")
        # A closed case keeps who decided it; open again, it is routed as a role change would.
        _route_to_chair_if_about_head(incident, actor, now)
    return incident


def incident_declare_conflict(*, incident: Incident, actor, reason: str, now: datetime | None = None) -> TimelineEntry:
    """A governor (or a trust admin deciding instead) declares a conflict of interest and is then
    excluded from deciding this review. On the timeline (the owners read the reason) and audited;
    if no governor without a conflict remains, the review goes to the trust."""
    now = _now(now)
    reason = _require(reason, "the reason for the conflict of interest")
    if len(reason) > 500:
        raise Invalid("Please keep the reason under 500 characters.")
    with transaction.atomic():
        _lock(incident)
        check(actor, incident, "declare_conflict")
        if TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.CONFLICT, actor=actor).exists():
            raise Stale("You have already declared a conflict of interest on this case. Nothing was changed.")
        # Conditional on the copy read: a decision taken on it meanwhile wins, and this one says so.
        won = Incident.objects.filter(
            pk=incident.pk, status=Status.GOVERNOR_REVIEW, updated_at=incident.updated_at
        ).update(updated_at=now)
        if won != 1:
            raise Stale(
                f"{incident.reference} changed while you were looking at it. Nothing was changed: "
                "check the case and try again."
            )
        incident.updated_at = now
        entry = TimelineEntry.objects.create(
            incident=incident, actor=actor, kind=TimelineKind.CONFLICT, note=reason, internal=True
        )
        record_case_change(actor, incident, conflict_declared=actor.pk)
        panel = _sync_review_route(incident, actor, now)
        if panel.by_trust:
            for person in panel.deciders:
                notify(
                    recipient=person,
                    kind="trust_review",
                    key=f"incident:{incident.pk}:trust_review:{person.pk}",
                    incident=incident,
                )
    log.info("Incident %s: conflict of interest declared by user %s", incident.reference, actor.pk)
    return entry


# --- Role changes --------------------------------------------------------------------------------

REROUTED_NOTE = "Routed to the chair of governors because the subject now holds the head role."


def _route_to_chair_if_about_head(incident: Incident, actor, now: datetime) -> bool:
    """An open case whose subject now holds the head role goes to the chair (under the caller's
    lock): owner and flag set, the DSL taken off, a content-free timeline entry, an audit event,
    the chair told. True if it moved; once with the chair it stays there."""
    if incident.subject_is_head or incident.status == Status.CLOSED or not incident.is_about_a_head():
        return False
    school = School.objects.get(pk=incident.school_id)
    owner, _ = route_owner(school=school, subject=incident.subject)
    won = Incident.objects.filter(pk=incident.pk, subject_is_head=False).update(
        subject_is_head=True, owner=owner, dsl=None, updated_at=now
    )
    if won != 1:
        return False
    incident.subject_is_head, incident.owner, incident.dsl, incident.updated_at = True, owner, None, now
    _timeline(
        incident,
        actor,
        TimelineKind.ROUTED,
        note=REROUTED_NOTE,
        data={"rerouted": "chair", "owner": owner.pk if owner else None},
    )
    record_case_change(actor, incident, rerouted="chair", owner=owner.pk if owner else None)
    if owner is not None:
        notify(
            recipient=owner, kind="case_rerouted", key=f"incident:{incident.pk}:rerouted:{owner.pk}", incident=incident
        )
    # Never why: the reason would say who the subject is (a head of the school).
    log.info("Incident %s: routed to the chair", incident.reference)
    return True


def incident_reroute_for_roles(*, user, school_id: int, actor=None, now: datetime | None = None) -> list[str]:
    """`user`'s roles at the school changed (a Membership created, changed or ended): re-route the
    school's open cases about them, and re-check who decides the reviews in progress there (a new
    head is out of every review; a governor who left leaves fewer). Returns the references moved."""
    now = _now(now)
    moved = []
    with transaction.atomic():
        about = Incident.objects.filter(school_id=school_id, subject=user).exclude(status=Status.CLOSED)
        reviews = Incident.objects.filter(school_id=school_id, status=Status.GOVERNOR_REVIEW)
        for pk in sorted(set(about.values_list("pk", flat=True)) | set(reviews.values_list("pk", flat=True))):
            incident = Incident.objects.select_for_update().get(pk=pk)
            if incident.subject_id == user.pk and _route_to_chair_if_about_head(incident, actor, now):
                moved.append(incident.reference)
            _sync_review_route(incident, actor, now)
    return moved


def incident_add_note(*, incident: Incident, actor, note: str, now: datetime | None = None) -> TimelineEntry:
    """An internal note on the timeline (never shown to the reporter). Notes are never edited:
    a correction is another note."""
    note = _require(note, "the note")
    with transaction.atomic():
        _lock(incident)
        check(actor, incident, "add_note")
        entry = TimelineEntry.objects.create(
            incident=incident, actor=actor, kind=TimelineKind.NOTE, note=note, internal=True
        )
    log.info("Incident %s: note added by user %s", incident.reference, actor.pk)
    return entry


def referral_record(
    *,
    incident: Incident,
    actor,
    kind: str,
    made_on: date,
    reference: str = "",
    note: str = "",
    now: datetime | None = None,
) -> Referral:
    """A referral made outside PolicyHub (LADO, police, ...), with its date and their reference."""
    now = _now(now)
    _choice(kind, ReferralKind, "who the case was referred to")
    if made_on is None:
        raise Invalid("Please give the date of the referral.")
    if made_on > now.astimezone(LONDON).date():
        raise Invalid("The referral date cannot be in the future.")
    with transaction.atomic():
        _lock(incident)
        check(actor, incident, "record_referral")
        referral = Referral.objects.create(
            incident=incident,
            kind=kind,
            made_on=made_on,
            reference=(reference or "").strip(),
            note=(note or "").strip(),
            recorded_by=actor,
        )
        _timeline(
            incident,
            actor,
            TimelineKind.REFERRAL,
            note=f"Referral recorded: {ReferralKind(kind).label}, {made_on:%d %b %Y}.",
            data={"referral": referral.pk},
        )
        if kind == ReferralKind.LADO:
            clocks.clocks_stop(incident=incident, kind=DeadlineKind.LADO, now=now)
    log.info("Incident %s: %s referral recorded by user %s", incident.reference, kind, actor.pk)
    return referral
