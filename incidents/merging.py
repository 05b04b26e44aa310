"""Linked and merged reports (docs/linked-reports.md).

Five members of staff report the same parent's post: five cases. Their owner can

- **link** two cases of the school as related (both stay as they are; each owner page lists the
  other), and unlink them;
- **merge** a report into a surviving case: the report stays its own row with its own reporter, text
  and evidence, its status becomes MERGED and it names the survivor (`merged_into`); its pending
  clocks stop with a reason; its reporter is told by a content-free email and keeps seeing their own
  report, with the survivor's progress as its status ("being handled with a related report", then
  "resolved") and nothing else of the survivor;
- **split** a merged report back out: the only way a merge is undone.

Rules that keep a merge from showing anyone what they must not see:

- same school, both open, neither merged, no chains (a survivor is never itself merged, a report
  with reports merged into it is not merged elsewhere);
- the same subject, or none on both: the survivor's owners read the merged report, so a report about
  X merged into a case that X could own (X is head or DSL, the survivor is about nobody or someone
  else) would show X a report about them. Reports about different people can be neither merged
  nor linked (a link puts each case's reference on the other's page);
- a report the DSL owns (safeguarding, Prevent, illegal content, a child at risk) only into a case
  the DSL owns too, so it never leaves the DSL's hands;
- whoever merges, links or splits owns both cases.

The survivor's owners own its merged reports too (incidents/access.py, relation "survivor_owner"),
so a DSL who owns the survivor opens a merged report's files although the report alone is not hers.

Duplicate warning: when an open case of the school (that the owner owns) cites the same post as this
one (incidents/urlmatch.py), the owner's page says so and offers to link or merge. The reporter's page
never shows it.

Writes follow the house order (incidents/services.py): lock both rows (lower id first, the order
clocks lock in), check the table (`transitions.check`) and the rules, conditional update, timeline
entries on both cases, audit events, email after commit.
"""

import logging
from datetime import datetime

from django import forms
from django.db import transaction
from django.db.models import Q

from accounts.audit import record, record_case_change
from accounts.models import AuditAction

from . import case_lists, clocks, urlmatch
from .errors import Invalid, NotAllowed, Stale, WrongState
from .forms import ReferenceField
from .models import (
    OPEN_STATUSES,
    CaseLink,
    Evidence,
    Incident,
    ReferralKind,
    Route,
    Status,
    TimelineKind,
)
from .notify import notify
from .services import _lock, _now, _timeline
from .transitions import OWNERS, case_roles, check

log = logging.getLogger(__name__)

NOT_FOUND = "There is no case with that reference among the cases you own at this school. Nothing was changed."
DIFFERENT_SUBJECTS = (
    "These reports are about different people (or only one of them names a member of staff), so they cannot be "
    "{what}: each would show its owners a report about someone else. Nothing was changed."
)


# --- Forms (the table's rows name them) ---------------------------------------------------------


class LinkForm(forms.Form):
    other = ReferenceField(label="Reference of the related case")


class UnlinkForm(forms.Form):
    other = ReferenceField(label="Reference of the linked case")


class MergeForm(forms.Form):
    into = ReferenceField(label="Merge this report into the case with the reference")


# --- Finding the other case -----------------------------------------------------------------------


def _other_case(actor, incident: Incident, parsed) -> Incident:
    """The case a typed reference names, at the same school and owned by `actor`; otherwise the same
    message whether it does not exist, is elsewhere or is not theirs (no existence leaks)."""
    cases = Incident.objects.owned_by(actor).filter(school_id=incident.school_id)
    if parsed is None:
        raise Invalid(NOT_FOUND)
    if parsed.reference:
        found = cases.filter(reference=parsed.reference)
    elif parsed.legacy:
        found = cases.filter(legacy_reference=parsed.legacy)
    else:
        found = cases.filter(reference__endswith=parsed.suffix)
    other = found.select_related("school").first()
    if other is None:
        raise Invalid(NOT_FOUND)
    return other


def _lock_pair(a: Incident, b: Incident) -> None:
    for case in sorted((a, b), key=lambda c: c.pk):
        _lock(case)


def _same_subject(a: Incident, b: Incident, what: str) -> None:
    if a.subject_id != b.subject_id:
        raise Invalid(DIFFERENT_SUBJECTS.format(what=what))


def _owns(actor, incident: Incident) -> None:
    if not case_roles(actor, incident) & OWNERS:
        raise NotAllowed("You do not own both cases. Nothing was changed.")


# --- Link and unlink ---------------------------------------------------------------------------------


def _pair(a: Incident, b: Incident) -> tuple[int, int]:
    return (a.pk, b.pk) if a.pk < b.pk else (b.pk, a.pk)


def linked_q(incident: Incident) -> Q:
    return Q(pk__in=CaseLink.objects.filter(first=incident).values("second")) | Q(
        pk__in=CaseLink.objects.filter(second=incident).values("first")
    )


def incident_link(*, incident: Incident, actor, other, now: datetime | None = None) -> CaseLink:
    """Mark two cases of the school as related: each owner page lists the other."""
    now = _now(now)
    with transaction.atomic():
        peer = _other_case(actor, incident, other)
        _lock_pair(incident, peer)
        peer = Incident.objects.get(pk=peer.pk)  # as it is now, under the lock
        check(actor, incident, "link")
        _owns(actor, peer)
        if peer.pk == incident.pk:
            raise Invalid("A case cannot be linked to itself. Nothing was changed.")
        if peer.status == Status.MERGED:
            raise WrongState(f"{peer.reference} is merged into another case: link that case instead.")
        _same_subject(incident, peer, "linked")
        first, second = _pair(incident, peer)
        if CaseLink.objects.filter(first_id=first, second_id=second).exists():
            raise Stale(f"{incident.reference} and {peer.reference} are already linked. Nothing was changed.")
        link = CaseLink.objects.create(first_id=first, second_id=second, linked_by=actor)
        for case, partner in ((incident, peer), (peer, incident)):
            _timeline(
                case,
                actor,
                TimelineKind.LINK,
                note=f"Linked as related to {partner.reference}.",
                data={"with": partner.pk},
            )
            record_case_change(actor, case, linked_with=partner.pk)
    log.info("Incidents %s and %s linked by user %s", incident.reference, peer.reference, actor.pk)
    return link


def incident_unlink(*, incident: Incident, actor, other, now: datetime | None = None) -> None:
    now = _now(now)
    with transaction.atomic():
        peer = _other_case(actor, incident, other)
        _lock_pair(incident, peer)
        check(actor, incident, "unlink")
        _owns(actor, peer)
        first, second = _pair(incident, peer)
        deleted, _ = CaseLink.objects.filter(first_id=first, second_id=second).delete()
        if not deleted:
            raise Stale(f"{incident.reference} and {peer.reference} are not linked. Nothing was changed.")
        for case, partner in ((incident, peer), (peer, incident)):
            _timeline(
                case,
                actor,
                TimelineKind.LINK,
                note=f"Unlinked from {partner.reference}.",
                data={"unlinked": partner.pk},
            )
            record_case_change(actor, case, unlinked_from=partner.pk)
    log.info("Incidents %s and %s unlinked by user %s", incident.reference, peer.reference, actor.pk)


# --- Merge and split ---------------------------------------------------------------------------------

MERGED_NOTE = "Your report is now being handled together with a related report."
SPLIT_NOTE = "Your report is handled on its own again."


def incident_merge(*, incident: Incident, actor, into, now: datetime | None = None) -> Incident:
    """Merge the report `incident` into the surviving case `into` (a typed reference)."""
    now = _now(now)
    with transaction.atomic():
        survivor = _other_case(actor, incident, into)
        _lock_pair(incident, survivor)
        survivor = Incident.objects.get(pk=survivor.pk)  # as it is now, under the lock
        t = check(actor, incident, "merge")
        _owns(actor, survivor)
        if survivor.pk == incident.pk:
            raise Invalid("A report cannot be merged into itself. Nothing was changed.")
        if survivor.status == Status.MERGED or survivor.merged_into_id:
            raise WrongState(
                f"{survivor.reference} was itself merged into another case, so nothing can be merged into it: "
                "merge into that case instead. Nothing was changed."
            )
        if survivor.status not in OPEN_STATUSES:
            raise WrongState(
                f"{survivor.reference} is “{survivor.get_status_display()}”: a report can only be merged into an "
                "open case. Nothing was changed."
            )
        if Incident.objects.filter(merged_into=incident).exists():
            raise WrongState(
                f"Reports are merged into {incident.reference}: merge {survivor.reference} into it instead, or split "
                "them out first. Nothing was changed."
            )
        _same_subject(incident, survivor, "merged")
        if incident.needs_dsl and not survivor.needs_dsl:
            raise Invalid(
                f"{incident.reference} is for the DSL (safeguarding, or a child at risk) and {survivor.reference} is "
                f"not: merge {survivor.reference} into {incident.reference} instead, or link them. Nothing was changed."
            )
        old = incident.status
        won = Incident.objects.filter(
            pk=incident.pk, status=old, updated_at=incident.updated_at, merged_into__isnull=True
        ).update(status=Status.MERGED, merged_into=survivor, merged_at=now, status_before_merge=old, updated_at=now)
        if won != 1:
            raise Stale(
                f"{incident.reference} changed while you were looking at it. Nothing was changed: check the case and "
                "try again."
            )
        incident.status, incident.merged_into, incident.merged_at = Status.MERGED, survivor, now
        incident.status_before_merge, incident.updated_at = old, now
        reason = f"merged into {survivor.reference}"
        stopped = clocks.clocks_cancel_all(incident=incident, now=now, reason=reason)
        # The reporter's progress line says only that it is handled with a related report.
        _timeline(
            incident,
            actor,
            TimelineKind.MERGE,
            note=MERGED_NOTE,
            internal=False,
            # No from/to status: the page would print "Merged into another case"; the note says it.
            data={"transition": t.name, "into": survivor.pk, "from": old, "deadlines_cancelled": stopped},
        )
        _timeline(
            survivor,
            actor,
            TimelineKind.MERGE,
            note=f"{incident.reference} merged into this case.",
            data={"merged": incident.pk},
        )
        record_case_change(actor, incident, merged_into=survivor.pk, deadlines_cancelled=stopped)
        record_case_change(actor, survivor, merged_report=incident.pk)
        if incident.reporter_id != actor.pk:
            notify(
                recipient=incident.reporter,
                kind="report_merged",
                key=f"incident:{incident.pk}:merged:{now.isoformat()}",
                incident=incident,
            )
    log.info("Incident %s merged into %s by user %s", incident.reference, survivor.reference, actor.pk)
    return incident


def incident_split(*, incident: Incident, actor, now: datetime | None = None) -> Incident:
    """Undo a merge: the report returns to its own workflow. Not yet answered when it was merged:
    back to "submitted" with a fresh response clock from now; otherwise the status it had."""
    now = _now(now)
    with transaction.atomic():
        survivor = Incident.objects.filter(pk=incident.merged_into_id).first()
        if survivor is not None:
            _lock_pair(incident, survivor)
        else:
            _lock(incident)
        t = check(actor, incident, "split")
        if survivor is not None:
            _owns(actor, survivor)  # e.g. the chair of an escalated report, who does not own the survivor
        back = incident.status_before_merge or Status.SUBMITTED
        if back not in OPEN_STATUSES:
            back = Status.SUBMITTED
        unanswered = back == Status.SUBMITTED
        won = Incident.objects.filter(pk=incident.pk, status=Status.MERGED, updated_at=incident.updated_at).update(
            status=back, merged_into=None, merged_at=None, status_before_merge="", updated_at=now
        )
        if won != 1:
            raise Stale(
                f"{incident.reference} changed while you were looking at it. Nothing was changed: check the case and "
                "try again."
            )
        incident.status, incident.merged_into, incident.merged_at = back, None, None
        incident.status_before_merge, incident.updated_at = "", now
        if unanswered:
            clocks.clocks_start_response(incident=incident, now=now, start=now)
        if incident.route == Route.ALLEGATION and not incident.referrals.filter(kind=ReferralKind.LADO).exists():
            clocks.clocks_start_lado(incident=incident, now=now)
        _timeline(
            incident,
            actor,
            TimelineKind.SPLIT,
            note=SPLIT_NOTE,
            internal=False,
            data={"transition": t.name, "from": survivor.pk if survivor else None, "to": back},
        )
        if survivor is not None:
            _timeline(
                survivor,
                actor,
                TimelineKind.SPLIT,
                note=f"{incident.reference} split out of this case.",
                data={"split": incident.pk},
            )
            record_case_change(actor, survivor, split_report=incident.pk)
        record_case_change(actor, incident, split_from=survivor.pk if survivor else None, status=back)
    log.info("Incident %s split out by user %s", incident.reference, actor.pk)
    return incident


# --- Reading -------------------------------------------------------------------------------------------


def survivor_for(user, incident: Incident) -> Incident | None:
    """The case a merged report was merged into, when `user` owns it (else None)."""
    if not incident.merged_into_id:
        return None
    return Incident.objects.owned_by(user).filter(pk=incident.merged_into_id).first()


def progress(incident: Incident) -> str:
    """A merged report's status for its reporter: the survivor's progress, nothing else of it."""
    closed = getattr(incident, "survivor_closed", None)  # read with the list (selectors.with_survivor_state)
    if closed is None:
        closed = Incident.objects.filter(pk=incident.merged_into_id, status=Status.CLOSED).exists()
    return "Resolved" if closed else "Being handled with a related report"


def duplicates(user, incident: Incident, evidence: list | None = None) -> list[Incident]:
    """Other open cases of the school, owned by `user`, citing a post this case cites, that are not
    linked to it or merged into it already. `evidence`: the case's files, when already fetched."""
    if incident.status not in OPEN_STATUSES:
        return []
    if evidence is None:
        captured = incident.evidence.values_list("captured_url", flat=True)
    else:
        captured = [item.captured_url for item in evidence]
    mine = urlmatch.keys(incident.links, *captured)
    if not mine:
        return []
    others = (
        Incident.objects.owned_by(user)
        .filter(school_id=incident.school_id, status__in=OPEN_STATUSES)
        .exclude(pk=incident.pk)
        .exclude(linked_q(incident))
        .order_by("received_at", "pk")
    )
    found = []
    cited = {}
    for pk, links in others.values_list("pk", "links"):
        cited[pk] = urlmatch.keys(links)
    for pk, url in (
        Evidence.objects.filter(incident_id__in=list(cited))
        .exclude(captured_url="")
        .values_list("incident_id", "captured_url")
    ):
        cited[pk] |= urlmatch.keys(url)
    hits = [pk for pk, keys in cited.items() if keys & mine]
    if hits:
        found = list(Incident.objects.filter(pk__in=hits).order_by("received_at", "pk"))
    return found


def owner_context(request, incident: Incident, roles, evidence: list | None = None) -> dict:
    """What the owner's page shows of links, merged reports and possible duplicates. The merged
    reports' content is shown here, so each one shown is recorded as read (the page's own event
    names the survivor only). `evidence`: the case's files the page has fetched already."""
    user = request.user
    # Most cases are linked to none: a plain look at the links first, and the owner's access rule
    # (costly to build) only when there is one to filter.
    linked = case_lists.linked_pks(incident)
    related = (
        list(Incident.objects.owned_by(user).filter(pk__in=linked).order_by("received_at", "pk")) if linked else []
    )
    merged = []
    for report in case_lists.merged_reports(incident):
        merged.append({"report": report, "evidence": list(report.evidence.select_related("uploaded_by"))})
        record(
            AuditAction.VIEW,
            request=request,
            object_type="incident",
            object_id=report.pk,
            object_ref=report.reference,
            school_id=report.school_id,
            detail={"shown_on": incident.reference, "merged_report": True},
        )
    may = {name: bool(roles & OWNERS) and incident.status in _sources(name) for name in ("link", "merge")}
    return {
        "related_cases": related,
        "merged_reports": merged,
        "possible_duplicates": duplicates(user, incident, evidence) if may["link"] else [],
        "may_merge": may["merge"],
        "may_split": bool(roles & OWNERS),
    }


def _sources(name):
    from .transitions import TRANSITIONS

    return TRANSITIONS[name].sources
