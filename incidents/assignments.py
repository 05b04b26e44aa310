"""Tasks on a case ([8] item 1, docs/tasks.md): the owner gives a piece of the case's work to a named
person at the case's school, with a due date; the person sees the case (a limited page) while the
task is open, and completes it with a note of what they did.

Every write here follows services.py: one transaction, the incident row locked first (the order
clocks.py locks in), the table checked (transitions.check), a conditional UPDATE on the task's state
so of two people closing the same task only one succeeds, the timeline entry and the deadlines in
the same transaction, email after commit (notify.py). Logs carry references and ids, never the
task's title or notes (they can name people).

The due date is a day: the task is due at close of business on that working day. Its clocks are
two Deadline rows on the case naming the task in `data["task"]`: a reminder to the assignee
TASK_REMINDER_WORKING_DAYS working days before (setting, default 1), and at the due time the
assignee is told it is overdue and the case's owners are told (escalation). Completing or
cancelling the task stops both.
"""

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.postgres.aggregates import JSONBAgg
from django.db import connection, transaction
from django.db.models import Case, Exists, JSONField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import JSONArray
from django.utils import timezone

from accounts.audit import record_case_change
from accounts.audit_reads import shown
from accounts.models import Membership, Role, User
from accounts.prepared import Prepared

from . import access, case_lists
from .clocks import _notify_all, _owners, _schedule_soon, school_calendar
from .deadlines import LONDON, format_local
from .errors import Invalid, NotAllowed, Stale
from .models import (
    Deadline,
    DeadlineKind,
    DeadlineState,
    Incident,
    Task,
    TaskState,
    TimelineEntry,
    TimelineKind,
)
from .notify import notify
from .transitions import OWNERS, TRANSITIONS, case_roles, check

log = logging.getLogger(__name__)

TASK_KINDS = (DeadlineKind.TASK_REMINDER, DeadlineKind.TASK_DUE)
TITLE_MAX = 200


def reminder_working_days() -> int:
    return int(getattr(settings, "TASK_REMINDER_WORKING_DAYS", 1))


# --- Who may be given a task ---------------------------------------------------------------------


def _assignable(school_id, subject_id, about_a_head: bool) -> QuerySet:
    people = User.objects.filter(is_active=True, memberships__school_id=school_id).distinct()
    if subject_id:
        people = people.exclude(pk=subject_id)
    if about_a_head:
        insiders = Membership.objects.filter(school_id=school_id, role__in=[Role.HEAD, Role.DSL])
        people = people.exclude(pk__in=insiders.values("user_id"))
    return people.order_by("full_name", "pk")


def assignable_people(incident: Incident) -> QuerySet:
    """Active members of the case's school who could open the case through a task: never its
    subject, and on a case about a head no head or DSL of the school (access.py's guard would keep
    them out, so a task for them would be a task nobody can see)."""
    return _assignable(incident.school_id, incident.subject_id, incident.is_about_a_head())


# assignable_people's four shapes (with or without a subject, about a head or not), as (id, name,
# email) rows, written by the ORM once per web process: the case page lists them in its task form on
# every view of an open case, and needs no more of each person than that.
ASSIGNABLE_COLUMNS = ("pk", "full_name", "email")
_ASSIGNABLE = {
    (False, head): Prepared(
        lambda school, head=head: _assignable(school, None, head).values_list(*ASSIGNABLE_COLUMNS), 1
    )
    for head in (False, True)
} | {
    (True, head): Prepared(
        lambda school, subject, head=head: _assignable(school, subject, head).values_list(*ASSIGNABLE_COLUMNS), 2
    )
    for head in (False, True)
}


_READ_WITH_THE_CASE = "assignable_read"
# The school roles access.py makes an owner of some cases (the head's, the chair's and the DSL's
# relations): only their case pages can offer the task form.
TASK_GIVERS = frozenset({Role.HEAD, Role.CHAIR, Role.DSL})


def assignable_rows(incident: Incident) -> list[tuple]:
    """`assignable_people(incident).values_list(*ASSIGNABLE_COLUMNS)`: from the school's people read
    with the case (`read_with_the_case`), or from SQL written once (tests/incidents/test_tasks.py
    compares the three)."""
    about_a_head = incident.is_about_a_head()
    members = incident.__dict__.get(_READ_WITH_THE_CASE)
    if members is not None:
        return [
            (pk, full_name, email)
            for pk, full_name, email, insider in members
            if pk != incident.subject_id and not (about_a_head and insider)
        ]
    if incident.subject_id:
        return _ASSIGNABLE[True, about_a_head].rows(incident.school_id, incident.subject_id)
    return _ASSIGNABLE[False, about_a_head].rows(incident.school_id)


def read_with_the_case(user) -> dict:
    """Annotations for the case page's query (views._case_page_flags): on a case a task can be given
    on, the active members of its school as [id, name, email, head or DSL there], in the task form's
    order, which `assignable_rows` narrows as `assignable_people` does (never the subject; no head or
    DSL on a case about a head). The task form's people were a query of their own on every view of an
    open case (docs/performance.md). Only for someone who may give tasks at some school, and only on
    PostgreSQL. NULL (a case the form is not offered on, or a school with nobody active): as
    elsewhere, `assignable_rows` asks the database."""
    of_request = getattr(user, "memberships_of_request", None)  # set for the request (accounts/middleware.py)
    if of_request is None or not {m.role for m in of_request()} & TASK_GIVERS or connection.vendor != "postgresql":
        return {}
    school = OuterRef(OuterRef("school_id"))
    member = Membership.objects.filter(user=OuterRef("pk"), school_id=school)
    insider = member.filter(role__in=[Role.HEAD, Role.DSL])
    members = (
        User.objects.filter(Exists(member), is_active=True)
        .order_by()  # no model ordering in a grouped subquery: the array has its own
        .annotate(one=Value(1))
        .values("one")
        .annotate(rows=JSONBAgg(JSONArray("id", "full_name", "email", Exists(insider)), order_by=("full_name", "id")))
        .values("rows")
    )
    offered = Q(status__in=TRANSITIONS["assign_task"].sources)
    return {_READ_WITH_THE_CASE: Case(When(offered, then=Subquery(members)), output_field=JSONField())}


# --- Dates ---------------------------------------------------------------------------------------


def _close_of_business(day: date, incident: Incident) -> datetime:
    return datetime.combine(day, incident.school.close_of_business, tzinfo=LONDON)


def _working_days_before(day: date, n: int, calendar) -> date:
    for _ in range(n):
        day -= timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
    return day


def _check_due_on(incident: Incident, due_on: date | None, now: datetime):
    if due_on is None:
        raise Invalid("Please give the date the task is due.")
    calendar = school_calendar(incident.school)
    why_not = calendar.non_working_reason(due_on)
    if why_not:
        day = f"{due_on:%a %d %b %Y}"
        raise Invalid(f"{day} is not a working day at the school ({why_not}): please choose another day.")
    due_at = _close_of_business(due_on, incident)
    if due_at <= now:
        raise Invalid("The due date has already passed (a task is due at close of business on its day).")
    return calendar, due_at


# --- Services ------------------------------------------------------------------------------------


def _lock(incident: Incident) -> None:
    list(Incident.objects.select_for_update().filter(pk=incident.pk).values_list("pk", flat=True))


def _entry(incident, actor, task, event: str, note: str) -> None:
    # Internal: owners only. The reporter's page never shows it; the assignee's page shows their task,
    # not the timeline.
    TimelineEntry.objects.create(
        incident=incident,
        actor=actor,
        kind=TimelineKind.TASK,
        note=note,
        internal=True,
        data={"task": task.pk, "event": event, "assignee": task.assignee_id},
    )


def task_assign(
    *,
    incident: Incident,
    actor,
    assignee,
    title: str,
    due_on: date,
    instructions: str = "",
    now: datetime | None = None,
) -> Task:
    """Give a task on the case to a member of its school, due at close of business on `due_on`."""
    now = now or timezone.now()
    title = (title or "").strip()
    if not title:
        raise Invalid("Please give the task a title.")
    if len(title) > TITLE_MAX:
        raise Invalid(f"Please keep the title to {TITLE_MAX} characters.")
    if assignee is None:
        raise Invalid("Please choose who the task is for.")
    calendar, due_at = _check_due_on(incident, due_on, now)
    with transaction.atomic():
        _lock(incident)
        check(actor, incident, "assign_task")
        # Checked inside the transaction: a membership ended a moment ago counts.
        if not assignable_people(incident).filter(pk=assignee.pk).exists():
            raise Invalid("That person cannot be given a task on this case. Nothing was changed.")
        task = Task.objects.create(
            incident=incident,
            assignee=assignee,
            assigned_by=actor,
            title=title,
            instructions=(instructions or "").strip(),
            due_on=due_on,
            due_at=due_at,
        )
        _entry(incident, actor, task, "assigned", f"Task given to {assignee}: “{title}”, due {format_local(due_at)}.")
        _start_clocks(incident, task, calendar, now)
        notify(recipient=assignee, kind="task_assigned", key=f"task:{task.pk}:assigned", incident=incident)
        record_case_change(actor, incident, change="task_assigned", task=task.pk, assignee=assignee.pk)
    log.info("Incident %s: task %s given to user %s by user %s", incident.reference, task.pk, assignee.pk, actor.pk)
    return task


def _start_clocks(incident, task, calendar, now) -> None:
    rows = [Deadline(incident=incident, kind=DeadlineKind.TASK_DUE, due_at=task.due_at, data={"task": task.pk})]
    days = reminder_working_days()
    if days > 0:
        remind_at = _close_of_business(_working_days_before(task.due_on, days, calendar), incident)
        if remind_at > now:
            rows.append(
                Deadline(
                    incident=incident,
                    kind=DeadlineKind.TASK_REMINDER,
                    due_at=remind_at,
                    data={"task": task.pk, "working_days_before": days},
                )
            )
    for row in rows:
        row.reason = f"due {format_local(task.due_at)} — a task due by close of business on {task.due_on:%a %d %b}"
    created = Deadline.objects.bulk_create(rows)
    _schedule_soon(created, now)


def _stop_clocks(incident, task, now, *, done: bool) -> None:
    pending = Deadline.objects.filter(
        incident=incident, kind__in=TASK_KINDS, state=DeadlineState.PENDING, data__task=task.pk
    )
    pending.filter(kind=DeadlineKind.TASK_REMINDER).update(state=DeadlineState.CANCELLED, closed_at=now)
    pending.filter(kind=DeadlineKind.TASK_DUE).update(
        state=DeadlineState.DONE if done else DeadlineState.CANCELLED, closed_at=now
    )


def _close(incident, actor, task, *, state: str, outcome: str, now) -> None:
    won = Task.objects.filter(pk=task.pk, incident=incident, state=TaskState.OPEN).update(
        state=state, closed_at=now, closed_by=actor, outcome=outcome
    )
    if won != 1:
        raise Stale("This task was completed or cancelled meanwhile. Nothing was changed.")
    task.state, task.closed_at, task.closed_by, task.outcome = state, now, actor, outcome


def task_complete(*, incident: Incident, actor, task: Task, outcome: str, now: datetime | None = None) -> Task:
    """The assignee (or an owner of the case) records the task done, with a note of what was done."""
    now = now or timezone.now()
    outcome = (outcome or "").strip()
    if not outcome:
        raise Invalid("Please say what was done.")
    with transaction.atomic():
        _lock(incident)
        check(actor, incident, "complete_task")
        if task.incident_id != incident.pk:
            raise NotAllowed("That task is not on this case.")
        is_owner = bool(case_roles(actor, incident) & OWNERS)
        if task.assignee_id != actor.pk and not is_owner:
            raise NotAllowed("You can complete only the tasks given to you.")
        _close(incident, actor, task, state=TaskState.DONE, outcome=outcome, now=now)
        _stop_clocks(incident, task, now, done=True)
        _entry(incident, actor, task, "done", f"Task done: “{task.title}”.")
        if (
            task.assigned_by_id != actor.pk
            and task.assigned_by.is_active
            and access.relation_roles(task.assigned_by, incident) & OWNERS
        ):
            notify(recipient=task.assigned_by, kind="task_done", key=f"task:{task.pk}:done", incident=incident)
        record_case_change(actor, incident, change="task_done", task=task.pk)
    log.info("Incident %s: task %s done by user %s", incident.reference, task.pk, actor.pk)
    return task


def task_cancel(*, incident: Incident, actor, task: Task, reason: str, now: datetime | None = None) -> Task:
    """An owner withdraws a task that is no longer needed; the assignee's view of the case ends."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Please give the reason for cancelling the task.")
    with transaction.atomic():
        _lock(incident)
        check(actor, incident, "cancel_task")
        if task.incident_id != incident.pk:
            raise NotAllowed("That task is not on this case.")
        _close(incident, actor, task, state=TaskState.CANCELLED, outcome=reason, now=now)
        _stop_clocks(incident, task, now, done=False)
        _entry(incident, actor, task, "cancelled", f"Task cancelled: “{task.title}”.")
        if task.assignee_id != actor.pk and task.assignee.is_active:
            notify(recipient=task.assignee, kind="task_cancelled", key=f"task:{task.pk}:cancelled", incident=incident)
        record_case_change(actor, incident, change="task_cancelled", task=task.pk)
    log.info("Incident %s: task %s cancelled by user %s", incident.reference, task.pk, actor.pk)
    return task


# --- Reading -------------------------------------------------------------------------------------


def _marked(tasks) -> list[Task]:
    """Overdue from the moment the due time passes, not from the next sweep."""
    now = timezone.now()
    for task in tasks:
        task.overdue = task.state == TaskState.OPEN and task.due_at <= now
    return tasks


def tasks_of_case(incident: Incident) -> list[Task]:
    """Every task on the case, for its owners (one query)."""
    return _marked(case_lists.tasks(incident))


def tasks_of_assignee(incident: Incident, user) -> list[Task]:
    """The person's own tasks on the case: what the assignee's page shows (never the others')."""
    return _marked(list(incident.tasks.filter(assignee=user).order_by("-state", "due_at", "pk")))


def _any_open_task(user_id):
    return Task.objects.filter(assignee_id=user_id, state=TaskState.OPEN).values_list("pk")[:1]


_ANY_OPEN_TASK = Prepared(_any_open_task, 1)


def home_tasks(request) -> list[Task]:
    """ "Your tasks" on the home page: the person's open tasks on cases they may open, soonest due
    first, each marked overdue once its due time has passed. One query whatever the number, after
    a look at whether the person has any open task at all (most have none): that look shows
    nothing, and spares them the access rule, which costs more to write than the rest of the page
    (docs/performance.md)."""
    user = request.user
    if not _ANY_OPEN_TASK.rows(user.pk):
        return []
    tasks = list(
        Task.objects.filter(
            assignee=user, state=TaskState.OPEN, incident__in=Incident.objects.visible_to(user).values("pk")
        )
        .select_related("incident")
        .only("public_id", "title", "due_at", "due_on", "state", "incident__reference", "incident__status")
        .order_by("due_at", "pk")
    )
    _marked(tasks)
    if tasks:
        shown(request)  # the page shows cases: audited (accounts/audit_reads.py)
    return tasks


# --- Effects of the task deadlines (clocks.EFFECTS; run inside deadline_fire's transaction) ------


def _open_task(deadline) -> Task | None:
    return (
        Task.objects.filter(pk=deadline.data.get("task"), state=TaskState.OPEN)
        .select_related("assignee", "assigned_by")
        .first()
    )


def _still_assignee(task, incident) -> bool:
    """The assignee still holds the relation (active, still a member, not the subject, not an insider
    on a case about a head): only then is a message sent to them."""
    return "assignee" in access.relations(task.assignee, incident)


def task_reminder_effect(*, deadline, incident, now):
    task = _open_task(deadline)
    if task is None or now >= task.due_at:
        return  # done or cancelled meanwhile, or so late that the due-time message says it all
    if not _still_assignee(task, incident):
        return
    _entry(incident, None, task, "reminder", f"Reminder sent: task “{task.title}” due {format_local(task.due_at)}.")
    _notify_all([task.assignee], kind="task_reminder", deadline=deadline, incident=incident)


def task_due_effect(*, deadline, incident, now):
    task = _open_task(deadline)
    if task is None:
        return
    _entry(incident, None, task, "overdue", f"Task overdue: “{task.title}” was due {format_local(task.due_at)}.")
    if _still_assignee(task, incident):
        _notify_all([task.assignee], kind="task_overdue", deadline=deadline, incident=incident)
    # The case's owners now, and whoever gave the task if they still own it.
    candidates = dict.fromkeys([*_owners(incident), task.assigned_by])
    owners = [p for p in candidates if p.is_active and access.relation_roles(p, incident) & OWNERS]
    _notify_all(owners, kind="task_escalation", deadline=deadline, incident=incident)
