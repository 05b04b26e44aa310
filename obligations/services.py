"""Every write to declarations, training records and advice requests: one transaction each, rows
locked and re-read before a change, an audit event, the deadline kept in step, content-free emails.

Refusals raise ValidationError with a message for the person; nothing is changed then."""

from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.audit import record
from accounts.models import AuditAction
from incidents import clocks
from incidents.deadlines import LONDON
from incidents.models import Deadline, DeadlineKind, DeadlineState
from incidents.notify import notify

from . import access
from .models import (
    AdviceRequest,
    AdviceStatus,
    Declaration,
    DeclarationKind,
    DeclarationStatus,
    TrainingRecord,
)

RECONFIRM_AFTER = timedelta(days=365)
TRAINING_REMINDER_DAYS = 30
ADVICE_ANSWER_WORKING_DAYS = 2
MAX_TEXT = 4000


def _audit(action, actor, obj, object_type: str, **detail):
    record(
        action,
        actor=actor,
        object_type=object_type,
        object_id=str(obj.public_id if hasattr(obj, "public_id") else obj.pk),
        object_ref=getattr(obj, "reference", ""),
        school_id=obj.school_id,
        detail=detail or None,
    )


def _text(value: str, label: str, *, required=True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(f"Write the {label}.")
    if len(value) > MAX_TEXT:
        raise ValidationError(f"The {label} is {len(value)} characters long; the most is {MAX_TEXT}.")
    return value


# --- Deadlines naming an object --------------------------------------------------------------------


def _start(target, kind, due_at, reason, now):
    """Cancel the object's pending deadline of this kind and start a new one (one pending per kind)."""
    _stop(target, kind, now)
    deadline = Deadline.objects.create(target=target, kind=kind, due_at=due_at, reason=reason)
    clocks._schedule_soon([deadline], now)
    return deadline


def _stop(target, kind, now, state=DeadlineState.CANCELLED):
    from django.contrib.contenttypes.models import ContentType

    return Deadline.objects.filter(
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
        kind=kind,
        state=DeadlineState.PENDING,
    ).update(state=state, closed_at=now)


def pending_deadline(target, kind):
    from django.contrib.contenttypes.models import ContentType

    return (
        Deadline.objects.filter(
            target_type=ContentType.objects.get_for_model(target), target_id=target.pk, kind=kind, state="pending"
        )
        .order_by("due_at")
        .first()
    )


def _morning(day) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=LONDON)


# --- Declarations ------------------------------------------------------------------------------------


def declare(*, declarer, school, kind: str, details: str, response: str = "", now=None) -> Declaration:
    now = now or timezone.now()
    if not any(m.school_id == school.pk for m in declarer.memberships.all()):
        raise PermissionDenied
    if kind not in DeclarationKind.values:
        raise ValidationError("Choose what you are declaring.")
    details = _text(details, "details")
    response = _text(response, "account of what you did", required=kind == DeclarationKind.APPROACH)
    with transaction.atomic():
        declaration = Declaration.objects.create(
            school=school,
            declarer=declarer,
            kind=kind,
            details=details,
            response=response,
            declared_at=now,
            confirmed_at=now,
        )
        _start(
            declaration,
            DeadlineKind.DECLARATION_RECONFIRM,
            now + RECONFIRM_AFTER,
            "Declarations are confirmed again every year.",
            now,
        )
        _audit(AuditAction.CREATE, declarer, declaration, "declaration", kind=kind)
        for person in access.acknowledgers(declaration):
            notify(
                recipient=person,
                kind="declaration_made",
                key=f"declaration:{declaration.pk}:made:{person.pk}",
                target=declaration,
            )
    return declaration


def _locked(model, pk):
    return model.objects.select_for_update().get(pk=pk)


def acknowledge_declaration(*, actor, declaration: Declaration, note: str, now=None) -> Declaration:
    now = now or timezone.now()
    if not access.may_acknowledge(actor, declaration):
        raise PermissionDenied
    note = _text(note, "note", required=False)
    with transaction.atomic():
        declaration = _locked(Declaration, declaration.pk)
        if declaration.status != DeclarationStatus.AWAITING:
            raise ValidationError("This declaration has already been acknowledged or withdrawn.")
        declaration.status = DeclarationStatus.ACKNOWLEDGED
        declaration.acknowledged_by = actor
        declaration.acknowledged_at = now
        declaration.acknowledgement_note = note
        declaration.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "acknowledgement_note"])
        _audit(AuditAction.CHANGE, actor, declaration, "declaration", change="acknowledged")
        notify(
            recipient=declaration.declarer,
            kind="declaration_acknowledged",
            key=f"declaration:{declaration.pk}:acknowledged",
            target=declaration,
        )
    return declaration


def reconfirm_declaration(*, actor, declaration: Declaration, now=None) -> Declaration:
    now = now or timezone.now()
    if declaration.declarer_id != actor.pk:
        raise PermissionDenied
    with transaction.atomic():
        declaration = _locked(Declaration, declaration.pk)
        if declaration.status == DeclarationStatus.WITHDRAWN:
            raise ValidationError("This declaration was withdrawn; make a new one if it applies again.")
        declaration.confirmed_at = now
        declaration.save(update_fields=["confirmed_at"])
        _stop(declaration, DeadlineKind.DECLARATION_RECONFIRM, now, state=DeadlineState.DONE)
        _start(
            declaration,
            DeadlineKind.DECLARATION_RECONFIRM,
            now + RECONFIRM_AFTER,
            "Declarations are confirmed again every year.",
            now,
        )
        _audit(AuditAction.CHANGE, actor, declaration, "declaration", change="reconfirmed")
    return declaration


def withdraw_declaration(*, actor, declaration: Declaration, now=None) -> Declaration:
    now = now or timezone.now()
    if declaration.declarer_id != actor.pk:
        raise PermissionDenied
    with transaction.atomic():
        declaration = _locked(Declaration, declaration.pk)
        if declaration.status == DeclarationStatus.WITHDRAWN:
            raise ValidationError("This declaration was already withdrawn.")
        declaration.status = DeclarationStatus.WITHDRAWN
        declaration.withdrawn_at = now
        declaration.save(update_fields=["status", "withdrawn_at"])
        _stop(declaration, DeadlineKind.DECLARATION_RECONFIRM, now)
        _audit(AuditAction.CHANGE, actor, declaration, "declaration", change="withdrawn")
    return declaration


# --- Training ----------------------------------------------------------------------------------------


def record_training(
    *, actor, school, person, topic, completed_on, provider, expires_on=None, now=None
) -> TrainingRecord:
    now = now or timezone.now()
    if not access.may_record_training(actor, school):
        raise PermissionDenied
    if not person.memberships.filter(school=school).exists():
        raise ValidationError("That person is not a member of this school.")
    provider = _text(provider, "provider")[:200]
    today = timezone.localdate(now, LONDON)
    if completed_on > today:
        raise ValidationError("The training cannot have been completed in the future.")
    if expires_on is not None and expires_on <= completed_on:
        raise ValidationError("The expiry date must be after the date the training was completed.")
    with transaction.atomic():
        training = TrainingRecord.objects.create(
            school=school,
            person=person,
            topic=topic,
            completed_on=completed_on,
            provider=provider,
            expires_on=expires_on,
            recorded_by=actor,
        )
        # A newer record of the same topic replaces the older ones' reminders.
        for older in TrainingRecord.objects.filter(school=school, person=person, topic=topic).exclude(pk=training.pk):
            _stop(older, DeadlineKind.TRAINING_EXPIRY, now)
        if expires_on is not None:
            remind_on = max(expires_on - timedelta(days=TRAINING_REMINDER_DAYS), today)
            _start(
                training,
                DeadlineKind.TRAINING_EXPIRY,
                _morning(remind_on),
                f"Reminder {TRAINING_REMINDER_DAYS} days before the training expires on {expires_on:%-d %B %Y}.",
                now,
            )
        _audit(AuditAction.CREATE, actor, training, "training", topic=topic)
    return training


# --- Advice requests ---------------------------------------------------------------------------------


def ask_advice(*, asker, school, question: str, draft: str = "", now=None) -> AdviceRequest:
    now = now or timezone.now()
    if not any(m.school_id == school.pk for m in asker.memberships.all()):
        raise PermissionDenied
    question = _text(question, "question")
    draft = _text(draft, "draft post", required=False)
    calendar = clocks.school_calendar(school)
    day = timezone.localdate(now, LONDON)
    for _ in range(ADVICE_ANSWER_WORKING_DAYS):
        day = calendar.next_working_day(day)
    due = datetime.combine(day, school.close_of_business, tzinfo=LONDON)
    with transaction.atomic():
        advice = AdviceRequest.objects.create(school=school, asker=asker, question=question, draft=draft, asked_at=now)
        _start(
            advice,
            DeadlineKind.ADVICE_ANSWER,
            due,
            f"An answer within {ADVICE_ANSWER_WORKING_DAYS} working days of the question.",
            now,
        )
        _audit(AuditAction.CREATE, asker, advice, "advice")
        from accounts.models import Role

        heads = (
            school.memberships.filter(role=Role.HEAD, user__is_active=True).exclude(user=asker).select_related("user")
        )
        for membership in heads:
            notify(
                recipient=membership.user,
                kind="advice_asked",
                key=f"advice:{advice.pk}:asked:{membership.user_id}",
                target=advice,
            )
    return advice


def answer_advice(*, actor, advice: AdviceRequest, answer: str, clauses, now=None) -> AdviceRequest:
    now = now or timezone.now()
    if not access.may_answer(actor, advice):
        raise PermissionDenied
    answer = _text(answer, "answer")
    clauses = list(clauses)
    from policyhub.models import Clause

    # Clauses the asker can read (their school's policy): the answer is for them.
    readable = set(
        Clause.objects.visible_to(advice.asker).filter(pk__in=[c.pk for c in clauses]).values_list("pk", flat=True)
    )
    if len(readable) != len({c.pk for c in clauses}):
        raise ValidationError("Cite clauses of the policy the person who asked works under.")
    with transaction.atomic():
        advice = _locked(AdviceRequest, advice.pk)
        if advice.status != AdviceStatus.OPEN:
            raise ValidationError("This question has already been answered or withdrawn.")
        advice.status = AdviceStatus.ANSWERED
        advice.answer = answer
        advice.answered_by = actor
        advice.answered_at = now
        advice.save(update_fields=["status", "answer", "answered_by", "answered_at"])
        advice.clauses.set(clauses)
        _stop(advice, DeadlineKind.ADVICE_ANSWER, now, state=DeadlineState.DONE)
        _audit(AuditAction.CHANGE, actor, advice, "advice", change="answered", clauses=[c.pk for c in clauses])
        notify(recipient=advice.asker, kind="advice_answered", key=f"advice:{advice.pk}:answered", target=advice)
    return advice


def publish_advice(*, actor, advice: AdviceRequest, faq_question: str, faq_answer: str, now=None) -> AdviceRequest:
    """Publish a reworded question and answer on the cited clauses. The head writes both afresh: the
    asker's own words and name are never published."""
    now = now or timezone.now()
    if not access.may_answer(actor, advice):
        raise PermissionDenied
    faq_question = _text(faq_question, "question as published")
    faq_answer = _text(faq_answer, "answer as published")
    with transaction.atomic():
        advice = _locked(AdviceRequest, advice.pk)
        if advice.status != AdviceStatus.ANSWERED:
            raise ValidationError("Answer the question before publishing it.")
        if not advice.clauses.exists():
            raise ValidationError("Cite at least one clause: the question is published on the clauses it cites.")
        name = advice.asker.get_full_name().strip()
        if name and any(
            part.lower() in (faq_question + " " + faq_answer).lower() for part in name.split() if len(part) > 2
        ):
            raise ValidationError("The published text names the person who asked: reword it so it names nobody.")
        advice.faq_question, advice.faq_answer, advice.published_at = faq_question, faq_answer, now
        advice.save(update_fields=["faq_question", "faq_answer", "published_at"])
        _audit(AuditAction.CHANGE, actor, advice, "advice", change="published")
    return advice


def unpublish_advice(*, actor, advice: AdviceRequest, now=None) -> AdviceRequest:
    if not access.may_answer(actor, advice):
        raise PermissionDenied
    with transaction.atomic():
        advice = _locked(AdviceRequest, advice.pk)
        advice.published_at = None
        advice.save(update_fields=["published_at"])
        _audit(AuditAction.CHANGE, actor, advice, "advice", change="unpublished")
    return advice


def withdraw_advice(*, actor, advice: AdviceRequest, now=None) -> AdviceRequest:
    now = now or timezone.now()
    if advice.asker_id != actor.pk:
        raise PermissionDenied
    with transaction.atomic():
        advice = _locked(AdviceRequest, advice.pk)
        if advice.status != AdviceStatus.OPEN:
            raise ValidationError("Only a question still waiting for an answer can be withdrawn.")
        advice.status = AdviceStatus.WITHDRAWN
        advice.save(update_fields=["status"])
        _stop(advice, DeadlineKind.ADVICE_ANSWER, now)
        _audit(AuditAction.CHANGE, actor, advice, "advice", change="withdrawn")
    return advice
