"""Every write of the policy feature (STYLE.md): keyword-only, one transaction each, role and state checked.

Wrong role raises ``PermissionDenied`` (a 403 in views); a wrong state or bad input raises
:class:`PolicyStateError`, whose message is a user-facing sentence. Views fetch objects through
``visible_to``/``related_to`` first, so another school's objects are a 404 before a service runs.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.audit import record
from accounts.models import ACKNOWLEDGING_ROLES, AuditAction, Membership, Role, School, Trust, User
from incidents.notify import notify

from . import dispatch, review
from .emails import ACKNOWLEDGEMENT_REMINDER
from .models import (
    Acknowledgement,
    AcknowledgementReminder,
    Clause,
    Policy,
    PolicyAdoption,
    PolicyVersion,
    Section,
    VersionStatus,
)
from .structure import StructureError, validate_structure

log = logging.getLogger(__name__)


class PolicyStateError(Exception):
    """The action does not fit the current state (or the input); ``str(error)`` says why, for the user."""


# --- Who may do what -----------------------------------------------------------------------------


def is_head(user, school: School) -> bool:
    return Membership.objects.filter(user=user, school=school, role=Role.HEAD, user__is_active=True).exists()


def is_trust_admin(user, trust: Trust | None) -> bool:
    if trust is None:
        return False
    return Membership.objects.filter(
        user=user, school__trust=trust, role=Role.TRUST_ADMIN, user__is_active=True
    ).exists()


def can_manage(user, policy: Policy, memberships=None) -> bool:
    """Heads manage their school's own policy; trust admins manage their trust's model policies.
    `memberships`: the person's memberships as the request fetched them (request.ctx, active people
    only), read instead of asking the database again."""
    if memberships is not None:
        if policy.school_id:
            return any(m.role == Role.HEAD and m.school_id == policy.school_id for m in memberships)
        return policy.trust_id is not None and any(
            m.role == Role.TRUST_ADMIN and m.school.trust_id == policy.trust_id for m in memberships
        )
    if policy.school_id:
        return is_head(user, policy.school)
    return is_trust_admin(user, policy.trust)


def _require_manager(user, policy: Policy) -> None:
    if not can_manage(user, policy):
        raise PermissionDenied("Only the head teacher (school policies) or a trust admin (trust policies) may do this.")


# --- Drafts --------------------------------------------------------------------------------------


def _clean(structure: dict) -> dict:
    try:
        return validate_structure(structure)
    except StructureError as error:
        raise PolicyStateError(str(error)) from None


def _next_number(policy: Policy) -> int:
    return (policy.versions.aggregate(n=Max("number"))["n"] or 0) + 1


def _write_structure(version: PolicyVersion, structure: dict) -> None:
    """Create the sections and clauses of `version` in a fixed number of queries, whatever the size."""
    sections = Section.objects.bulk_create(
        [
            Section(version=version, number=s["number"], heading=s["heading"], order=i)
            for i, s in enumerate(structure["sections"], start=1)
        ]
    )
    specs = [(section, c) for section, s in zip(sections, structure["sections"], strict=True) for c in s["clauses"]]
    clauses = Clause.objects.bulk_create(
        [
            Clause(version=version, section=section, ref=c["ref"], text=c["text"], order=i, topics=c["topics"])
            for i, (section, c) in enumerate(specs, start=1)
        ]
    )
    by_ref = {clause.ref: clause for clause in clauses}
    with_parent = []
    for clause, (_, spec) in zip(clauses, specs, strict=True):
        if spec["parent"]:
            clause.parent = by_ref[spec["parent"]]
            with_parent.append(clause)
    Clause.objects.bulk_update(with_parent, ["parent"], batch_size=500)


def version_structure(version: PolicyVersion) -> dict:
    """The structure of a saved version, in the importer's shape (two queries)."""
    sections = {s.pk: {"number": s.number, "heading": s.heading, "clauses": []} for s in version.sections.all()}
    for clause in version.clauses.select_related("parent").only("ref", "text", "topics", "section", "parent__ref"):
        sections[clause.section_id]["clauses"].append(
            {
                "ref": clause.ref,
                "text": clause.text,
                "parent": clause.parent.ref if clause.parent else None,
                "topics": list(clause.topics),
            }
        )
    return {"sections": list(sections.values())}


def policy_import_draft(
    *, actor: User, owner: School | Trust, structure: dict, title: str, source_name: str = ""
) -> PolicyVersion:
    """Save an imported (and corrected) structure as a new draft of the owner's policy, creating it if needed."""
    structure = _clean(structure)
    title = (title or "").strip()[:200] or "Staff social-media policy"
    with transaction.atomic():
        if isinstance(owner, School):
            if not is_head(actor, owner):
                raise PermissionDenied("Only the school's head teacher may import its policy.")
            policies = Policy.objects.filter(school=owner)
        else:
            if not is_trust_admin(actor, owner):
                raise PermissionDenied("Only a trust admin may import the trust's model policy.")
            policies = Policy.objects.filter(trust=owner)
        policy = policies.select_for_update().order_by("pk").first()
        if policy is None:
            policy = Policy.objects.create(title=title, **{"school" if isinstance(owner, School) else "trust": owner})
        version = PolicyVersion.objects.create(
            policy=policy,
            number=_next_number(policy),
            created_by=actor,
            source_name=(source_name or "")[:255],
        )
        _write_structure(version, structure)
    log.info("policy %s: draft v%s imported by user %s", policy.pk, version.number, actor.pk)
    return version


def policy_version_update_draft(*, actor: User, version: PolicyVersion, structure: dict) -> PolicyVersion:
    """Replace a draft's sections and clauses. Active and archived versions never change."""
    structure = _clean(structure)
    with transaction.atomic():
        locked = PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)
        _require_manager(actor, locked.policy)
        if locked.status != VersionStatus.DRAFT:
            raise PolicyStateError(
                f"Version {locked.number} is {locked.get_status_display().lower()} and can no longer be changed; "
                "start a new draft from it instead."
            )
        locked.sections.all().delete()  # clauses go with their sections
        _write_structure(locked, structure)
    return locked


def policy_version_new_draft(*, actor: User, from_version: PolicyVersion) -> PolicyVersion:
    """Start a new draft as a copy of a published version (the only way to change a published text)."""
    with transaction.atomic():
        policy = Policy.objects.select_for_update().get(pk=from_version.policy_id)
        _require_manager(actor, policy)
        source = PolicyVersion.objects.get(pk=from_version.pk)
        if source.status == VersionStatus.DRAFT:
            raise PolicyStateError(f"Version {source.number} is still a draft: edit it instead of copying it.")
        version = PolicyVersion.objects.create(
            policy=policy, number=_next_number(policy), created_by=actor, source_name=f"copy of version {source.number}"
        )
        _write_structure(version, version_structure(source))
    return version


def policy_version_publish(
    *, actor: User, version: PolicyVersion, effective_date: dt.date, next_review_date: dt.date | None = None
) -> PolicyVersion:
    """Make a draft the policy's one active version, archiving the one before it in the same transaction.

    A school publishing its own policy for the first time also adopts it. Staff of every adopting school
    must then acknowledge it; the first notice is queued after commit (and the beat task catches up if
    the broker was down).
    """
    if next_review_date and next_review_date <= effective_date:
        raise PolicyStateError("The next review date must be after the date the version comes into force.")
    with transaction.atomic():
        policy = Policy.objects.select_for_update().get(pk=version.policy_id)
        _require_manager(actor, policy)
        if not Clause.objects.filter(version_id=version.pk).exists():
            raise PolicyStateError("A version with no clauses cannot be published.")
        PolicyVersion.objects.filter(policy=policy, status=VersionStatus.ACTIVE).exclude(pk=version.pk).update(
            status=VersionStatus.ARCHIVED
        )
        changed = PolicyVersion.objects.filter(pk=version.pk, status=VersionStatus.DRAFT).update(
            status=VersionStatus.ACTIVE,
            effective_date=effective_date,
            next_review_date=next_review_date,
            approved_by=actor,
            published_at=timezone.now(),
        )
        if changed != 1:
            raise PolicyStateError("This version has already been published; only a draft can be published.")
        version.refresh_from_db()
        review.schedule(version, timezone.now())  # and the archived version's pending reminders stop
        if policy.school_id and not PolicyAdoption.objects.filter(school_id=policy.school_id).exists():
            PolicyAdoption.objects.create(school_id=policy.school_id, policy=policy)
        # Broker down: the reminder beat tells them later (the database holds who is outstanding).
        dispatch.queue_after_commit(dispatch.SEND_ACKNOWLEDGEMENT_NOTICES, args=[version.pk])
    version.refresh_from_db()
    log.info("policy %s: v%s published by user %s", policy.pk, version.number, actor.pk)
    return version


def policy_review_record(
    *, actor: User, version: PolicyVersion, next_review_date: dt.date, today: dt.date | None = None
) -> PolicyVersion:
    """The version in force was reviewed and its text stays as it is: the next review is due on
    `next_review_date`. (A review that changes the text publishes a new version instead.) Audited; the
    clock restarts in the same transaction, so the old date's reminders never fire."""
    today = today or timezone.localdate()
    if next_review_date <= today:
        raise PolicyStateError("The next review date must be in the future.")
    with transaction.atomic():
        policy = Policy.objects.select_for_update().get(pk=version.policy_id)
        _require_manager(actor, policy)
        if not PolicyVersion.objects.filter(pk=version.pk, status=VersionStatus.ACTIVE).update(
            next_review_date=next_review_date
        ):
            raise PolicyStateError("Only the version in force is reviewed; a draft gets its date when it is published.")
        version.refresh_from_db()
        review.schedule(version, timezone.now())
        record(
            AuditAction.CHANGE,
            actor=actor,
            object_type="policy_version",
            object_id=version.pk,
            object_ref=f"{policy.title} v{version.number}",
            school_id=policy.school_id,
            detail={"op": "reviewed", "next_review_date": next_review_date.isoformat()},
        )
    log.info("policy %s: v%s reviewed by user %s", policy.pk, version.number, actor.pk)
    return version


def policy_adopt(*, actor: User, school: School, policy: Policy) -> PolicyAdoption:
    """The school works under `policy` from now on (its own, or its trust's model policy)."""
    with transaction.atomic():
        if not is_head(actor, school):
            raise PermissionDenied("Only the school's head teacher may choose the policy it adopts.")
        if not (policy.school_id == school.pk or (policy.trust_id and policy.trust_id == school.trust_id)):
            raise PermissionDenied("A school can adopt only its own policy or its trust's model policy.")
        if not policy.versions.filter(status=VersionStatus.ACTIVE).exists():
            raise PolicyStateError("This policy has no version in force yet; publish one before adopting it.")
        current = PolicyAdoption.objects.select_for_update().filter(school=school).first()
        if current and current.policy_id == policy.pk:
            raise PolicyStateError(f"{school.name} already works under this policy.")
        if current:
            PolicyAdoption.objects.filter(pk=current.pk, policy_id=current.policy_id).update(policy=policy)
            current.refresh_from_db()
            adoption = current
        else:
            adoption = PolicyAdoption.objects.create(school=school, policy=policy)
        version_id = policy.versions.get(status=VersionStatus.ACTIVE).pk
        dispatch.queue_after_commit(dispatch.SEND_ACKNOWLEDGEMENT_NOTICES, args=[version_id])
    return adoption


# --- Acknowledgements ----------------------------------------------------------------------------


def acknowledgement_record(*, user: User, version: PolicyVersion) -> tuple[Acknowledgement, bool]:
    """Record that `user` has read `version`. Idempotent: a second call returns the first record."""
    with transaction.atomic():
        current = PolicyVersion.objects.get(pk=version.pk)
        if current.status != VersionStatus.ACTIVE:
            raise PolicyStateError("This version is no longer in force; please read the current one.")
        if not Membership.objects.filter(
            user=user,
            role__in=ACKNOWLEDGING_ROLES,
            school__adoption__policy_id=current.policy_id,
            user__is_active=True,
        ).exists():
            raise PermissionDenied(
                "Only staff, volunteers and agency or contract staff of a school that works under this policy"
                " acknowledge it."
            )
        return Acknowledgement.objects.get_or_create(user=user, version=current)


def staff_required_to_acknowledge(version: PolicyVersion):
    """Active members of every school adopting the version's policy who must acknowledge it: staff,
    volunteers, agency and contract staff (accounts.models.ACKNOWLEDGING_ROLES; version must be active)."""
    return User.objects.filter(
        is_active=True,
        memberships__role__in=ACKNOWLEDGING_ROLES,
        memberships__school__adoption__policy_id=version.policy_id,
    ).distinct()


def outstanding_acknowledgements(version: PolicyVersion):
    return staff_required_to_acknowledge(version).exclude(acknowledgements__version=version)


def school_compliance(*, school: School, version: PolicyVersion) -> list[User]:
    """Staff of `school` with ``acknowledged_at`` (None if outstanding), in one query."""
    acknowledged = Acknowledgement.objects.filter(user=OuterRef("pk"), version=version).values("at")[:1]
    return list(
        User.objects.filter(is_active=True, memberships__school=school, memberships__role__in=ACKNOWLEDGING_ROLES)
        .annotate(acknowledged_at=Subquery(acknowledged))
        .order_by("full_name", "email")
        .distinct()
    )


def acknowledgement_reminders_due(*, today: dt.date, interval_days: int) -> list[tuple[int, int]]:
    """(user id, version id) pairs to remind: never told, or last told `interval_days` or more ago."""
    due = []
    cutoff = today - dt.timedelta(days=interval_days)
    active = PolicyVersion.objects.filter(status=VersionStatus.ACTIVE, policy__adoptions__isnull=False).distinct()
    for version in active:
        last_sent = AcknowledgementReminder.objects.filter(user=OuterRef("pk"), version=version).order_by("-sent_on")
        users = (
            outstanding_acknowledgements(version)
            .annotate(last_sent=Subquery(last_sent.values("sent_on")[:1]))
            .filter(Q(last_sent__isnull=True) | Q(last_sent__lte=cutoff))
            .values_list("pk", flat=True)
        )
        due.extend((user_id, version.pk) for user_id in users)
    return due


def acknowledgement_reminder_send(*, user_id: int, version_id: int, today: dt.date) -> bool:
    """Queue one content-free reminder, at most once a day per person and version (a unique row, inserted first).

    The email is a Notification, sent after commit by the outbox like every other email (retried if
    the mail server fails, with a fixed Message-ID). Returns False when there is nothing to send:
    acknowledged meanwhile, version no longer active, or someone already reminded them today.
    """
    with transaction.atomic():
        version = PolicyVersion.objects.filter(pk=version_id, status=VersionStatus.ACTIVE).first()
        if version is None or not outstanding_acknowledgements(version).filter(pk=user_id).exists():
            return False
        try:
            with transaction.atomic():
                AcknowledgementReminder.objects.create(user_id=user_id, version=version, sent_on=today)
        except IntegrityError:
            return False
        notify(
            recipient=User.objects.get(pk=user_id),
            kind=ACKNOWLEDGEMENT_REMINDER,
            key=f"policy-ack:{version_id}:{user_id}:{today.isoformat()}",
        )
    return True
