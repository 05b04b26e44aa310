"""The policy review clock ([9].5): a version's next review date is a deadline like any other.

- Reminders go to the people who answer for the review before the date (settings
  POLICY_REVIEW_REMINDER_DAYS, 30 and 7 days by default), and an "overdue" message when the date has
  passed (the end of that day, school time) without a review. Each is a Deadline row of kind
  POLICY_REVIEW on the version (`target`), fired by the real sweep (incidents/clocks.deadlines_sweep);
  `data["stage"]` says which message it sends.
- Who answers for it: the heads of the schools working under the policy, and for a trust's model policy
  the trust admins too (they manage it: policyhub/models.PolicyQuerySet.managed_by).
- A new date (publishing a version, or recording a review that changed nothing in the text) replaces the
  pending rows of every version of the policy in the same transaction: a stale reminder never fires.
- Overdue on screen is read from the date itself (`state`), so the policy page, the governors' pack and
  the trust view agree with the clock without reading it.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from accounts.models import Role, User
from incidents.clocks import _schedule_soon
from incidents.deadlines import LONDON
from incidents.models import Deadline, DeadlineKind, DeadlineState
from incidents.notify import notify

from .models import PolicyVersion, VersionStatus

KIND = DeadlineKind.POLICY_REVIEW
DUE_SOON = "policy_review_soon"
OVERDUE = "policy_review_overdue"


def reminder_days() -> tuple[int, ...]:
    return tuple(sorted(settings.POLICY_REVIEW_REMINDER_DAYS, reverse=True))


def due_at(day: date) -> datetime:
    """A review "by 1 September" may happen all that day: overdue from the next midnight, school time."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=LONDON)


@dataclass(frozen=True)
class ReviewState:
    """What the page says about a version's review date on `today`."""

    due: date
    days: int  # days until the date (negative: days overdue)

    @property
    def overdue(self) -> bool:
        return self.days < 0

    @property
    def days_overdue(self) -> int:
        return max(-self.days, 0)

    @property
    def soon(self) -> bool:
        return 0 <= self.days <= max(reminder_days(), default=0)


def state(version, today: date) -> ReviewState | None:
    """None for a version with no review date or not in force (an archived version's date is history)."""
    if version.next_review_date is None or version.status != VersionStatus.ACTIVE:
        return None
    return ReviewState(due=version.next_review_date, days=(version.next_review_date - today).days)


def _versions_of(policy_id):
    return PolicyVersion.objects.filter(policy_id=policy_id).values_list("pk", flat=True)


def schedule(version, now: datetime) -> list[Deadline]:
    """Replace the policy's pending review rows with the ones `version`'s date asks for.
    Called inside the transaction that set the date (publish, record a review)."""
    version_type = ContentType.objects.get_for_model(version)
    Deadline.objects.filter(
        target_type=version_type, target_id__in=_versions_of(version.policy_id), kind=KIND, state=DeadlineState.PENDING
    ).update(state=DeadlineState.CANCELLED, closed_at=now)
    if version.next_review_date is None or version.status != VersionStatus.ACTIVE:
        return []
    generation = 1 + Deadline.objects.filter(target_type=version_type, target_id=version.pk, kind=KIND).count()
    due = due_at(version.next_review_date)
    on = version.next_review_date.isoformat()
    rows = [
        Deadline(
            target_type=version_type,
            target_id=version.pk,
            kind=KIND,
            due_at=due - timedelta(days=days),
            reason=f"policy review due in {days} days",
            generation=generation,
            data={"stage": "reminder", "days": days, "on": on},
        )
        for days in reminder_days()
        if due - timedelta(days=days) > now
    ]
    rows.append(
        Deadline(
            target_type=version_type,
            target_id=version.pk,
            kind=KIND,
            due_at=due,
            reason="policy review date passed",
            generation=generation,
            data={"stage": "overdue", "on": on},
        )
    )
    created = Deadline.objects.bulk_create(rows)
    _schedule_soon(created, now)
    return created


def answerable(policy) -> list[User]:
    """The heads of every school working under the policy (its own school included), and the trust
    admins of a trust's model policy."""
    where = Q(memberships__role=Role.HEAD, memberships__school__adoption__policy=policy)
    if policy.school_id:
        where |= Q(memberships__role=Role.HEAD, memberships__school_id=policy.school_id)
    if policy.trust_id:
        where |= Q(memberships__role=Role.TRUST_ADMIN, memberships__school__trust_id=policy.trust_id)
    return list(User.objects.filter(where, is_active=True).distinct().order_by("pk"))


def effect(*, deadline, incident, now):
    """Run inside deadline_fire's transaction. The version is locked and read again: a review recorded
    a moment before the sweep has already cancelled this row, and a version no longer in force, or
    with another date, is not reminded about."""
    version = PolicyVersion.objects.select_for_update().select_related("policy").filter(pk=deadline.target_id).first()
    if version is None or version.status != VersionStatus.ACTIVE or version.next_review_date is None:
        return
    if version.next_review_date.isoformat() != deadline.data.get("on"):
        return
    kind = OVERDUE if deadline.data.get("stage") == "overdue" else DUE_SOON
    for person in answerable(version.policy):
        notify(recipient=person, kind=kind, key=f"deadline:{deadline.pk}:{kind}:{person.pk}", target=version)


def schedule_missing(now: datetime) -> int:
    """Versions in force whose date has no clock (published before the clock existed, or the date
    changed in the Django admin): give them one. Idempotent; the hourly policy beat runs it
    (policyhub/tasks.py), and so does `seed_demo`. Two queries: one active version per policy."""
    version_type = ContentType.objects.get_for_model(PolicyVersion)
    versions = list(PolicyVersion.objects.filter(status=VersionStatus.ACTIVE, next_review_date__isnull=False))
    clocked = {
        (target_id, (data or {}).get("on"))
        for target_id, data in Deadline.objects.filter(
            target_type=version_type, target_id__in=[v.pk for v in versions], kind=KIND
        ).values_list("target_id", "data")
    }
    missing = [v for v in versions if (v.pk, v.next_review_date.isoformat()) not in clocked]
    for version in missing:
        schedule(version, now)
    return len(missing)
