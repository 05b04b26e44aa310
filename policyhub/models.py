from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Membership, Role, School, Trust

from .structure import clause_anchor
from .topics import TOPIC_KEYS, TOPICS


class Liveness(models.Model):
    """One row, updated in place: when the beat's deadline sweep last finished and when a worker last
    ran the heartbeat task. /healthz and `manage.py liveness` read it (policyhub/liveness.py)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    # When this database was first checked or swept: the start of the grace period (policyhub/liveness.py).
    created_at = models.DateTimeField(auto_now_add=True)
    last_sweep_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "liveness"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="liveness_single_row")]

    def __str__(self):
        return f"last sweep {self.last_sweep_at or 'never'}, last heartbeat {self.last_heartbeat_at or 'never'}"


# --- The policy as data -------------------------------------------------------------------------


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


def _school_ids(user, *roles):
    """Subquery: ids of the schools where `user` holds any of `roles` (any role when none given)."""
    memberships = Membership.objects.filter(user=user, user__is_active=True)
    if roles:
        memberships = memberships.filter(role__in=roles)
    return memberships.values("school_id")


def _trust_ids(user, *roles):
    memberships = Membership.objects.filter(user=user, user__is_active=True, school__trust__isnull=False)
    if roles:
        memberships = memberships.filter(role__in=roles)
    return memberships.values("school__trust_id")


class PolicyQuerySet(models.QuerySet):
    def related_to(self, user):
        """Policies of the user's schools: their own, their trust's, or adopted. Anything else is a 404."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            Q(school_id__in=_school_ids(user))
            | Q(trust_id__in=_trust_ids(user))
            | Q(adoptions__school_id__in=_school_ids(user))
        ).distinct()

    def managed_by(self, user):
        """Heads manage their school's own policy; trust admins manage their trust's model policies."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            Q(school_id__in=_school_ids(user, Role.HEAD)) | Q(trust_id__in=_trust_ids(user, Role.TRUST_ADMIN))
        )


class Policy(models.Model):
    """A staff social-media policy, owned by a trust (a model policy its schools adopt) or a school."""

    trust = models.ForeignKey(Trust, null=True, blank=True, on_delete=models.PROTECT, related_name="policies")
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="own_policies")
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(trust__isnull=False) & Q(school__isnull=True))
                | (Q(trust__isnull=True) & Q(school__isnull=False)),
                name="policy_owned_by_trust_xor_school",
            )
        ]

    def __str__(self):
        return self.title


class PolicyAdoption(models.Model):
    """The policy a school works under: its own or its trust's model policy. One per school."""

    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="adoption")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="adoptions")
    adopted_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.school} adopts {self.policy}"


class PolicyVersionQuerySet(models.QuerySet):
    def for_school(self, school):
        return self.filter(policy__adoptions__school=school)

    def in_force_on(self, school, day):
        """The version incidents of `school` on `day` are judged against (old versions stay citable)."""
        return (
            self.for_school(school)
            .filter(status__in=[VersionStatus.ACTIVE, VersionStatus.ARCHIVED], effective_date__lte=day)
            .order_by("-effective_date", "-number")
            .first()
        )

    def visible_to(self, user):
        """Who may read which version: the single rule every policy view fetches through.

        Members of a school read the published (active and archived) versions of the policy it adopts;
        heads also read their trust's published model policies (to decide on adoption); whoever manages
        a policy reads all its versions, drafts included.
        """
        if not user.is_authenticated:
            return self.none()
        published = Q(status__in=[VersionStatus.ACTIVE, VersionStatus.ARCHIVED])
        adopted = Q(policy__adoptions__school_id__in=_school_ids(user))
        trust_model = Q(policy__trust_id__in=_trust_ids(user, Role.HEAD))
        managed = Q(policy__in=Policy.objects.managed_by(user))
        return self.filter((published & (adopted | trust_model)) | managed).distinct()


class PolicyVersion(models.Model):
    """One text of a policy. Drafts are edited; once active a version never changes (edit = new draft)."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    effective_date = models.DateField(null=True, blank=True)
    next_review_date = models.DateField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_name = models.CharField(max_length=255, blank=True, help_text="The document this version was imported from.")

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="policyversion_unique_number"),
            # Exactly one active version per policy, enforced by the database.
            models.UniqueConstraint(
                fields=["policy"], condition=Q(status="active"), name="policyversion_one_active_per_policy"
            ),
            models.CheckConstraint(condition=Q(status__in=VersionStatus.values), name="policyversion_status_valid"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(effective_date__isnull=False),
                name="policyversion_published_has_effective_date",
            ),
        ]

    def __str__(self):
        return f"{self.policy} v{self.number} ({self.get_status_display()})"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT

    @property
    def is_in_force(self) -> bool:
        return self.status == VersionStatus.ACTIVE


class ClauseQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(version__in=PolicyVersion.objects.visible_to(user))


class Section(models.Model):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="sections")
    number = models.CharField(max_length=20, blank=True)
    heading = models.CharField(max_length=300)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["version", "order"]
        constraints = [models.UniqueConstraint(fields=["version", "order"], name="section_unique_order")]

    def __str__(self):
        return f"{self.number} {self.heading}".strip()


class Clause(models.Model):
    # `version` repeats section.version so clause queries (search, citing) need no join.
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="clauses")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="clauses")
    ref = models.CharField(max_length=40)
    text = models.TextField()
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    order = models.PositiveIntegerField()
    topics = models.JSONField(default=list, blank=True, help_text=f"Any of: {', '.join(TOPIC_KEYS)}")

    objects = ClauseQuerySet.as_manager()

    class Meta:
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "ref"], name="clause_unique_ref"),
            models.UniqueConstraint(fields=["version", "order"], name="clause_unique_order"),
        ]

    def __str__(self):
        return f"{self.ref} {self.text[:60]}"

    @property
    def anchor(self) -> str:
        return clause_anchor(self.ref)

    @property
    def topic_labels(self) -> list[str]:
        labels = dict(TOPICS)
        return [labels.get(t, t) for t in self.topics]


class Acknowledgement(models.Model):
    """A staff member has read and acknowledged a policy version."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="acknowledgements")
    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="acknowledgements")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="acknowledgement_unique")]

    def __str__(self):
        return f"{self.user} acknowledged {self.version}"


class AcknowledgementReminder(models.Model):
    """A reminder to acknowledge `version` was sent to `user` on `sent_on` (the first notice counts too).

    The row is inserted before the email is sent, and the unique key makes a second send on the
    same day impossible, whichever worker or beat run gets there second.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="reminders")
    sent_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_on"]
        constraints = [
            models.UniqueConstraint(fields=["user", "version", "sent_on"], name="ackreminder_once_a_day"),
        ]

    def __str__(self):
        return f"reminder to {self.user} for {self.version} on {self.sent_on}"
