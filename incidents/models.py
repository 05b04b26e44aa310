"""Incidents (reports of concern), their evidence, timeline, referrals, reviews and deadlines.

Every `choices` field has a CheckConstraint: choices alone do not constrain the database.
Writes go through incidents/services.py; who may see what is Incident.objects.visible_to(user).
"""

import functools
import threading
import uuid
from collections import OrderedDict

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import EmptyResultSet
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

from accounts.models import Membership, Role, School
from accounts.prepared import PreparedObjects
from policyhub.models import Clause, PolicyVersion

from . import access, references
from .choices import DSL_CATEGORIES, OPEN_STATUSES, Category, ReviewDecision, Status  # noqa: F401 (re-exported)
from .compiled_rule import compile_once


class Platform(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    X = "x", "X (Twitter)"
    INSTAGRAM = "instagram", "Instagram"
    TIKTOK = "tiktok", "TikTok"
    SNAPCHAT = "snapchat", "Snapchat"
    WHATSAPP = "whatsapp", "WhatsApp"
    YOUTUBE = "youtube", "YouTube"
    LINKEDIN = "linkedin", "LinkedIn"
    SCHOOL_ACCOUNT = "school_account", "A school account"
    OTHER = "other", "Other"


class Involved(models.TextChoices):
    STAFF = "staff", "A member of staff at this school"
    PUPIL = "pupil", "A pupil"
    PARENT = "parent", "A parent or carer"
    UNKNOWN = "unknown", "Someone unknown or outside the school"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class Route(models.TextChoices):
    ALLEGATION = "allegation", "Allegation (meets the harm threshold)"
    LOW_LEVEL = "low_level", "Low-level concern"
    BREACH = "breach", "Policy breach"
    NO_BREACH = "no_breach", "No breach"


class Outcome(models.TextChoices):
    NO_BREACH = "no_breach", "No breach"
    ADVICE = "advice", "Advice and guidance"
    CONTENT_REMOVAL = "content_removal", "Content removal requested"
    INFORMAL_ACTION = "informal_action", "Informal action"
    FORMAL_DISCIPLINARY = "formal_disciplinary", "Formal disciplinary procedure"
    VOLUNTEER_TERMINATED = "volunteer_terminated", "Volunteer's appointment ended"
    PARENT_ASKED = "parent_asked", "Parent asked to remove the post and invited to meet"
    COMPLAINTS_PROCEDURE = "complaints_procedure", "Complaints procedure"
    REPORTED_TO_PLATFORM = "reported_to_platform", "Content reported to the platform"
    # The platform took the content down: the case closes only once the removal is recorded
    # (incidents/takedowns.py; the close row's requirement in transitions.py).
    CONTENT_REMOVED = "content_removed", "Content removed by the platform"


# Outcomes that close a case without the board; every other outcome is a breach for governors.
# Content removed (a parent's post taken down) is no finding against a member of staff.
NON_BREACH_OUTCOMES = frozenset({Outcome.NO_BREACH, Outcome.ADVICE, Outcome.CONTENT_REMOVED})


class AllegationOutcome(models.TextChoices):
    SUBSTANTIATED = "substantiated", "Substantiated"
    FALSE = "false", "False"
    MALICIOUS = "malicious", "Malicious"
    UNSUBSTANTIATED = "unsubstantiated", "Unsubstantiated"
    UNFOUNDED = "unfounded", "Unfounded"


class ReferralKind(models.TextChoices):
    LADO = "lado", "LADO (local authority designated officer)"
    POLICE = "police", "Police"
    SOCIAL_CARE = "social_care", "Children's social care"
    DPO = "dpo", "Data-protection officer / local-authority data team"
    EMPLOYER = "employer", "Employer of a person outside the school"
    PROFESSIONAL_BODY = "professional_body", "Professional body"


class IncidentQuerySet(models.QuerySet):
    """Who sees which case (docs/specification.md §5). The rule lives in incidents/access.py, one
    row per relation; these are its entry points."""

    def visible_to(self, user):
        """The cases `user` may open. Every view fetches through this: anything else is a 404."""
        return access.matching(self, user, access.VISIBLE)

    def owned_by(self, user):
        """Cases this user is responsible for acting on (the triage queue), not merely reported."""
        return access.matching(self, user, access.OWNED)

    def under_review_for(self, user):
        """Cases this user sees as a governor (the governors' list and report)."""
        return access.matching(self, user, access.UNDER_REVIEW)

    def counted_for(self, user):
        """Cases that may be counted (never shown) for `user`: aggregate figures such as clause
        breach counts. Trust admins see their schools' figures; the subject is never counted."""
        return access.matching(self, user, access.COUNTED)

    def dpo_scope(self, user):
        """The records of the schools where `user` is data-protection officer (subject access,
        retention), never a case about `user`. Not for case pages: those go through visible_to."""
        return access.matching(self, user, access.DPO_SCOPE)

    def retention_scope(self, user):
        """The retention pages: the DPO's records, and the cases the user owns as a head."""
        return access.matching(self, user, access.RETENTION)

    def figures_for(self, user):
        """Cases counted in `user`'s reports (reporting/figures.py): counted_for, plus a governor's
        or chair's whole school. Counted only, never shown; never a case about `user`."""
        return access.matching(self, user, access.FIGURES)


class _BuiltRules(threading.local):
    """The access rules built in this thread, newest last (a few hundred; the oldest go first).

    Per thread: a built queryset's parts (its subqueries) are shared by the copies handed out, and
    the ORM does not promise that compiling them is safe from two threads at once."""

    SIZE = 512

    def __init__(self):
        self.rules: OrderedDict = OrderedDict()


_built_rules = _BuiltRules()


def _rule_code() -> list:
    """What the rule is built from besides the person: every name of incidents/access.py, and every
    attribute of the classes it defines (Viewer.at reads the roles)."""
    names = vars(access)
    parts = list(names.values())
    for value in names.values():
        if isinstance(value, type) and value.__module__ == access.__name__:
            parts.extend(vars(value).values())
    return parts


class IncidentManager(models.Manager.from_queryset(IncidentQuerySet)):
    """`Incident.objects.visible_to(user)` and the other entry points, from every case: in a request,
    the rule is built once per person, roles and entry point, kept for the requests that follow, and
    each use gets a copy (a new queryset). Building the rule was the costliest part of a signed-in
    page (docs/performance.md); what it is built from is all in the key, so nothing goes stale:

    - the person (pk; an inactive person matches nothing and is never kept);
    - their memberships as this request fetched them (accounts/middleware.py: a role granted or
      removed gives a new key at the next request);
    - the rule itself: every name of incidents/access.py, the attributes of its classes and the
      entry point's method (a changed relation, entry point, guard or Viewer.at gives a new key; the
      entry keeps those objects, so their ids cannot be reused while it exists).

    Outside a request (Celery, commands), through a related manager or another database: built
    every time, as before."""

    def _kept(self, entry_point: str, user):
        """(parts, built rule, memo) kept for this request's person, or None where nothing is kept."""
        of_request = getattr(user, "memberships_of_request", None)
        if (
            of_request is None
            or not user.is_active
            or type(self) is not IncidentManager
            or self._db is not None
            or self._hints
        ):
            return None
        parts = (getattr(IncidentQuerySet, entry_point), *_rule_code())
        key = (entry_point, user.pk, tuple(sorted((m.school_id, m.role) for m in of_request())), *map(id, parts))
        rules = _built_rules.rules
        kept = rules.get(key)
        if kept is None:
            kept = rules[key] = (parts, compile_once(getattr(self.get_queryset(), entry_point)(user)), {})
            if len(rules) > _built_rules.SIZE:
                rules.popitem(last=False)
        else:
            rules.move_to_end(key)
        return kept

    def _rule(self, entry_point: str, user):
        kept = self._kept(entry_point, user)
        if kept is None:
            return getattr(self.get_queryset(), entry_point)(user)
        return kept[1].all()

    def written_rule(self, entry_point: str, user) -> tuple[str, tuple]:
        """The SQL and parameters of the ids of the cases `entry_point` gives `user`: what the rule
        is, as a cache key (reporting/figures_cache.py). Written once per kept rule."""
        kept = self._kept(entry_point, user)
        memo = kept[2] if kept is not None else {}
        if "written" not in memo:
            try:
                sql, params = self._rule(entry_point, user).order_by().values("pk").query.sql_with_params()
            except EmptyResultSet:  # a rule that matches nothing, whatever the data (no SQL to write)
                sql, params = "", ()
            memo["written"] = (sql, tuple(params))
        return memo["written"]

    def visible_to(self, user):
        return self._rule("visible_to", user)

    # What the case page selects with the case.
    CASE_PAGE_RELATED = ("school", "reporter", "subject", "owner", "dsl")

    def visible_case(self, user, reference: str, *, annotations=None):
        """`visible_to(user).select_related(*CASE_PAGE_RELATED)` filtered to `reference`: the case, or
        None (not there, or not this person's to see). With a kept rule, its SQL is written once
        per rule and run with each reference (accounts.prepared.PreparedObjects): the case page's
        own query cost more to build than the lists under it. `annotations`: a function of the person
        giving annotations read with the case (the case page's GET: views._case_page_flags); a
        module's function, as it is part of the key the SQL is kept under."""

        def build(rule, ref):
            found = rule.select_related(*self.CASE_PAGE_RELATED).filter(reference=ref)
            return found.annotate(**annotations(user)) if annotations else found

        kept = self._kept("visible_to", user)
        if kept is None:
            found = list(build(self.visible_to(user), reference))
        else:
            rule, memo = kept[1], kept[2]
            key = ("case_page", annotations)
            if key not in memo:
                memo[key] = PreparedObjects(lambda ref: build(rule.all(), ref), 1, markers=("~reference~",))
            found = memo[key].objects(reference)
        return found[0] if found else None

    def owned_by(self, user):
        return self._rule("owned_by", user)

    def under_review_for(self, user):
        return self._rule("under_review_for", user)

    def counted_for(self, user):
        return self._rule("counted_for", user)

    def figures_for(self, user):
        return self._rule("figures_for", user)


@functools.cache
def _choice_labels(field) -> dict:
    """{value: label} of a field's fixed choices (`TextChoices` given at class definition), made once."""
    return dict(make_hashable(field.flatchoices))


class ChoiceLabels(models.Model):
    """`get_FOO_display()` from each field's choices made into a dict once, instead of on every call
    as Django does (make_hashable over every choice: the case page asks a dozen of them, about a
    twentieth of its time). Same answers: tests/incidents/test_choice_labels.py compares them with
    Django's for every choice of every field."""

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        return force_str(_choice_labels(field).get(make_hashable(value), value), strings_only=True)


class Incident(ChoiceLabels):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="incidents")
    # OAK-7KQ2-M9XD: random, never in sequence (incidents/references.py); the case's URLs use it too.
    reference = models.CharField(max_length=20, unique=True)
    # The reference a case had before random references (OAK-2026-0042): found by search, never shown.
    legacy_reference = models.CharField(max_length=20, blank=True, db_index=True)

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports")
    category = models.CharField(max_length=30, choices=Category.choices)
    platform = models.CharField(max_length=20, choices=Platform.choices)
    links = models.TextField(blank=True, help_text="One address per line.")
    happened_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField()
    involved = models.CharField(max_length=10, choices=Involved.choices)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The member of staff the concern is about, when there is one.",
    )
    involved_detail = models.CharField(max_length=300, blank=True)
    description = models.TextField()
    child_at_risk = models.BooleanField()

    # Routing, decided when the report is made (services.incident_report).
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    dsl = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Set when the case is routed to the chair because its subject holds the head role (at report
    # time or since: services.incident_reroute_for_roles). Never cleared: the chair keeps the case.
    # Visibility also reads the subject's roles live (about_a_head), so it never waits for this.
    subject_is_head = models.BooleanField(default=False)
    # The governors' review goes to the trust: no governor without a conflict remains to decide it
    # (services keep it in step; incidents/transitions.review_panel says who decides).
    review_by_trust = models.BooleanField(default=False)
    # The board upheld the case: a GovernorReview of it decides "uphold". Set when such a review is
    # saved (GovernorReview.save, GovernorReviewQuerySet.bulk_create), never cleared: a review is
    # never edited, and deleted only with its case. The governors' relation reads it (access.py).
    upheld = models.BooleanField(default=False, editable=False)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    received_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Copied from the pending response Deadline so lists sort and show it without a join.
    response_due_at = models.DateTimeField(null=True, blank=True)
    response_due_reason = models.TextField(blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    # Triage
    policy_version = models.ForeignKey(
        PolicyVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    clauses = models.ManyToManyField(Clause, blank=True, related_name="incidents")
    severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    route = models.CharField(max_length=12, choices=Route.choices, blank=True)
    harm_harmed_child = models.BooleanField(null=True)
    harm_offence = models.BooleanField(null=True)
    harm_risk_to_children = models.BooleanField(null=True)
    harm_unsuitable = models.BooleanField(null=True)
    harm_reason = models.TextField(blank=True)

    # Outcome
    outcome = models.CharField(max_length=30, choices=Outcome.choices, blank=True)
    outcome_reason = models.TextField(blank=True)
    # What the owner writes for governors when referring a breach: they see this, not the report.
    review_summary = models.TextField(blank=True)
    allegation_outcome = models.CharField(max_length=20, choices=AllegationOutcome.choices, blank=True)

    legal_hold = models.BooleanField(default=False)
    # Retention (dataprotection/retention.py): an allegation record is kept until the subject's normal
    # pension age, when the owner records it, or 10 years from the allegation, whichever is longer.
    subject_retirement_date = models.DateField(
        null=True,
        blank=True,
        help_text="The subject's normal pension age falls on this date (allegations only; optional).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Merged into another case (incidents/merging.py): kept as its own row with its own reporter,
    # text and evidence; `status_before_merge` is where an explicit split takes it back to.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_reports"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    status_before_merge = models.CharField(max_length=20, choices=Status.choices, blank=True)

    objects = IncidentManager()

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reference=""), name="incident_reference_present"),
            models.CheckConstraint(condition=Q(category__in=Category.values), name="incident_category_valid"),
            models.CheckConstraint(condition=Q(platform__in=Platform.values), name="incident_platform_valid"),
            models.CheckConstraint(condition=Q(involved__in=Involved.values), name="incident_involved_valid"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="incident_status_valid"),
            models.CheckConstraint(condition=Q(severity__in=["", *Severity.values]), name="incident_severity_valid"),
            models.CheckConstraint(condition=Q(route__in=["", *Route.values]), name="incident_route_valid"),
            models.CheckConstraint(condition=Q(outcome__in=["", *Outcome.values]), name="incident_outcome_valid"),
            models.CheckConstraint(
                condition=Q(allegation_outcome__in=["", *AllegationOutcome.values]),
                name="incident_allegation_outcome_valid",
            ),
            models.CheckConstraint(
                condition=Q(subject__isnull=True) | Q(involved="staff"), name="incident_subject_only_for_staff"
            ),
            # Merged exactly when it names its survivor, and never into itself.
            models.CheckConstraint(
                condition=(Q(status="merged") & Q(merged_into__isnull=False))
                | (~Q(status="merged") & Q(merged_into__isnull=True)),
                name="incident_merged_names_survivor",
            ),
            models.CheckConstraint(condition=~Q(merged_into=models.F("pk")), name="incident_not_merged_into_itself"),
        ]
        indexes = [
            # The triage queue: a school's open cases by due time.
            models.Index(fields=["school", "status", "response_due_at"], name="incident_queue"),
            # The triage queue and the home page's counts read a school's open cases only, never the
            # closed ones that make up most of a school's history (incidents/selectors.open_owned).
            models.Index(
                fields=["school", "response_due_at"], condition=~Q(status="closed"), name="incident_open_queue"
            ),
            # A merged report's owners are its survivor's (access.py, survivor_owner): the few merged
            # reports of a school, read apart from its history.
            models.Index(
                fields=["school", "merged_into"], condition=Q(merged_into__isnull=False), name="incident_merged"
            ),
            # "My reports" and the home page's newest reports: one person's, newest first.
            models.Index(fields=["reporter", "-received_at"], name="incident_reporter_received"),
            # The schools of one person's reports (reporting/stamps.person_stamp), probed one by one.
            models.Index(fields=["reporter", "school"], name="incident_reporter_school"),
            # The allegation figures of the termly report (incidents/allegations.termly_figures) read a
            # school's allegation cases only: a few among its history.
            models.Index(
                fields=["school", "received_at"], condition=Q(route="allegation"), name="incident_allegations"
            ),
            # The governors' pack and the trust view count a school's cases received in a term
            # (reporting/figures.py): the term's rows, not the school's whole history.
            models.Index(fields=["school", "received_at"], name="incident_school_received"),
            # The governors' list and its count (access.py, governor): a school's cases in review and
            # its upheld closed cases, a few among its history.
            models.Index(
                fields=["school"],
                condition=Q(status="governor_review") | Q(status="closed", upheld=True),
                name="incident_governors",
            ),
        ]

    def __str__(self):
        return self.reference

    def save(self, *args, **kwargs):
        # services.incident_report allocates (and retries on a collision); this covers rows made
        # directly (admin, tests, data fixes), which must never fall back to a counter.
        if not self.reference:
            self.reference = references.new_reference(self.school.code)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("incidents:detail", args=[self.reference])

    @property
    def harm_threshold_met(self) -> bool:
        return any([self.harm_harmed_child, self.harm_offence, self.harm_risk_to_children, self.harm_unsuitable])

    @property
    def needs_dsl(self) -> bool:
        return self.category in DSL_CATEGORIES or self.child_at_risk

    def is_about_a_head(self) -> bool:
        """Python's reading of `access.about_a_head` for this case (one query unless the flag is set)."""
        if self.subject_is_head:
            return True
        if self.subject_id is None:
            return False
        return Membership.objects.filter(user_id=self.subject_id, school_id=self.school_id, role=Role.HEAD).exists()


class CaseLink(models.Model):
    """Two cases of one school marked as related by their owner (incidents/merging.py). Symmetric:
    one row per pair, the lower id first. Unlinking deletes the row; the timelines and the audit
    trail keep both events."""

    first = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="caselink_unique_pair"),
            models.CheckConstraint(condition=Q(first__lt=models.F("second")), name="caselink_ordered_pair"),
        ]

    def __str__(self):
        return f"link {self.first_id}-{self.second_id}"


class Evidence(models.Model):
    """A file attached to a report. Stored under a random name outside any public URL; never deleted
    by the workflow (a wrong file is withdrawn, with a reason)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="evidence")
    # The file's name in URLs: random, so file links neither count nor date other cases' files.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    original_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=100, unique=True)
    preview_name = models.CharField(max_length=100, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    captured_at = models.DateTimeField(null=True, blank=True)
    captured_url = models.URLField(max_length=2000, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return f"evidence {self.public_id}"


class TimelineKind(models.TextChoices):
    REPORTED = "reported", "Reported"
    TRANSITION = "transition", "Status changed"
    TRIAGED = "triaged", "Triaged"
    NOTE = "note", "Note"
    REFERRAL = "referral", "Referral recorded"
    EVIDENCE_ADDED = "evidence_added", "Evidence added"
    EVIDENCE_WITHDRAWN = "evidence_withdrawn", "Evidence withdrawn"
    REVIEW = "review", "Governor review decision"
    REMINDER = "reminder", "Reminder sent"
    OVERDUE = "overdue", "Response overdue"
    ESCALATED = "escalated", "Escalated"
    CORRECTION = "correction", "Correction"
    ROUTED = "routed", "Routed"
    CONFLICT = "conflict", "Conflict of interest declared"
    # Case work ([8]): each part writes its own kind.
    TASK = "task", "Task"
    LINK = "link", "Reports linked"
    MERGE = "merge", "Reports merged"
    SPLIT = "split", "Reports split"
    MESSAGE = "message", "Message"
    TAKEDOWN = "takedown", "Take-down"
    CLOCK = "clock", "Clock started or stopped"
    CASE_FILE = "case_file", "Case file downloaded"
    WHAT_WE_DID = "what_we_did", "What we did"


class TimelineEntry(models.Model):
    """Append-only history of a case. Nothing is edited or deleted; corrections are new entries."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=TimelineKind.choices)
    # Set on TRANSITION entries only; the choices give the page its labels ("Submitted → In triage").
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    note = models.TextField(blank=True)
    # Internal entries (notes, triage detail) are never shown to the reporter.
    internal = models.BooleanField(default=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name_plural = "timeline entries"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=TimelineKind.values), name="timeline_kind_valid"),
            models.CheckConstraint(
                condition=Q(from_status__in=["", *Status.values]), name="timeline_from_status_valid"
            ),
            models.CheckConstraint(condition=Q(to_status__in=["", *Status.values]), name="timeline_to_status_valid"),
        ]

    def __str__(self):
        return f"{self.incident_id} {self.kind} at {self.at:%Y-%m-%d %H:%M}"


class Referral(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="referrals")
    kind = models.CharField(max_length=20, choices=ReferralKind.choices)
    made_on = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["made_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=ReferralKind.values), name="referral_kind_valid")]

    def __str__(self):
        return f"{self.get_kind_display()} referral on {self.made_on}"


def _mark_upheld(reviews) -> None:
    """Keep Incident.upheld in step with the reviews just saved: an upholding review sets it (one
    UPDATE, none when the case is already marked), on the row and on the case the review holds."""
    upheld = [r for r in reviews if r.decision == ReviewDecision.UPHOLD]
    if not upheld:
        return
    Incident.objects.filter(pk__in={r.incident_id for r in upheld}, upheld=False).update(upheld=True)
    for review in upheld:
        if GovernorReview.incident.is_cached(review):
            review.incident.upheld = True


class GovernorReviewQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        with transaction.atomic():
            made = super().bulk_create(objs, *args, **kwargs)
            _mark_upheld(made)
        return made


class GovernorReview(models.Model):
    """A board decision on a case (services.incident_governor_decide). Never edited: a new decision
    is a new review. Saving one that upholds marks its case upheld (Incident.upheld)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="governor_reviews")
    decision = models.CharField(max_length=12, choices=ReviewDecision.choices)
    comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    objects = GovernorReviewQuerySet.as_manager()

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(decision__in=ReviewDecision.values), name="review_decision_valid")
        ]
        indexes = [
            # The governors' pack: a term's upheld decisions, by date (reporting/pack.upheld_page).
            models.Index(fields=["decided_at"], condition=Q(decision="uphold"), name="review_upheld_by_date"),
            # The pack's and the trust view's board decisions of a term, upheld or not (reporting/figures.py).
            models.Index(fields=["decided_at"], name="review_decided_at"),
        ]

    def __str__(self):
        return f"{self.get_decision_display()} by {self.decided_by_id} at {self.decided_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        with transaction.atomic():
            super().save(*args, **kwargs)
            _mark_upheld([self])


# --- Deadlines: the database is the source of truth; Celery delivers -------------------------------


class DeadlineKind(models.TextChoices):
    RESPONSE = "response", "First response"
    REMINDER = "reminder", "Reminder before the response deadline"
    LADO = "lado", "LADO referral within one working day"
    GOVERNOR_REVIEW = "governor_review", "Governor review"
    # Case work ([8])
    TASK_DUE = "task_due", "Task due"
    TASK_REMINDER = "task_reminder", "Reminder before a task is due"
    TAKEDOWN_FOLLOW_UP = "takedown_follow_up", "Take-down follow-up"
    INVESTIGATION_REPORT = "investigation_report", "Investigation report (allegation)"
    FORMAL_ACTION_DECISION = "formal_action", "Decision on formal action (allegation)"
    HEARING = "hearing", "Disciplinary hearing (allegation)"
    # Obligations that are not cases ([10], [9]): the deadline names its object through `target`.
    REQUEST_DECISION = "request_decision", "Decision on a request"
    ACCOUNT_REVIEW = "account_review", "Official account review"
    APPROVAL_EXPIRY = "approval_expiry", "Approval expires"
    DECLARATION_RECONFIRM = "declaration_reconfirm", "Declaration re-confirmation"
    TRAINING_EXPIRY = "training_expiry", "Training expires"
    ADVICE_ANSWER = "advice_answer", "Answer to an advice request"
    POLICY_REVIEW = "policy_review", "Policy review"


class DeadlineState(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done (met in time)"
    FIRED = "fired", "Fired"
    CANCELLED = "cancelled", "Cancelled"


class Deadline(models.Model):
    """One clock. A changed deadline cancels the pending row and adds a new one with the next
    generation, so a stale timer can never fire (incidents/clocks.py).

    A case's clock names its `incident`; a clock on something that is not a case (an official
    account's review, a training record's expiry, a policy's review date) names it through `target`."""

    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines")
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    kind = models.CharField(max_length=30, choices=DeadlineKind.choices)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=DeadlineState.choices, default=DeadlineState.PENDING)
    generation = models.PositiveIntegerField(default=1)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DeadlineKind.values), name="deadline_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=DeadlineState.values), name="deadline_state_valid"),
        ]
        indexes = [
            # Serves the sweep's "due and pending" and nothing else: its size follows the pending rows.
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="deadline_due_pending"),
            models.Index(fields=["target_type", "target_id"], name="deadline_target"),
        ]

    def __str__(self):
        return f"{self.kind} due {self.due_at:%Y-%m-%d %H:%M} ({self.state})"


# Notifications about no case (policyhub/emails.py); every other kind is about a case and names it.
CASELESS_NOTIFICATION_KINDS = ["policy_ack_reminder"]


class Notification(models.Model):
    """One email to one person: every email PolicyHub sends is a row here (incidents/notify.py).

    The unique key makes every effect idempotent: a retried task finds the row and does not send
    again. Content-free: a reference, a category and a link."""

    key = models.CharField(max_length=200, unique=True)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    deadline = models.ForeignKey(Deadline, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # A message about something that is not a case (an official account, a declaration) names it here.
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    kind = models.CharField(max_length=30)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Counted in a committed transaction before each send (incidents/notify.py), so failures are on record.
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # Not tried again before this: the sending worker's lease while in flight, the retry time after a failure.
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # Only messages about no case may lack one: a case message without its case cannot be built.
            # Messages about another object (`target`) name that instead.
            models.CheckConstraint(
                condition=Q(incident__isnull=False)
                | Q(target_type__isnull=False, target_id__isnull=False)
                | Q(kind__in=CASELESS_NOTIFICATION_KINDS),
                name="notification_case_message_has_incident",
            ),
        ]
        indexes = [
            # Serves the outbox: messages not yet sent.
            models.Index(fields=["created_at"], condition=Q(sent_at__isnull=True), name="notification_unsent"),
        ]

    def __str__(self):
        return self.key

    @property
    def message_id(self) -> str:
        """Fixed per notification, so a resent email is recognisably the same message; a keyed hash
        of the row, not its number, so the ids in someone's mailbox do not count other people's."""
        digest = salted_hmac("incidents.Notification.message_id", str(self.pk), algorithm="sha256").hexdigest()
        return f"<notification-{digest[:32]}@policyhub>"


# --- The response rule as data (docs/specification.md §4) --------------------------------------------


class ResponsePolicy(models.Model):
    """A school's first-response rule. Changing it affects deadlines computed afterwards only."""

    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="response_policy")
    window_hours = models.PositiveSmallIntegerField(default=24)
    reminder_minutes = models.JSONField(
        default=list, blank=True, help_text="Remind the owner this many minutes before the deadline, e.g. [240, 60]."
    )
    clause = models.ForeignKey(
        Clause,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The policy clause this rule implements, where there is one.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "response policies"
        constraints = [models.CheckConstraint(condition=Q(window_hours__gte=1), name="responsepolicy_window_positive")]

    def __str__(self):
        return f"{self.school}: {self.window_hours} hours"


class CategoryWindow(models.Model):
    """A tighter window for one category, e.g. safeguarding: 60 minutes, counted every day."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="category_windows")
    category = models.CharField(max_length=30, choices=Category.choices)
    window_minutes = models.PositiveIntegerField()
    working_days_only = models.BooleanField(
        default=False, help_text="Off: the window runs through weekends and holidays (a child at risk cannot wait)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "category"], name="categorywindow_unique"),
            models.CheckConstraint(condition=Q(category__in=Category.values), name="categorywindow_category_valid"),
            models.CheckConstraint(condition=Q(window_minutes__gte=1), name="categorywindow_window_positive"),
        ]

    def __str__(self):
        return f"{self.school}: {self.category} within {self.window_minutes} minutes"


class SchoolClosure(models.Model):
    """A day the school is closed (INSET day, snow day) or an extra bank holiday: not a working day."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField()
    label = models.CharField(max_length=100, default="INSET day")

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["school", "date"], name="schoolclosure_unique_day")]

    def __str__(self):
        return f"{self.school}: {self.date} {self.label}"


# --- Tasks on a case ([8] item 1; services in incidents/assignments.py, docs/tasks.md) -------------


class TaskState(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Task(models.Model):
    """A piece of the case's work the owner gives to a named person at the case's school. While it
    is open its assignee sees the case through a limited page (access.py, the `assignee` row); its
    due date is a pair of deadlines (TASK_REMINDER, TASK_DUE) naming it in `Deadline.data`."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tasks")
    # The task's name in forms and pages: random, so it does not count other cases' tasks.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    due_on = models.DateField()
    # Close of business on `due_on` at the school (the working-day calendar's day end).
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # What was done (completed) or why it is no longer needed (cancelled).
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=TaskState.values), name="task_state_valid"),
            models.CheckConstraint(condition=~Q(title=""), name="task_title_present"),
            models.CheckConstraint(
                condition=Q(state="open", closed_at__isnull=True) | (~Q(state="open") & Q(closed_at__isnull=False)),
                name="task_closed_when_not_open",
            ),
        ]
        indexes = [
            # "Your tasks" and the assignee's relation: one person's open tasks.
            models.Index(fields=["assignee", "due_at"], condition=Q(state="open"), name="task_open_by_assignee"),
        ]

    def __str__(self):
        return f"task {self.public_id} ({self.state})"


# --- The reporter's channel ([8] item 3): messages between a case's reporter and its owners ----------


class MessageKind(models.TextChoices):
    TO_REPORTER = "to_reporter", "To the reporter"
    TO_OWNER = "to_owner", "From the reporter"
    WHAT_WE_DID = "what_we_did", "What we did"


# The longest message, in characters (incidents/reporter_channel.py and its form say so to the writer).
MESSAGE_MAX_LENGTH = 2000


class CaseMessage(models.Model):
    """One message on a case between its reporter and its owners (incidents/reporter_channel.py).

    Never edited or deleted (a correction is another message). `reporter` is the person the thread
    is with, recorded on every message: the reporter's page reads `reporter=user` on the case, so a
    message is never shown to anyone but the reporter it was written with or for, even if a case
    later gathers other reports (merged reports keep their own case and reporter)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="messages")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    body = models.TextField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MessageKind.values), name="casemessage_kind_valid"),
            models.CheckConstraint(condition=~Q(body=""), name="casemessage_body_present"),
        ]
        indexes = [models.Index(fields=["incident", "reporter", "sent_at"], name="casemessage_thread")]

    def __str__(self):
        return f"{self.kind} on {self.incident_id} at {self.sent_at:%Y-%m-%d %H:%M}"


# --- Platform take-downs ([8] item 4; services in incidents/takedowns.py) -------------------------


class TakedownStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    REMOVED = "removed", "Removed"
    REFUSED = "refused", "Refused by the platform"
    # Set by the follow-up deadline when it fires with the request still unanswered (clocks.py).
    NO_RESPONSE = "no_response", "No response from the platform"


class EscalationRoute(models.TextChoices):
    POSH = "posh", "Professionals Online Safety Helpline (POSH)"
    RHC = "rhc", "Report Harmful Content"
    OTHER = "other", "Other"


class TakedownRequest(models.Model):
    """A request to a platform to remove content about a case. Never deleted by the workflow:
    its status moves on (removed, refused, no response) and escalation steps are added."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="takedowns")
    # The request's name in forms: random, so a form's values do not count other schools' requests.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    platform = models.CharField(max_length=20, choices=Platform.choices)
    url = models.URLField(max_length=2000)
    requested_on = models.DateField()
    platform_reference = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=TakedownStatus.choices, default=TakedownStatus.REQUESTED)
    # When the platform acted (removed or refused), as the owner recorded it.
    outcome_on = models.DateField(null=True, blank=True)
    outcome_note = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["requested_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(platform__in=Platform.values), name="takedown_platform_valid"),
            models.CheckConstraint(condition=Q(status__in=TakedownStatus.values), name="takedown_status_valid"),
            models.CheckConstraint(condition=~Q(url=""), name="takedown_url_present"),
            # Removed or refused carries the day the platform acted; the other states carry none.
            models.CheckConstraint(
                condition=Q(status__in=["removed", "refused"], outcome_on__isnull=False)
                | Q(status__in=["requested", "no_response"], outcome_on__isnull=True),
                name="takedown_outcome_date_with_outcome",
            ),
        ]

    def __str__(self):
        return f"take-down {self.public_id} ({self.status})"


class TakedownStep(models.Model):
    """One escalation of a take-down request (POSH, Report Harmful Content, other), with its date.
    Names its case too, so the audit trail's triggers file its row changes under the case."""

    takedown = models.ForeignKey(TakedownRequest, on_delete=models.CASCADE, related_name="steps")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    route = models.CharField(max_length=10, choices=EscalationRoute.choices)
    taken_on = models.DateField()
    reference = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(route__in=EscalationRoute.values), name="takedownstep_route_valid"),
        ]

    def __str__(self):
        return f"{self.get_route_display()} on {self.taken_on}"
