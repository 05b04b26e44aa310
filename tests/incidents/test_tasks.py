"""Tasks on a case ([8] item 1, incidents/assignments.py): the owner gives a task to a member of the
school, who sees a limited case page while it is open; its due date is a reminder, an overdue
message and an escalation to the owner, fired by the real sweep; completing or cancelling stops them."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent, Membership, Role
from incidents import assignments, clocks, emails, services
from incidents.errors import Invalid, NotAllowed, Stale
from incidents.models import (
    Category,
    Deadline,
    DeadlineKind,
    DeadlineState,
    Involved,
    Notification,
    SchoolClosure,
    Status,
    Task,
    TaskState,
    TimelineEntry,
    TimelineKind,
)
from tests.factories import person
from tests.incidents.clock_helpers import received
from tests.incidents.factories import fast_passwords, fresh, report, sign_in, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

MONDAY = received("2025-11-24 10:00")  # Mon 24 Nov 2025, a working day in England
WEDNESDAY = date(2025, 11, 26)
SECRET_TITLE = "Interview CANARY-TITLE about the post"
SECRET_INSTRUCTIONS = "CANARY-INSTRUCTIONS ask about the photos"


@pytest.fixture
def rita(cast):
    return person("Rita Rowe", cast.oakfield, Role.STAFF)


@pytest.fixture
def case(cast):
    incident = report(cast.oakfield, cast.sam, files=[upload()], description="CANARY-DESCRIPTION a parent's post")
    services.incident_acknowledge(incident=fresh(incident), actor=cast.helen)
    return fresh(incident)


def _assign(case, cast, who, *, now=MONDAY, due_on=WEDNESDAY, title=SECRET_TITLE, **kwargs):
    return assignments.task_assign(
        incident=fresh(case), actor=cast.helen, assignee=who, title=title, due_on=due_on, now=now, **kwargs
    )


def _sweep(at):
    return clocks.deadlines_sweep(now=at)


def _sent(kind):
    return list(Notification.objects.filter(kind=kind).values_list("recipient__email", flat=True))


def _working_day_ahead(school, n):
    return clocks.school_calendar(school).add_working_days(timezone.localdate(), n)


def _client(user):
    client = Client()
    sign_in(client, user)
    return client


# --- Services --------------------------------------------------------------------------------------


def test_assigning_records_the_task_its_two_clocks_the_timeline_and_an_email(cast, rita, case):
    task = _assign(case, cast, rita, instructions=SECRET_INSTRUCTIONS)
    assert (task.state, task.assignee, task.assigned_by) == (TaskState.OPEN, rita, cast.helen)
    # Due at close of business on its day; reminded one working day before, at close of business.
    assert task.due_at == received("2025-11-26 17:00")
    clocks_of = Deadline.objects.filter(incident=case, data__task=task.pk).order_by("due_at")
    assert [(d.kind, d.due_at, d.state) for d in clocks_of] == [
        (DeadlineKind.TASK_REMINDER, received("2025-11-25 17:00"), DeadlineState.PENDING),
        (DeadlineKind.TASK_DUE, received("2025-11-26 17:00"), DeadlineState.PENDING),
    ]
    entry = TimelineEntry.objects.get(incident=case, kind=TimelineKind.TASK)
    assert entry.internal and entry.actor == cast.helen and entry.data["event"] == "assigned"
    assert _sent("task_assigned") == [rita.email]
    assert AuditEvent.objects.filter(object_ref=case.reference, detail__change="task_assigned").exists()


def test_the_reminder_skips_closures_and_the_number_of_working_days_is_a_setting(cast, rita, case, settings):
    SchoolClosure.objects.create(school=cast.oakfield, date=date(2025, 11, 25), label="INSET day")
    task = _assign(case, cast, rita)
    reminder = Deadline.objects.get(kind=DeadlineKind.TASK_REMINDER, data__task=task.pk)
    assert reminder.due_at == received("2025-11-24 17:00")  # Monday: Tuesday is an INSET day
    settings.TASK_REMINDER_WORKING_DAYS = 2
    later = _assign(case, cast, rita, due_on=date(2025, 12, 1))  # Monday 1 Dec: reminded Thu 27 Nov
    reminder = Deadline.objects.get(kind=DeadlineKind.TASK_REMINDER, data__task=later.pk)
    assert reminder.due_at == received("2025-11-27 17:00")


def test_a_task_due_today_gets_no_reminder_in_the_past(cast, rita, case):
    task = _assign(case, cast, rita, due_on=date(2025, 11, 24))
    kinds = list(Deadline.objects.filter(data__task=task.pk).values_list("kind", flat=True))
    assert kinds == [DeadlineKind.TASK_DUE]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "  "}, "title"),
        ({"due_on": date(2025, 11, 29)}, "Sat 29 Nov 2025 is not a working day"),
        ({"due_on": date(2025, 12, 25)}, "Christmas Day"),
        ({"due_on": date(2025, 11, 21)}, "already passed"),
        ({"due_on": None}, "the date"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(cast, rita, case, changes, message):
    with pytest.raises(Invalid, match=message):
        _assign(case, cast, rita, **changes)
    assert not Task.objects.exists() and not Deadline.objects.filter(kind__in=assignments.TASK_KINDS).exists()


def test_nobody_but_an_active_member_who_could_see_the_case_is_assignable(cast, rita, case):
    about_helen = report(
        cast.oakfield, cast.sam, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.helen
    )
    about_sam = report(
        cast.oakfield, cast.dina, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.sam
    )
    assert cast.sam not in assignments.assignable_people(about_sam)  # the subject
    assert cast.olive not in assignments.assignable_people(case)  # another school
    # A case about the head: no head and no DSL of the school (they could not open it).
    people = set(assignments.assignable_people(about_helen))
    assert rita in people and cast.sam in people
    assert not people & {cast.helen, cast.dina}
    with pytest.raises(Invalid, match="cannot be given a task"):
        assignments.task_assign(
            incident=about_helen, actor=cast.carol, assignee=cast.dina, title="x", due_on=WEDNESDAY, now=MONDAY
        )
    with pytest.raises(Invalid, match="cannot be given a task"):
        _assign(about_sam, cast, cast.sam)
    rita.is_active = False
    rita.save()
    with pytest.raises(Invalid, match="cannot be given a task"):
        _assign(case, cast, rita)
    assert not Task.objects.exists()


def test_the_people_listed_from_prepared_sql_are_the_rule_s(cast, rita, case):
    """assignable_rows (the case page's task form) is assignable_people, in order, for each of its
    four shapes: no subject; a subject; a case about a head by its subject; flagged about a head
    with nobody named. People at two schools, one who left and one of another school around."""
    from incidents.models import Incident

    Membership.objects.create(user=cast.olive, school=cast.oakfield, role=Role.STAFF)
    Membership.objects.create(user=cast.tom, school=cast.oakfield, role=Role.DSL)
    leaver = person("Lee Left", cast.oakfield, Role.STAFF)
    leaver.is_active = False
    leaver.save()
    # Names, emails and ids in three different orders: first by name, last by email and id; and a
    # second person of Sam's name, first by email, after him by id.
    person("Aaron Abbot", cast.oakfield, Role.STAFF, email="zz.abbot@oakfield.example.org")
    person(cast.sam.full_name, cast.oakfield, Role.STAFF, email="aa.twin@oakfield.example.org")
    cases = [
        case,
        report(cast.oakfield, cast.dina, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.sam),
        report(cast.oakfield, cast.sam, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.helen),
        report(cast.oakfield, cast.sam),
        report(cast.brookside, cast.bethan),
    ]
    Incident.objects.filter(pk=cases[3].pk).update(subject_is_head=True)
    shapes = set()
    for incident in map(fresh, cases):
        expected = list(assignments.assignable_people(incident))
        with CaptureQueriesContext(connection) as queries:
            found = assignments.assignable_rows(incident)
        assert found == [(u.pk, u.full_name, u.email) for u in expected]
        assert len(queries) <= 2  # the people, and whether the subject heads the school
        shapes.add((bool(incident.subject_id), incident.is_about_a_head(), len(found)))
        # As the case page reads it for a head (on PostgreSQL, the people come with the case).
        head = _as_requested(cast.helen)
        read = Incident.objects.annotate(**assignments.read_with_the_case(head)).get(pk=incident.pk)
        with CaptureQueriesContext(connection) as queries:
            assert assignments.assignable_rows(read) == found
        if connection.vendor == "postgresql":
            assert not [q for q in queries if "accounts_user" in q["sql"]], queries.captured_queries
    assert {(s, h) for s, h, _ in shapes} == {(False, False), (True, False), (True, True), (False, True)}
    assert len({n for *_, n in shapes}) >= 3  # the shapes list different people
    # A closed case offers no task form: its page does not read the school's people with it.
    Incident.objects.filter(pk=case.pk).update(status=Status.CLOSED)
    read = Incident.objects.annotate(**assignments.read_with_the_case(_as_requested(cast.helen))).get(pk=case.pk)
    assert read.__dict__.get("assignable_read") is None
    people = assignments.assignable_people(read)
    assert assignments.assignable_rows(read) == [(u.pk, u.full_name, u.email) for u in people]  # asked


def _as_requested(user):
    """`user` as a request hands them on, with the memberships it fetched (accounts/middleware.py)."""
    memberships = list(Membership.objects.filter(user=user))
    user.memberships_of_request = lambda: memberships
    return user


def test_the_people_come_with_the_case_only_for_someone_who_may_give_tasks(cast):
    """read_with_the_case: for a head, DSL or chair (on PostgreSQL); for staff and governors nothing
    (their pages have no task form), nor outside a request."""
    for who, reads in ((cast.helen, True), (cast.sam, False), (cast.gary, False)):
        expected = reads and connection.vendor == "postgresql"
        assert bool(assignments.read_with_the_case(_as_requested(who))) == expected, who
    del cast.helen.memberships_of_request
    assert assignments.read_with_the_case(cast.helen) == {}


def test_only_the_owners_give_and_cancel_tasks_and_the_assignee_completes_only_theirs(cast, rita, case):
    with pytest.raises(NotAllowed):
        assignments.task_assign(incident=case, actor=cast.sam, assignee=rita, title="x", due_on=WEDNESDAY, now=MONDAY)
    task = _assign(case, cast, rita)
    other = _assign(case, cast, cast.dina, title="Check the followers")
    with pytest.raises(NotAllowed):
        assignments.task_cancel(incident=case, actor=rita, task=task, reason="Not mine to cancel.")
    with pytest.raises(NotAllowed, match="only the tasks given to you"):
        assignments.task_complete(incident=case, actor=rita, task=other, outcome="Done it.")
    with pytest.raises(NotAllowed):  # the reporter has no say in the case's tasks
        assignments.task_complete(incident=case, actor=cast.sam, task=task, outcome="Done.")
    assert Task.objects.filter(state=TaskState.OPEN).count() == 2


def test_completing_stops_the_clocks_tells_the_owner_and_a_second_completion_loses(cast, rita, case):
    task = _assign(case, cast, rita)
    assignments.task_complete(incident=case, actor=rita, task=task, outcome="Spoke to them.", now=MONDAY)
    task.refresh_from_db()
    assert (task.state, task.closed_by, task.outcome) == (TaskState.DONE, rita, "Spoke to them.")
    states = dict(Deadline.objects.filter(data__task=task.pk).values_list("kind", "state"))
    assert states == {DeadlineKind.TASK_REMINDER: DeadlineState.CANCELLED, DeadlineKind.TASK_DUE: DeadlineState.DONE}
    assert _sent("task_done") == [cast.helen.email]
    with pytest.raises(Stale):
        assignments.task_complete(incident=case, actor=cast.helen, task=Task.objects.get(pk=task.pk), outcome="x")
    # The next sweeps, at the reminder and the due time, send nothing about it.
    assert _sweep(received("2025-11-27 09:00")) == 0
    assert not _sent("task_reminder") and not _sent("task_overdue") and not _sent("task_escalation")


def test_cancelling_stops_the_clocks_and_tells_the_assignee(cast, rita, case):
    task = _assign(case, cast, rita)
    assignments.task_cancel(incident=case, actor=cast.helen, task=task, reason="The parent removed it.", now=MONDAY)
    assert set(Deadline.objects.filter(data__task=task.pk).values_list("state", flat=True)) == {DeadlineState.CANCELLED}
    assert _sent("task_cancelled") == [rita.email]
    assert _sweep(received("2025-11-27 09:00")) == 0


# --- Deadlines fired by the real sweep ---------------------------------------------------------------


def test_the_sweep_reminds_then_marks_overdue_and_escalates_to_the_owner_once(cast, rita, case):
    task = _assign(case, cast, rita)
    assert _sweep(received("2025-11-25 16:59")) == 0
    assert _sweep(received("2025-11-25 17:00")) == 1
    assert _sent("task_reminder") == [rita.email]
    assert not _sent("task_escalation")
    assert _sweep(received("2025-11-26 17:01")) == 1
    assert _sent("task_overdue") == [rita.email]
    assert _sent("task_escalation") == [cast.helen.email]
    events = list(
        TimelineEntry.objects.filter(incident=case, kind=TimelineKind.TASK).values_list("data__event", "internal")
    )
    assert events == [("assigned", True), ("reminder", True), ("overdue", True)]
    # A minute later the next sweep fires nothing again; the task stays open and overdue.
    assert _sweep(received("2025-11-26 17:02")) == 0
    assert Notification.objects.filter(kind__startswith="task_").count() == 4
    assert fresh_task(task).state == TaskState.OPEN


def fresh_task(task):
    return Task.objects.get(pk=task.pk)


def test_a_late_reminder_after_the_due_time_is_not_sent(cast, rita, case):
    _assign(case, cast, rita)
    # PolicyHub was off from Tuesday to Thursday: one sweep fires both; only the overdue is sent.
    assert _sweep(received("2025-11-27 09:00")) == 2
    assert not _sent("task_reminder")
    assert _sent("task_overdue") == [rita.email]


def test_the_staff_import_lists_a_leavers_open_tasks_by_reference_only(cast, rita, case):
    from accounts import leavers

    _assign(case, cast, rita)
    done = _assign(case, cast, rita, title="Done already")
    assignments.task_complete(incident=fresh(case), actor=rita, task=done, outcome="Done.", now=MONDAY)
    held = [h for h in leavers.left_behind(rita, cast.oakfield) if h.kind == "Open task"]
    assert [(h.label, h.url) for h in held] == [
        (f"{case.reference}, due {WEDNESDAY:%-d %b %Y}", reverse("incidents:detail", args=[case.reference]))
    ]
    assert SECRET_TITLE not in held[0].label
    assert not [h for h in leavers.left_behind(rita, cast.brookside) if h.kind == "Open task"]


def test_a_leaver_gets_no_message_and_the_owner_is_still_told(cast, rita, case):
    _assign(case, cast, rita)
    Membership.objects.filter(user=rita).delete()
    assert _sweep(received("2025-11-27 09:00")) == 2
    assert not _sent("task_reminder") and not _sent("task_overdue")
    assert _sent("task_escalation") == [cast.helen.email]


# --- Emails: content-free ---------------------------------------------------------------------------


def test_every_task_email_carries_the_reference_and_a_link_and_no_content(cast, rita, case):
    task = _assign(case, cast, rita, instructions=SECRET_INSTRUCTIONS)
    _sweep(received("2025-11-25 17:00"))
    _sweep(received("2025-11-26 17:00"))
    assignments.task_complete(incident=case, actor=rita, task=task, outcome="CANARY-OUTCOME", now=MONDAY)
    other = _assign(case, cast, rita, title="CANARY-OTHER")
    assignments.task_cancel(incident=case, actor=cast.helen, task=other, reason="CANARY-REASON", now=MONDAY)
    kinds = set()
    for notification in Notification.objects.filter(kind__startswith="task_"):
        subject, body = emails.build(notification)
        kinds.add(notification.kind)
        text = subject + body
        assert case.reference in subject and emails.case_link(case) in body
        for secret in ("CANARY", "Rita", "Sam", "Helen", case.get_category_display(), "Facebook"):
            assert secret not in text, (notification.kind, secret)
    assert kinds == {"task_assigned", "task_reminder", "task_overdue", "task_escalation", "task_done", "task_cancelled"}
    reminder = Notification.objects.get(kind="task_reminder")
    assert "due Wed 26 Nov 17:00" in emails.build(reminder)[1]


# --- Views ------------------------------------------------------------------------------------------


def test_the_owner_gives_a_task_from_the_case_page_and_sees_it_there(cast, rita, case):
    helen = _client(cast.helen)
    due = _working_day_ahead(cast.oakfield, 3)
    url = reverse("incidents:assign_task", args=[case.reference])
    response = helen.post(
        url,
        {
            "assign_task-assignee": rita.pk,
            "assign_task-title": SECRET_TITLE,
            "assign_task-instructions": SECRET_INSTRUCTIONS,
            "assign_task-due_on": due.isoformat(),
        },
    )
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.assignee, task.due_on) == (rita, due)
    page = helen.get(reverse("incidents:detail", args=[case.reference])).content.decode()
    assert SECRET_TITLE in page and "Rita Rowe" in page and "Cancel the task" in page
    assert "Task given to Rita Rowe" in page  # the timeline entry


def test_bad_task_input_answers_400_with_the_message_and_changes_nothing(cast, rita, case):
    helen = _client(cast.helen)
    url = reverse("incidents:assign_task", args=[case.reference])
    saturday = timezone.localdate() + timedelta(days=(5 - timezone.localdate().weekday()) % 7 or 7)
    for data, message in [
        ({"assign_task-assignee": rita.pk, "assign_task-title": "", "assign_task-due_on": "2099-01-05"}, "required"),
        (
            {"assign_task-assignee": cast.olive.pk, "assign_task-title": "x", "assign_task-due_on": "2099-01-05"},
            "valid choice",
        ),
        (
            {"assign_task-assignee": rita.pk, "assign_task-title": "x", "assign_task-due_on": saturday.isoformat()},
            "not a working day",
        ),
    ]:
        response = helen.post(url, data, follow=True)
        assert message in response.content.decode(), data
        assert response.status_code in (200, 400)
    assert not Task.objects.exists()


def test_the_assignee_sees_a_limited_page_while_the_task_is_open_and_404_after(cast, rita, case):
    services.incident_add_note(incident=fresh(case), actor=cast.helen, note="CANARY-INTERNAL-NOTE")
    due = _working_day_ahead(cast.oakfield, 3)
    mine = _assign(case, cast, rita, now=timezone.now(), due_on=due, instructions=SECRET_INSTRUCTIONS)
    _assign(case, cast, cast.dina, now=timezone.now(), due_on=due, title="CANARY-OTHER-TASK")
    file = case.evidence.get()
    client = _client(rita)
    url = reverse("incidents:detail", args=[case.reference])
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "CANARY-DESCRIPTION" in page and SECRET_TITLE in page and SECRET_INSTRUCTIONS in page
    assert str(file.public_id) in page and "Clauses breached" in page
    for hidden in ("CANARY-INTERNAL-NOTE", "CANARY-OTHER-TASK", "Sam Taylor", "Triage and outcome", "Timeline"):
        assert hidden not in page, hidden
    assert "Cancel the task" not in page and "Give a task" not in page
    # The read is audited, and the files open.
    assert AuditEvent.objects.filter(actor=rita, action=AuditAction.VIEW, object_ref=case.reference).exists()
    assert client.get(reverse("incidents:evidence_download", args=[file.public_id])).status_code == 200
    # Home: "Your tasks".
    home = client.get(reverse("home")).content.decode()
    assert "Your tasks" in home and case.reference in home and "Overdue" not in home
    # Done: the case, its files and the home entry are gone (404 as for any case she may not see).
    response = client.post(
        reverse("incidents:complete_task", args=[case.reference]),
        {"complete_task-task": str(mine.public_id), "complete_task-outcome": "Interviewed them."},
    )
    assert response.status_code == 302
    assert client.get(url).status_code == 404
    assert client.get(reverse("incidents:evidence_download", args=[file.public_id])).status_code == 404
    assert case.reference not in client.get(reverse("home")).content.decode()
    assert AuditEvent.objects.filter(actor=rita, action=AuditAction.REFUSED, object_ref=case.reference).exists()


def test_the_assignee_cannot_use_the_owners_actions_or_others_tasks(cast, rita, case):
    due = _working_day_ahead(cast.oakfield, 3)
    mine = _assign(case, cast, rita, now=timezone.now(), due_on=due)
    other = _assign(case, cast, cast.dina, now=timezone.now(), due_on=due, title="Other")
    client = _client(rita)
    ref = case.reference
    assert (
        client.post(
            reverse("incidents:cancel_task", args=[ref]),
            {"cancel_task-task": str(mine.public_id), "cancel_task-reason": "x"},
        ).status_code
        == 403
    )
    assert client.post(reverse("incidents:add_note", args=[ref]), {"add_note-note": "x"}).status_code == 403
    assert client.post(reverse("incidents:assign_task", args=[ref]), {}).status_code == 403
    response = client.post(
        reverse("incidents:complete_task", args=[ref]),
        {"complete_task-task": str(other.public_id), "complete_task-outcome": "x"},
    )
    assert response.status_code == 403
    assert Task.objects.filter(state=TaskState.OPEN).count() == 2


def test_an_overdue_task_is_marked_on_home_and_on_the_case(cast, rita, case):
    task = _assign(case, cast, rita, now=MONDAY)  # due Wed 26 Nov 2025: long past
    client = _client(rita)
    assert task.due_at < timezone.now()
    home = client.get(reverse("home")).content.decode()
    assert "Overdue" in home
    assert "Overdue" in client.get(reverse("incidents:detail", args=[case.reference])).content.decode()


def test_the_subject_never_sees_a_task_on_their_case(cast, rita):
    about_sam = report(
        cast.oakfield, cast.dina, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.sam
    )
    # Made directly: the service refuses a task for the subject.
    Task.objects.create(
        incident=about_sam,
        assignee=cast.sam,
        assigned_by=cast.helen,
        title="x",
        due_on=WEDNESDAY,
        due_at=received("2025-11-26 17:00"),
    )
    client = _client(cast.sam)
    assert client.get(reverse("incidents:detail", args=[about_sam.reference])).status_code == 404
    assert about_sam.reference not in client.get(reverse("home")).content.decode()


# --- Query counts ---------------------------------------------------------------------------------------


def _count(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_your_tasks_and_the_case_pages_do_not_grow_with_the_number_of_tasks(cast, rita, django_assert_max_num_queries):
    cases = [report(cast.oakfield, cast.sam, files=[upload()]) for _ in range(2)]
    rita_client, helen_client = _client(rita), _client(cast.helen)
    due = _working_day_ahead(cast.oakfield, 3)
    now = timezone.now()
    counts = []
    for size in (2, 20):
        while Task.objects.count() < size:
            for incident in cases:
                _assign(incident, cast, rita, now=now, due_on=due, title=f"Task {Task.objects.count()}")
        urls = [
            (rita_client, reverse("home")),
            (rita_client, reverse("incidents:detail", args=[cases[0].reference])),
            (helen_client, reverse("incidents:detail", args=[cases[0].reference])),
        ]
        counts.append([_count(client, url) for client, url in urls])
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(counts[0][0]):
        home = rita_client.get(reverse("home")).content.decode()
    assert home.count('data-testid="home-task"') == 20


def test_a_governor_who_worked_a_task_on_the_case_does_not_decide_its_review(cast):
    from incidents.models import Status
    from incidents.transitions import review_panel
    from tests.incidents.factories import advance

    incident = advance(report(cast.oakfield, cast.sam), Status.INVESTIGATING, cast)
    due = _working_day_ahead(cast.oakfield, 3)
    task = assignments.task_assign(incident=incident, actor=cast.helen, assignee=cast.gary, title="x", due_on=due)
    assignments.task_complete(incident=fresh(incident), actor=cast.gary, task=task, outcome="Checked.")
    incident = advance(fresh(incident), Status.GOVERNOR_REVIEW, cast)
    panel = review_panel(incident)
    assert cast.gary not in panel.deciders
    assert panel.excluded[cast.gary.pk] == "you were given a task on the case"


def test_without_an_open_task_home_looks_once_and_writes_no_access_rule_for_tasks(cast, rita, case):
    """Most people have no open task: home asks whether there is one (a plain look-up by assignee)
    and goes no further. A task that is done is none; an open one is shown as before."""
    task = _assign(case, cast, rita, now=timezone.now(), due_on=_working_day_ahead(cast.oakfield, 3))
    client = _client(rita)

    def task_queries():
        with CaptureQueriesContext(connection) as queries:
            home = client.get(reverse("home")).content.decode()
        # Queries of the tasks themselves (the access rule of other cards mentions tasks too).
        return [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "incidents_task".')], home

    found, home = task_queries()
    assert 'data-testid="home-task"' in home and len(found) == 2
    assert any('"incidents_incident"' in sql for sql in found)  # the shown tasks pass the access rule

    Task.objects.filter(pk=task.pk).update(state=TaskState.DONE, closed_at=timezone.now())
    found, home = task_queries()
    assert 'data-testid="home-task"' not in home
    assert len(found) == 1 and '"incidents_incident"' not in found[0]


def test_the_form_says_beside_its_field_that_a_due_date_has_passed(cast, rita, case):
    """AssignTaskForm's own check, before the service's: the field says why, and today is accepted."""
    from incidents.forms import AssignTaskForm

    data = {"assignee": rita.pk, "title": "Ask the platform", "due_on": "2000-01-03"}
    passed = AssignTaskForm(data, incident=case)
    assert not passed.is_valid() and passed.errors["due_on"] == ["The due date has already passed."]
    today = AssignTaskForm(data | {"due_on": timezone.localdate().isoformat()}, incident=case)
    assert today.is_valid(), today.errors
