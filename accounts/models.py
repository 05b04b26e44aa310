from datetime import time

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTransform
from django.utils import timezone


class Nation(models.TextChoices):
    ENGLAND = "england", "England"
    WALES = "wales", "Wales"
    SCOTLAND = "scotland", "Scotland"
    NORTHERN_IRELAND = "northern_ireland", "Northern Ireland"


class Role(models.TextChoices):
    STAFF = "staff", "Staff"
    HEAD = "head", "Head teacher"
    DSL = "dsl", "Designated safeguarding lead"
    GOVERNOR = "governor", "Governor"
    CHAIR = "chair", "Chair of governors"
    TRUST_ADMIN = "trust_admin", "Trust admin"
    DPO = "dpo", "Data-protection officer"
    # The other people the policy covers ([10]): they acknowledge it and can report, as staff do.
    VOLUNTEER = "volunteer", "Volunteer"
    AGENCY_STAFF = "agency_staff", "Agency staff"
    CONTRACT_STAFF = "contract_staff", "Contract staff"


# Everyone who works at a school under its policy: they must acknowledge the policy in force.
# (A head or DSL acknowledges as a member of staff: they hold the staff role too.)
ACKNOWLEDGING_ROLES = frozenset({Role.STAFF, Role.VOLUNTEER, Role.AGENCY_STAFF, Role.CONTRACT_STAFF})
# Who may report a concern at a school: the workforce, the heads and DSLs, and its governors.
REPORTING_ROLES = ACKNOWLEDGING_ROLES | {Role.HEAD, Role.DSL, Role.GOVERNOR, Role.CHAIR}


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address. Roles live on Membership, per school."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    # Django's flag for the admin site, not the "staff" role of a school.
    is_staff = models.BooleanField("admin site access", default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Trust(models.Model):
    """A multi-academy trust (or a local authority) that groups schools."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class School(models.Model):
    trust = models.ForeignKey(Trust, null=True, blank=True, on_delete=models.PROTECT, related_name="schools")
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    code = models.CharField(
        max_length=5,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2,5}$", "Use 2 to 5 capital letters, e.g. OAK.")],
        help_text="Short code that starts case references, e.g. OAK-2026-0042.",
    )
    urn = models.CharField(
        "URN",
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^\d{6,8}$", "A unique reference number is 6 to 8 digits.")],
    )
    nation = models.CharField(max_length=20, choices=Nation.choices, default=Nation.ENGLAND)
    close_of_business = models.TimeField(default=time(17, 0))
    time_zone = models.CharField(max_length=40, choices=[("Europe/London", "Europe/London")], default="Europe/London")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(nation__in=Nation.values), name="school_nation_valid"),
            models.CheckConstraint(condition=Q(time_zone="Europe/London"), name="school_time_zone_valid"),
        ]

    def __str__(self):
        return self.name


class MembershipQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user, user__is_active=True).select_related("school", "school__trust")


class Membership(models.Model):
    """One role a user holds at one school. A user may hold several roles in several schools."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when a single sign-on provider's group mapping granted the role (accounts/sso.py): the role
    # then lasts only while the person's token carries a mapped group. Roles given in PolicyHub
    # (null) are never removed by a sign-on. If the provider is deleted, its grants stay as given.
    granted_by = models.ForeignKey(
        "SingleSignOnProvider", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["school__name", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "school", "role"], name="membership_unique_role"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} at {self.school}"


# --- The audit trail -----------------------------------------------------------------------------


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    DOWNLOAD = "download", "Downloaded"
    REFUSED = "refused", "Refused"
    CREATE = "create", "Created"
    CHANGE = "change", "Changed"
    DELETE = "delete", "Deleted"
    EXPORT = "export", "Exported"
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGN_OUT = "sign_out", "Signed out"
    ROLE_CHANGE = "role_change", "Role changed"
    DB_CHANGE = "db_change", "Row changed in the database"


class AuditEvent(models.Model):
    """Append-only: who did what, to which object, when, from where. Never pruned by count.

    No content: objects are named by type, id and a non-identifying reference (e.g. OAK-2026-0042).
    Database triggers make UPDATE and DELETE fail on PostgreSQL; the hash chain in AuditSeal
    shows any change made around them (accounts/audit.py).
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False)
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_ref = models.CharField(max_length=50, blank=True)
    school_id = models.BigIntegerField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # A case's access history: its events newest first.
            models.Index(fields=["object_type", "object_id", "-id"], name="audit_object"),
            # The trust's log filtered by school.
            models.Index(fields=["school_id", "-id"], name="audit_school"),
            # The events naming a case in detail["incident"] (accounts/audit_cases.py): a case's
            # access history, and the events the log leaves out for the case's subject.
            models.Index(KeyTransform("incident", "detail"), name="audit_incident"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_email or 'system'} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")


class AuditSeal(models.Model):
    """The hash chain over AuditEvent, in id order: hash = sha256(previous hash + the event)."""

    event = models.OneToOneField(AuditEvent, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["event_id"]

    def __str__(self):
        return f"seal {self.event_id} {self.hash[:12]}"


# --- Sign-in links -------------------------------------------------------------------------------


class SignInLink(models.Model):
    """A one-time link emailed to a person whose sign-in is refused (accounts/sign_in_link.py).

    Only a hash of the secret in the link is kept. Using it lets one browser past the sign-in
    limits for a few password tries; it never signs anyone in by itself.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    # Binds the link to the account as it was: a new password or a sign-in since makes it void.
    account_state = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="signinlink_user_recent")]

    def __str__(self):
        return f"sign-in link {self.pk} for user {self.user_id}"


# --- Single sign-on (OpenID Connect) -------------------------------------------------------------


class ProviderKind(models.TextChoices):
    ENTRA = "entra", "Microsoft Entra ID (Microsoft 365)"
    GOOGLE = "google", "Google Workspace"
    OIDC = "oidc", "Other OpenID Connect provider"


class SingleSignOnProviderQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Providers of the trusts where `user` is a trust admin: only they may see or change them."""
        trusts = Membership.objects.for_user(user).filter(role=Role.TRUST_ADMIN).values("school__trust")
        return self.filter(trust__in=trusts)


class SingleSignOnProvider(models.Model):
    """A trust's OpenID Connect provider (accounts.sso). The client secret is never stored in clear:
    either the name of an environment variable, or encrypted with SSO_SECRET_KEY (accounts.sso)."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="sso_providers")
    slug = models.SlugField(unique=True, help_text="Names the provider in its sign-in address.")
    label = models.CharField(max_length=80, help_text='On the sign-in button, e.g. "Riverside Microsoft 365".')
    kind = models.CharField(max_length=10, choices=ProviderKind.choices)
    is_active = models.BooleanField(default=True)
    tenant_id = models.CharField(
        "Entra tenant id", max_length=36, blank=True, help_text="Directory (tenant) id, a GUID. Entra only."
    )
    hosted_domain = models.CharField(
        "Google hosted domain", max_length=253, blank=True, help_text="The Workspace primary domain. Google only."
    )
    issuer = models.URLField(blank=True, help_text="Filled in for Entra and Google; the issuer URL otherwise.")
    authorization_endpoint = models.URLField(blank=True)
    token_endpoint = models.URLField(blank=True)
    jwks_uri = models.URLField("JWKS URI", blank=True)
    client_id = models.CharField(max_length=255)
    client_secret_env = models.CharField(
        "client secret environment variable",
        max_length=100,
        blank=True,
        validators=[RegexValidator(r"^SSO_[A-Z0-9_]+$", "A variable name starting SSO_, e.g. SSO_RIVERSIDE_SECRET.")],
    )
    client_secret_encrypted = models.TextField(blank=True, editable=False)
    allowed_domains = models.CharField(
        max_length=500, help_text="Email domains this provider may sign in, separated by commas."
    )
    create_staff_at = models.ForeignKey(
        School,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="If set, someone unknown to PolicyHub is added here as staff on first sign-in.",
    )
    trust_provider_mfa = models.BooleanField(
        default=False,
        help_text="Privileged roles skip PolicyHub's authenticator code when the provider says it used MFA.",
    )
    password_sign_in = models.BooleanField(
        default=True, help_text="Off: members of this trust's schools can sign in only with this provider."
    )
    break_glass_user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The trust admin who may still sign in with a password when password sign-in is off.",
    )

    objects = SingleSignOnProviderQuerySet.as_manager()

    class Meta:
        ordering = ["trust__name", "label"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ProviderKind.values), name="sso_provider_kind_valid"),
        ]

    def __str__(self):
        return self.label

    def domains(self) -> set[str]:
        return {d.strip().lower() for d in self.allowed_domains.split(",") if d.strip()}


class SingleSignOnGroupRole(models.Model):
    """An explicit mapping from a provider group (its id as the ID token's `groups` claim carries it)
    to a role at one of the trust's schools. Without one, no role ever comes from the provider."""

    provider = models.ForeignKey(SingleSignOnProvider, on_delete=models.CASCADE, related_name="group_roles")
    group = models.CharField(max_length=255)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        ordering = ["provider", "group", "school", "role"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "group", "school", "role"], name="sso_group_role_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="sso_group_role_valid"),
        ]

    def __str__(self):
        return f"{self.group} → {self.get_role_display()} at {self.school}"
