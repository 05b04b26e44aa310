"""Official school accounts, authorisation requests and the do-not-publish list ([10] items 1-2).

Who may see each object is decided in approvals/access.py; every write goes through
approvals/services.py (one transaction, conditional updates). Minimum data: the do-not-publish
list holds a pupil's name, class and flags, nothing more.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import School

USER = settings.AUTH_USER_MODEL


class Approver(models.Model):
    """Someone the head named to decide requests at the school, besides the heads themselves."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    named_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    named_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["school_id", "user__full_name"]
        constraints = [models.UniqueConstraint(fields=["school", "user"], name="approver_unique")]

    def __str__(self):
        return f"{self.user} approves at {self.school}"


class AccountStatus(models.TextChoices):
    REQUESTED = "requested", "Waiting for a decision"
    REFUSED = "refused", "Refused"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class OfficialAccount(models.Model):
    """A social-media account run on the school's behalf: a request until decided, then the register."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=60)
    name = models.CharField("account name or handle", max_length=120)
    purpose = models.TextField(max_length=2000)
    audience = models.CharField(max_length=200)
    moderation_plan = models.TextField(max_length=2000)
    status = models.CharField(max_length=10, choices=AccountStatus.choices, default=AccountStatus.REQUESTED)
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, max_length=2000)
    review_due = models.DateField(null=True, blank=True)
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    close_reason = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["school_id", "platform", "name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=AccountStatus.values), name="officialaccount_status_valid"),
            # An account on the register has a decision; a closed one says when.
            models.CheckConstraint(
                condition=Q(status=AccountStatus.REQUESTED) | Q(decided_at__isnull=False),
                name="officialaccount_decided",
            ),
            models.CheckConstraint(
                condition=~Q(status=AccountStatus.CLOSED) | Q(closed_at__isnull=False),
                name="officialaccount_closed_at",
            ),
        ]

    def __str__(self):
        return f"{self.platform}: {self.name}"

    @property
    def label(self) -> str:
        return f"Official account #{self.pk}"


class AccountAdministrator(models.Model):
    """A named person who runs an official account. Ending it keeps the row (the register's history)."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="administrators")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["account_id", "user__full_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "user"],
                condition=Q(ended_at__isnull=True),
                name="accountadministrator_unique_active",
            )
        ]

    def __str__(self):
        return f"{self.user} runs {self.account_id}"


class AdministratorVacancy(models.Model):
    """An administrator left the school: the head is asked to name a replacement (a task on the register)."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="vacancies")
    # Users are never deleted (accounts are deactivated); no constraint, so a deletion cannot be blocked.
    left_user = models.ForeignKey(USER, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    filled_at = models.DateTimeField(null=True, blank=True)
    filled_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    replacement = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "left_user"], condition=Q(filled_at__isnull=True), name="vacancy_unique_open"
            )
        ]

    def __str__(self):
        return f"Replacement needed for official account #{self.account_id}"


class AuthorisationKind(models.Model):
    """What a request asks permission for (seeded; more can be added in the admin)."""

    slug = models.SlugField(unique=True)
    label = models.CharField(max_length=120)
    # Posting images of pupils: the approver records that consent was checked against the list.
    consent_check = models.BooleanField(default=False)
    # Posting on an official account: the request names the account.
    names_account = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "label"]

    def __str__(self):
        return self.label


class AuthorisationStatus(models.TextChoices):
    REQUESTED = "requested", "Waiting for a decision"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"
    EXPIRED = "expired", "Expired"


class AuthorisationRequest(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    kind = models.ForeignKey(AuthorisationKind, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(OfficialAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    details = models.TextField(max_length=2000)
    images_of_pupils = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=AuthorisationStatus.choices, default=AuthorisationStatus.REQUESTED)
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, max_length=2000)
    conditions = models.TextField(blank=True, max_length=2000)
    expires_on = models.DateField(null=True, blank=True)
    consent_checked_at = models.DateTimeField(null=True, blank=True)
    consent_checked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AuthorisationStatus.values), name="authorisationrequest_status_valid"
            ),
            # Images of pupils are never approved without the consent check on record.
            models.CheckConstraint(
                condition=~Q(status=AuthorisationStatus.APPROVED, images_of_pupils=True)
                | Q(consent_checked_at__isnull=False),
                name="authorisationrequest_consent_checked",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return f"Authorisation request #{self.pk}"


class PublishFlag(models.TextChoices):
    NO_IMAGES = "no_images", "No photographs or video"
    NO_NAME = "no_name", "Never named with an image"
    NO_SOCIAL = "no_social", "Not on social media (school website only)"


class DoNotPublishEntry(models.Model):
    """One pupil whose image must not be published. Minimum data: name, class, flags."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    class_name = models.CharField("class", max_length=40)
    flags = models.JSONField(default=list, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["school_id", "class_name", "name", "pk"]
        verbose_name_plural = "do-not-publish entries"

    def __str__(self):
        return f"Do-not-publish entry #{self.pk}"

    def flag_labels(self) -> list[str]:
        return [PublishFlag(f).label for f in self.flags if f in PublishFlag.values]


class AccountConcern(models.Model):
    """A case about an official account: the link lives here so that Incident stays as it is."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="concerns")
    linked_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "account"], name="accountconcern_unique")]

    def __str__(self):
        return f"Case {self.incident_id} about official account #{self.account_id}"
