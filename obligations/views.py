"""Pages for declarations, training and advice. Thin: access through obligations/access.py (404 for a
record one may not open), writes through obligations/services.py, refusals shown on the form."""

import csv
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.audit import record
from accounts.models import AuditAction, Membership, Role
from accounts.pages import page
from policyhub.models import Clause
from policyhub.views import csv_safe

from . import access, services
from .forms import AdviceForm, AnswerForm, DeclarationForm, NoteForm, PublishForm, TrainingForm
from .models import AdviceRequest, AdviceStatus, Declaration, DeclarationStatus, TrainingRecord, TrainingTopic

EXPIRING_DAYS = services.TRAINING_REMINDER_DAYS


def _school(request):
    if request.ctx.school is None:
        raise Http404
    return request.ctx.school


def _viewed(request, record_, kind):
    record(
        AuditAction.VIEW,
        request=request,
        actor=request.user,
        object_type=kind,
        object_id=str(record_.public_id),
        object_ref=record_.reference,
        school_id=record_.school_id,
    )


def _refused(form, error):
    form.add_error(None, error.messages[0] if isinstance(error, ValidationError) else str(error))


# --- Declarations --------------------------------------------------------------------------------


@require_GET
@page("obligations:declarations")
def declarations(request):
    school = _school(request)
    visible = Declaration.objects.filter(access.visible("declaration", request.user))
    mine = visible.filter(declarer=request.user, school=school).select_related("school")
    others = (
        visible.filter(school=school)
        .exclude(declarer=request.user)
        .select_related("declarer")
        .order_by("status", "-declared_at")
        if request.ctx.has_role(Role.HEAD, Role.DSL, Role.DPO, Role.CHAIR)
        else Declaration.objects.none()
    )
    return render(
        request, "obligations/declarations.html", {"school": school, "mine": list(mine), "others": list(others[:200])}
    )


@require_http_methods(["GET", "POST"])
@page("obligations:declare")
def declare(request):
    school = _school(request)
    form = DeclarationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            declaration = services.declare(declarer=request.user, school=school, **form.cleaned_data)
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(request, f"Your declaration {declaration.reference} has been recorded.")
            return redirect("obligations:declaration", declaration.public_id)
    return render(
        request, "obligations/declare.html", {"form": form, "school": school}, status=400 if form.errors else 200
    )


def _declaration_or_404(request, public_id):
    queryset = Declaration.objects.filter(access.visible("declaration", request.user))
    return get_object_or_404(queryset.select_related("school", "declarer", "acknowledged_by"), public_id=public_id)


@require_http_methods(["GET", "POST"])
def declaration(request, public_id):
    declaration = _declaration_or_404(request, public_id)
    form = NoteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "acknowledge" and form.is_valid():
                services.acknowledge_declaration(
                    actor=request.user, declaration=declaration, note=form.cleaned_data["note"]
                )
                messages.success(request, "Declaration acknowledged.")
            elif action == "reconfirm":
                services.reconfirm_declaration(actor=request.user, declaration=declaration)
                messages.success(request, "Thank you: your declaration is confirmed for another year.")
            elif action == "withdraw":
                services.withdraw_declaration(actor=request.user, declaration=declaration)
                messages.success(request, "Your declaration is marked as no longer applying.")
            else:
                raise ValidationError("Choose one of the buttons on this page.")
        except PermissionDenied:
            raise
        except ValidationError as error:
            _refused(form, error)
            status = 400
        else:
            return redirect("obligations:declaration", declaration.public_id)
    _viewed(request, declaration, "declaration")
    context = {
        "declaration": declaration,
        "form": form,
        "is_declarer": declaration.declarer_id == request.user.pk,
        "may_acknowledge": declaration.status == DeclarationStatus.AWAITING
        and access.may_acknowledge(request.user, declaration),
        "reconfirm_due": services.pending_deadline(declaration, "declaration_reconfirm"),
    }
    return render(request, "obligations/declaration.html", context, status=status)


# --- Training ------------------------------------------------------------------------------------


def _compliance_rows(school):
    """One row per person covered at the school: their newest record of each topic. Three queries."""
    people = {}
    for m in (
        Membership.objects.filter(school=school, user__is_active=True)
        .exclude(role__in=[Role.TRUST_ADMIN, Role.DPO])
        .select_related("user")
    ):
        people.setdefault(m.user_id, {"person": m.user, "roles": [], "topics": {}})["roles"].append(
            m.get_role_display()
        )
    newest = TrainingRecord.objects.filter(school=school, person_id__in=people).order_by(
        "person_id", "topic", "-completed_on", "-pk"
    )
    today = timezone.localdate()
    for training in newest:
        row = people[training.person_id]
        if training.topic in row["topics"]:
            continue  # an older record of the same topic
        if training.expires_on is None:
            state = "current"
        elif training.expires_on <= today:
            state = "expired"
        elif training.expires_on <= today + timedelta(days=EXPIRING_DAYS):
            state = "expiring"
        else:
            state = "current"
        row["topics"][training.topic] = {"record": training, "state": state}
    rows = sorted(people.values(), key=lambda r: (r["person"].full_name.lower(), r["person"].email))
    for row in rows:
        row["cells"] = [row["topics"].get(topic) for topic in TrainingTopic.values]
    return rows


@require_http_methods(["GET", "POST"])
@page("obligations:training")
def training(request):
    school = _school(request)
    form = TrainingForm(request.POST or None, school=school)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_training(
                actor=request.user,
                school=school,
                person=data["person"],
                topic=data["topic"],
                completed_on=data["completed_on"],
                provider=data["provider"],
                expires_on=data["expires_on"],
            )
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(request, "Training recorded.")
            return redirect("obligations:training")
    rows = _compliance_rows(school)
    topics = TrainingTopic.choices
    covered = {
        topic: sum(1 for r in rows if (r["topics"].get(topic) or {}).get("state") in ("current", "expiring"))
        for topic, _ in topics
    }
    return render(
        request,
        "obligations/training.html",
        {"school": school, "rows": rows, "topics": topics, "covered": covered, "form": form},
        status=400 if form.errors else 200,
    )


@require_GET
@page("obligations:training_csv")
def training_csv(request):
    school = _school(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="training-{school.slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(["Name", "Email", "Roles", "Training", "Completed on", "Provider", "Expires on", "State"])
    for row in _compliance_rows(school):
        person = row["person"]
        for topic, label in TrainingTopic.choices:
            cell = row["topics"].get(topic)
            training_ = cell["record"] if cell else None
            writer.writerow(
                [
                    csv_safe(person.get_full_name()),
                    csv_safe(person.email),
                    csv_safe(", ".join(row["roles"])),
                    label,
                    training_.completed_on.isoformat() if training_ else "",
                    csv_safe(training_.provider) if training_ else "",
                    training_.expires_on.isoformat() if training_ and training_.expires_on else "",
                    cell["state"] if cell else "none",
                ]
            )
    record(
        AuditAction.EXPORT,
        request=request,
        actor=request.user,
        object_type="training",
        object_ref=school.slug,
        school_id=school.pk,
    )
    return response


@require_GET
@page("obligations:my_training")
def my_training(request):
    records = TrainingRecord.objects.filter(person=request.user).select_related("school")
    return render(request, "obligations/my_training.html", {"records": list(records), "today": timezone.localdate()})


# --- Advice --------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@page("obligations:advice_list")
def advice_list(request):
    school = _school(request)
    form = AdviceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            advice = services.ask_advice(asker=request.user, school=school, **form.cleaned_data)
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(request, f"Your question {advice.reference} has been sent to the head teacher.")
            return redirect("obligations:advice", advice.public_id)
    visible = AdviceRequest.objects.filter(access.visible("advice", request.user), school=school)
    mine = list(visible.filter(asker=request.user))
    waiting = (
        list(
            visible.exclude(asker=request.user)
            .filter(status=AdviceStatus.OPEN)
            .select_related("asker")
            .order_by("asked_at")[:200]
        )
        if request.ctx.has_role(Role.HEAD, Role.DPO)
        else []
    )
    published = list(
        AdviceRequest.objects.filter(school=school, published_at__isnull=False).order_by("-published_at")[:50]
    )
    return render(
        request,
        "obligations/advice_list.html",
        {"school": school, "form": form, "mine": mine, "waiting": waiting, "published": published},
        status=400 if form.errors else 200,
    )


def _school_clauses(advice):
    """The clauses of the policy in force for the asker's school (what an answer may cite)."""
    return (
        Clause.objects.visible_to(advice.asker)
        .filter(version__status="active")
        .select_related("version")
        .order_by("version", "order")
    )


@require_http_methods(["GET", "POST"])
def advice(request, public_id):
    queryset = AdviceRequest.objects.filter(access.visible("advice", request.user))
    advice = get_object_or_404(queryset.select_related("school", "asker", "answered_by"), public_id=public_id)
    may_answer = access.may_answer(request.user, advice)
    answer_form = AnswerForm(None, clauses=_school_clauses(advice)) if may_answer else None
    publish_form = (
        PublishForm(
            None, initial={"faq_question": advice.faq_question, "faq_answer": advice.faq_answer or advice.answer}
        )
        if may_answer
        else None
    )
    errors_on = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "answer" and may_answer:
                answer_form = AnswerForm(request.POST, clauses=_school_clauses(advice))
                errors_on = answer_form
                if answer_form.is_valid():
                    services.answer_advice(
                        actor=request.user,
                        advice=advice,
                        answer=answer_form.cleaned_data["answer"],
                        clauses=answer_form.cleaned_data["clauses"],
                    )
                    messages.success(request, "Answer sent.")
                    return redirect("obligations:advice", advice.public_id)
            elif action == "publish" and may_answer:
                publish_form = PublishForm(request.POST)
                errors_on = publish_form
                if publish_form.is_valid():
                    services.publish_advice(actor=request.user, advice=advice, **publish_form.cleaned_data)
                    messages.success(request, "Published on the clauses it cites.")
                    return redirect("obligations:advice", advice.public_id)
            elif action == "unpublish" and may_answer:
                services.unpublish_advice(actor=request.user, advice=advice)
                return redirect("obligations:advice", advice.public_id)
            elif action == "withdraw":
                services.withdraw_advice(actor=request.user, advice=advice)
                messages.success(request, "Your question has been withdrawn.")
                return redirect("obligations:advice", advice.public_id)
            else:
                raise PermissionDenied
        except ValidationError as error:
            errors_on = errors_on or answer_form or NoteForm()
            _refused(errors_on, error)
    _viewed(request, advice, "advice")
    context = {
        "advice": advice,
        "may_answer": may_answer,
        "answer_form": answer_form,
        "publish_form": publish_form,
        "cited": list(advice.clauses.select_related("version").order_by("order")),
        "errors_on": errors_on,
    }
    status = 400 if errors_on is not None and errors_on.errors else 200
    return render(request, "obligations/advice.html", context, status=status)
