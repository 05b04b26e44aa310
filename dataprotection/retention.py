"""How long a case is kept, and the nightly job that deletes what is due (docs/specification.md §3.1 and 5).

The rules, in the order they are tried:

1. **Malicious or false allegation** (allegation outcome `malicious` or `false`): removed. Keeping
   a record of an allegation shown to be malicious or false harms the adult it names (KCSIE part
   4), so the case is due at the first nightly run after it is closed.
2. **Child protection**: safeguarding, Prevent and illegal-content cases, and any case whose
   reporter said a child was at risk, are kept 25 years from the report. Schools keep child
   protection records until the child's date of birth + 25 years; PolicyHub does not store pupils'
   dates of birth, and every pupil was born before the report was made, so 25 years from the report
   is never shorter than that rule (it errs on the side of keeping).
3. **Allegation** (the harm-threshold route): kept until the subject's normal pension age (the
   `subject_retirement_date` the owner may record) or 10 years from the allegation, whichever is
   longer.
4. **Everything else**: N years after the case was closed, N from the category's RetentionRule
   (Django admin) or RETENTION_DEFAULT_YEARS (6).

When rules 2 and 3 both apply, the later date wins. Years are added to the calendar date (29 Feb
plus a year is 1 Mar: never earlier). Dates from "the report" count from when it was received,
which is never before the incident itself. Only closed cases are ever due (a case is never due
before it was closed), and a case on legal hold is never deleted, whatever its date.

The sweep deletes each due case in its own transaction: the case and everything hanging off it
(evidence rows and, after commit, their files and previews; the timeline, which PostgreSQL lets
only this job delete; referrals, reviews, deadlines, notifications) and leaves one audit event that
names the case by id and reference only. It locks each case with SKIP LOCKED and re-checks it under
the lock, so two sweeps at once, or a legal hold placed meanwhile, never delete twice or wrongly.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from accounts.audit import record, record_case_change
from accounts.models import AuditAction, Membership, Role
from incidents import evidence
from incidents.deadlines import LONDON
from incidents.errors import Invalid, NotAllowed, Stale
from incidents.models import (
    DSL_CATEGORIES,
    AllegationOutcome,
    Evidence,
    Incident,
    Route,
    Status,
    TimelineEntry,
    TimelineKind,
)
from incidents.transitions import TRANSITIONS, case_roles

from .models import RetentionRule

log = logging.getLogger(__name__)

CHILD_PROTECTION_YEARS = 25
ALLEGATION_YEARS = 10
REMOVED_OUTCOMES = frozenset({AllegationOutcome.MALICIOUS, AllegationOutcome.FALSE})
# How far ahead the page looks: "what will be deleted next month".
LOOKAHEAD = timedelta(days=31)


class Rule:
    REMOVAL = "malicious_or_false_allegation"
    CHILD_PROTECTION = "child_protection"
    ALLEGATION = "allegation"
    CATEGORY = "category"
    DEFAULT = "default"


RULE_LABELS = {
    Rule.REMOVAL: "Malicious or false allegation: removed once closed",
    Rule.CHILD_PROTECTION: f"Child protection: {CHILD_PROTECTION_YEARS} years from the report",
    Rule.ALLEGATION: f"Allegation: pension age or {ALLEGATION_YEARS} years, whichever is longer",
    Rule.CATEGORY: "Category rule: years after closure",
    Rule.DEFAULT: "Default: years after closure",
}


@dataclass(frozen=True)
class Decision:
    """Which rule applies to a case and when it is due (None: not while it is open)."""

    rule: str
    due_at: datetime | None
    years: int | None = None

    @property
    def label(self) -> str:
        if self.rule in (Rule.CATEGORY, Rule.DEFAULT):
            kind = "Category rule" if self.rule == Rule.CATEGORY else "Default"
            return f"{kind}: {self.years} years after closure"
        return RULE_LABELS[self.rule]


@dataclass(frozen=True)
class Planned:
    incident: Incident
    closed_at: datetime | None
    decision: Decision

    @property
    def due_at(self) -> datetime | None:
        return self.decision.due_at


# --- The rules (pure) ----------------------------------------------------------------------------


def add_years(moment: datetime, years: int) -> datetime:
    """The same date and time `years` later; 29 February becomes 1 March (never earlier)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February into a common year
        return moment.replace(year=moment.year + years, month=3, day=1)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


def category_years() -> dict[str, int]:
    """The configured years per category (one query); categories missing use the default."""
    return dict(RetentionRule.objects.values_list("category", "years_after_closure"))


def default_years() -> int:
    return settings.RETENTION_DEFAULT_YEARS


def decide(
    incident: Incident, *, closed_at: datetime | None, years: Mapping[str, int], default: int | None = None
) -> Decision:
    """The rule for one case and the moment it becomes due. Pure: no queries.

    `closed_at` is when the case was last closed (None while it is open). A closed case is never due
    before it was closed, so the due moment is never earlier than `closed_at`.
    """
    default = default_years() if default is None else default
    if incident.allegation_outcome in REMOVED_OUTCOMES:
        return Decision(Rule.REMOVAL, closed_at)
    keep: list[Decision] = []
    if incident.category in DSL_CATEGORIES or incident.child_at_risk:
        keep.append(
            Decision(
                Rule.CHILD_PROTECTION,
                add_years(incident.received_at, CHILD_PROTECTION_YEARS),
                CHILD_PROTECTION_YEARS,
            )
        )
    if incident.route == Route.ALLEGATION:
        ten_years = add_years(incident.received_at, ALLEGATION_YEARS)
        retirement = start_of_day(incident.subject_retirement_date) if incident.subject_retirement_date else None
        keep.append(Decision(Rule.ALLEGATION, max(ten_years, retirement) if retirement else ten_years))
    if keep:
        chosen = max(keep, key=lambda d: d.due_at)
        due = max(chosen.due_at, closed_at) if closed_at else chosen.due_at
        return Decision(chosen.rule, due, chosen.years)
    if incident.category in years:
        n, rule = years[incident.category], Rule.CATEGORY
    else:
        n, rule = default, Rule.DEFAULT
    return Decision(rule, add_years(closed_at, n) if closed_at else None, n)


def is_due(incident: Incident, decision: Decision, now: datetime) -> bool:
    """Only closed cases are ever due, and never while on legal hold."""
    return (
        incident.status == Status.CLOSED
        and not incident.legal_hold
        and decision.due_at is not None
        and decision.due_at <= now
    )


# --- Reading the schedule ------------------------------------------------------------------------


def with_closed_at(queryset: QuerySet) -> QuerySet:
    """Annotate `closed_at`: the time of the case's latest move to closed."""
    closes = TimelineEntry.objects.filter(incident=OuterRef("pk"), to_status=Status.CLOSED).order_by("-at", "-pk")
    return queryset.annotate(closed_at=Subquery(closes.values("at")[:1]))


def _closed_at(incident: Incident) -> datetime | None:
    if incident.status != Status.CLOSED:
        return None
    # A closed case always has its closing entry; if one were ever missing, the last change to the
    # row is later than any real closing, so it can only keep the case longer.
    return incident.closed_at or incident.updated_at


SCHEDULE_FIELDS = (
    "id",
    "school_id",
    "reference",
    "category",
    "child_at_risk",
    "route",
    "allegation_outcome",
    "status",
    "legal_hold",
    "received_at",
    "updated_at",
    "subject_retirement_date",
    "subject_is_head",
)


def schedule(queryset: QuerySet, *, years: Mapping[str, int] | None = None) -> Iterable[Planned]:
    """Each closed case of `queryset` with its rule and due moment (two queries in all)."""
    years = category_years() if years is None else years
    default = default_years()
    cases = with_closed_at(queryset.filter(status=Status.CLOSED).only(*SCHEDULE_FIELDS))
    for incident in cases.iterator(chunk_size=2000):
        closed_at = _closed_at(incident)
        yield Planned(incident, closed_at, decide(incident, closed_at=closed_at, years=years, default=default))


def upcoming(queryset: QuerySet, *, now: datetime | None = None, within: timedelta = LOOKAHEAD) -> list[Planned]:
    """Closed cases that fall due before `now + within` (held ones included, to show them), soonest first."""
    until = (now or timezone.now()) + within
    due = [p for p in schedule(queryset) if p.due_at is not None and p.due_at <= until]
    return sorted(due, key=lambda p: (p.due_at, p.incident.reference))


def plan(queryset: QuerySet, pk: int) -> Planned | None:
    """One case of `queryset`, open or closed, with its rule (for the page's look-up)."""
    incident = with_closed_at(queryset.filter(pk=pk).only(*SCHEDULE_FIELDS)).first()
    if incident is None:
        return None
    closed_at = _closed_at(incident)
    return Planned(incident, closed_at, decide(incident, closed_at=closed_at, years=category_years()))


# --- The nightly sweep ---------------------------------------------------------------------------


def _allow_timeline_deletion() -> None:
    """On PostgreSQL a trigger refuses to delete timeline entries unless the transaction says it is
    the retention job (accounts/audit_triggers.py). SET LOCAL ends with this transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL policyhub.retention = 'on'")


def retention_delete(*, incident_id: int, now: datetime | None = None, years: Mapping[str, int] | None = None) -> str:
    """Delete one case if it is due; return its reference, or "" if it is not (or no longer) due.

    One transaction: lock the case (skipping it if another sweep or a person holds the lock: the
    next run will see it), re-check it under the lock, delete it and its rows, write the audit
    event. The files go after commit, so a rolled-back deletion never loses a file.
    """
    now = now or timezone.now()
    years = category_years() if years is None else years
    with transaction.atomic():
        locked = Incident.objects.select_for_update(skip_locked=True).filter(
            pk=incident_id, status=Status.CLOSED, legal_hold=False
        )
        # A case with reports merged into it is kept with them until they are split out
        # (docs/linked-reports.md): deleting it would orphan them (merged_into is PROTECT).
        locked = locked.exclude(pk__in=Incident.objects.filter(merged_into__isnull=False).values("merged_into"))
        incident = with_closed_at(locked.only(*SCHEDULE_FIELDS)).first()
        if incident is None:
            return ""
        closed_at = _closed_at(incident)
        decision = decide(incident, closed_at=closed_at, years=years)
        if not is_due(incident, decision, now):
            return ""
        files = [
            name
            for pair in Evidence.objects.filter(incident_id=incident.pk).values_list("stored_name", "preview_name")
            for name in pair
            if name
        ]
        _allow_timeline_deletion()
        deleted, _ = Incident.objects.filter(pk=incident.pk, legal_hold=False).delete()
        if not deleted:
            return ""
        record(
            AuditAction.DELETE,
            object_type="incident",
            object_id=incident.pk,
            object_ref=incident.reference,
            school_id=incident.school_id,
            detail={
                "by": "retention",
                "category": incident.category,
                "rule": decision.rule,
                "closed_on": closed_at.astimezone(LONDON).date().isoformat() if closed_at else None,
                "due_on": decision.due_at.astimezone(LONDON).date().isoformat(),
                "files": len(files),
            },
        )
        transaction.on_commit(partial(evidence.discard, files))
    log.info("Retention: deleted %s (%s rule) with %s file(s)", incident.reference, decision.rule, len(files))
    return incident.reference


def retention_sweep(*, now: datetime | None = None) -> list[str]:
    """Delete every case that is due and not on hold; return the references deleted."""
    now = now or timezone.now()
    years = category_years()
    due = [
        p.incident.pk
        for p in schedule(Incident.objects.filter(legal_hold=False), years=years)
        if is_due(p.incident, p.decision, now)
    ]
    deleted = []
    for pk in due:
        reference = retention_delete(incident_id=pk, now=now, years=years)
        if reference:
            deleted.append(reference)
    log.info("Retention sweep: %s case(s) due, %s deleted", len(due), len(deleted))
    return deleted


# --- Legal hold and the retirement date ------------------------------------------------------------


def may_hold(actor, incident: Incident, name: str = "place_legal_hold") -> bool:
    """A DPO of the case's school, or a head teacher there who may see the case."""
    roles = set(
        Membership.objects.filter(
            user=actor, user__is_active=True, school_id=incident.school_id, role__in=[Role.DPO, Role.HEAD]
        ).values_list("role", flat=True)
    )
    if Role.DPO in roles:
        return True
    # The head's side is the transitions table's row (a head who owns the case; never on a case about a head).
    return Role.HEAD in roles and bool(case_roles(actor, incident) & TRANSITIONS[name].roles)


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Please give the reason.")
    return reason


def _set_hold(*, incident: Incident, actor, reason: str, on: bool, now: datetime | None) -> Incident:
    now = now or timezone.now()
    reason = _require_reason(reason)
    if not may_hold(actor, incident, "place_legal_hold" if on else "release_legal_hold"):
        raise NotAllowed("Legal holds are placed and released by the data-protection officer or the head teacher.")
    with transaction.atomic():
        # A conditional update: of two people acting at once one wins; a sweep deleting the case
        # meanwhile holds its row lock, and then the case is gone.
        won = Incident.objects.filter(pk=incident.pk, legal_hold=not on).update(legal_hold=on, updated_at=now)
        if won != 1:
            if not Incident.objects.filter(pk=incident.pk).exists():
                raise Stale(f"{incident.reference} no longer exists. Nothing was changed.")
            state = "already on legal hold" if on else "not on legal hold"
            raise Stale(f"{incident.reference} is {state}. Nothing was changed.")
        TimelineEntry.objects.create(
            incident=incident,
            actor=actor,
            kind=TimelineKind.NOTE,
            note=f"Legal hold {'placed' if on else 'released'}: {reason}",
            internal=True,
            data={"legal_hold": "placed" if on else "released"},
        )
        # The reason stays on the case's timeline; the audit log names the case only.
        record_case_change(actor, incident, legal_hold="placed" if on else "released")
    incident.legal_hold, incident.updated_at = on, now
    log.info("Incident %s: legal hold %s by user %s", incident.reference, "placed" if on else "released", actor.pk)
    return incident


def legal_hold_place(*, incident: Incident, actor, reason: str, now: datetime | None = None) -> Incident:
    """Stop the case being deleted, whatever its date, until the hold is released."""
    return _set_hold(incident=incident, actor=actor, reason=reason, on=True, now=now)


def legal_hold_release(*, incident: Incident, actor, reason: str, now: datetime | None = None) -> Incident:
    """Let retention apply again: a case already past its date goes at the next nightly run."""
    return _set_hold(incident=incident, actor=actor, reason=reason, on=False, now=now)


def incident_set_retirement_date(
    *, incident: Incident, actor, retirement_date: date | None, now: datetime | None = None
) -> Incident:
    """The owner records (or clears) the subject's normal pension age, which can lengthen how long an
    allegation is kept. The date is personal data: it goes on the internal timeline, not the audit log."""
    now = now or timezone.now()
    if not case_roles(actor, incident) & TRANSITIONS["set_pension_age"].roles:
        raise NotAllowed("The subject's pension age is recorded by the case's owner.")
    if incident.subject_id is None:
        raise Invalid("This case is not about a member of staff.")
    with transaction.atomic():
        won = Incident.objects.filter(pk=incident.pk, updated_at=incident.updated_at).update(
            subject_retirement_date=retirement_date, updated_at=now
        )
        if won != 1:
            raise Stale(f"{incident.reference} changed while you were looking at it. Nothing was changed.")
        note = (
            f"Subject's normal pension age recorded: {retirement_date:%d %b %Y}."
            if retirement_date
            else "Subject's normal pension age cleared."
        )
        TimelineEntry.objects.create(
            incident=incident, actor=actor, kind=TimelineKind.NOTE, note=note, internal=True, data={"retention": True}
        )
        record_case_change(actor, incident, subject_retirement_date="recorded" if retirement_date else "cleared")
    incident.subject_retirement_date, incident.updated_at = retirement_date, now
    return incident
