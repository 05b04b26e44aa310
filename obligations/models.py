"""Declarations, training records and advice requests ([10] items 3–5).

Each is about one person at one school. Who may see one is in obligations/access.py; the writes are
in obligations/services.py; their deadlines are incidents.Deadline rows naming them as `target`."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import School
from policyhub.models import Clause


class DeclarationKind(models.TextChoices):
    FAMILY = "family", "A family relationship with a pupil"
    CONNECTION = "connection", "An online connection with a pupil, a former pupil under 18 or a parent"
    APPROACH = "approach", "A pupil approached me online"
    BUSINESS = "business", "A second job or business with a social-media presence"


# Declarations about pupils: the designated safeguarding lead may acknowledge them as well as the head.
PUPIL_KINDS = frozenset({DeclarationKind.CONNECTION, DeclarationKind.APPROACH})


class DeclarationStatus(models.TextChoices):
    AWAITING = "awaiting", "Awaiting acknowledgement"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    WITHDRAWN = "withdrawn", "No longer applies"


class Declaration(models.Model):
    # Addresses use a random id, not the row number, so they do not count other people's declarations.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="declarations")
    declarer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="declarations")
    kind = models.CharField(max_length=20, choices=DeclarationKind.choices)
    details = models.TextField()
    # For an approach by a pupil: what the member of staff did (the rejection), kept as the record.
    response = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=DeclarationStatus.choices, default=DeclarationStatus.AWAITING)
    declared_at = models.DateTimeField()
    # Re-confirmed yearly: the last time the declarer said it still stands (declared_at at first).
    confirmed_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.TextField(blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-declared_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DeclarationKind.values), name="declaration_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=DeclarationStatus.values), name="declaration_status_valid"),
        ]
        indexes = [models.Index(fields=["school", "status"], name="declaration_school_status")]

    def __str__(self):
        return f"declaration {self.pk}"

    @property
    def reference(self) -> str:
        return f"D-{str(self.public_id)[:8].upper()}"


class TrainingTopic(models.TextChoices):
    POLICY = "policy", "Staff social-media policy"
    ONLINE_SAFETY = "online_safety", "Online safety"
    SAFEGUARDING = "safeguarding", "Safeguarding and child protection"


class TrainingRecord(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="training_records")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_records")
    topic = models.CharField(max_length=20, choices=TrainingTopic.choices)
    completed_on = models.DateField()
    provider = models.CharField(max_length=200)
    expires_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(topic__in=TrainingTopic.values), name="training_topic_valid"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=models.F("completed_on")),
                name="training_expires_after_completion",
            ),
        ]
        indexes = [models.Index(fields=["school", "topic", "person"], name="training_school_topic")]

    def __str__(self):
        return f"training {self.pk}"


class AdviceStatus(models.TextChoices):
    OPEN = "open", "Waiting for an answer"
    ANSWERED = "answered", "Answered"
    WITHDRAWN = "withdrawn", "Withdrawn"


class AdviceRequest(models.Model):
    """ "Is it all right to post this?" A question to the head, answered with the clauses that apply;
    the head may publish it, reworded so it names nobody, as a question and answer on those clauses."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="advice_requests")
    asker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="advice_requests")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    question = models.TextField()
    draft = models.TextField(blank=True)  # the post they would like to make, if any
    status = models.CharField(max_length=20, choices=AdviceStatus.choices, default=AdviceStatus.OPEN)
    asked_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    clauses = models.ManyToManyField(Clause, blank=True, related_name="advice")
    # The published, anonymised version (the asker's words are never published as they are).
    faq_question = models.TextField(blank=True)
    faq_answer = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-asked_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=AdviceStatus.values), name="advice_status_valid"),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | (~Q(faq_question="") & ~Q(faq_answer="")),
                name="advice_published_has_text",
            ),
        ]
        indexes = [models.Index(fields=["school", "status"], name="advice_school_status")]

    def __str__(self):
        return f"advice {self.pk}"

    @property
    def reference(self) -> str:
        return f"Q-{str(self.public_id)[:8].upper()}"
