"""Platform take-downs ([8] item 4): a request to a platform, what the platform did, escalations to
POSH or Report Harmful Content; the follow-up clock fired by the real sweep and stopped by a removal;
a case closed as "content removed" only once the removal is recorded; who may act, and what the
reporter and the subject never see."""

import html
import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent, Membership, Role
from incidents import services, takedowns, tasks
from incidents.deadlines import LONDON
from incidents.errors import Invalid, NotAllowed, RequirementMissing, Stale, WrongState
from incidents.models import (
    Category,
    Deadline,
    DeadlineKind,
    DeadlineState,
    EscalationRoute,
    Involved,
    Notification,
    Outcome,
    Platform,
    Status,
    TakedownRequest,
    TakedownStatus,
    TakedownStep,
    TimelineEntry,
    TimelineKind,
)
from incidents.notify import notification_send
from tests.incidents.factories import advance, fast_passwords, fresh, policy_for, report, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

URL = "https://www.facebook.com/groups/oakfieldparents/posts/CANARY-POST-991"
THEIR_REF = "FB-CANARY-REF-3321"


def _today():
    return timezone.now().astimezone(LONDON).date()


def _case(cast, to=Status.INVESTIGATING, outcome=None, **kwargs):
    policy_for(cast.oakfield)
    return advance(report(cast.oakfield, cast.sam, **kwargs), to, cast, outcome=outcome)


def _request(incident, actor, **kwargs):
    fields = {"platform": Platform.FACEBOOK, "url": URL, "requested_on": _today(), "platform_reference": THEIR_REF}
    fields.update(kwargs)
    return takedowns.takedown_request(incident=fresh(incident), actor=actor, **fields)


def _follow_up(takedown) -> Deadline:
    return Deadline.objects.get(kind=DeadlineKind.TAKEDOWN_FOLLOW_UP, target_id=takedown.pk)


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def _send_all():
    for pk in Notification.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
        notification_send(notification_id=pk)


def _nothing_saved():
    assert not TakedownRequest.objects.exists()
    assert not TakedownStep.objects.exists()
    assert not Deadline.objects.filter(kind=DeadlineKind.TAKEDOWN_FOLLOW_UP).exists()
    assert not TimelineEntry.objects.filter(kind=TimelineKind.TAKEDOWN).exists()


# --- The services ---------------------------------------------------------------------------------


def test_a_request_is_recorded_with_its_follow_up_timeline_entry_and_audit_event(cast):
    incident = _case(cast)
    now = timezone.now()
    takedown = takedowns.takedown_request(
        incident=incident,
        actor=cast.helen,
        platform=Platform.FACEBOOK,
        url=URL,
        requested_on=_today(),
        platform_reference=THEIR_REF,
        now=now,
    )
    assert (takedown.status, takedown.url, takedown.platform_reference) == ("requested", URL, THEIR_REF)
    deadline = _follow_up(takedown)
    assert deadline.incident_id == incident.pk and deadline.target == takedown
    assert deadline.state == DeadlineState.PENDING
    assert deadline.due_at == now + timedelta(hours=48)
    assert "48 hours after the take-down request" in deadline.reason
    entry = TimelineEntry.objects.get(kind=TimelineKind.TAKEDOWN)
    assert entry.internal and entry.actor == cast.helen
    assert URL not in entry.note and THEIR_REF not in entry.note  # the page shows them; the log lines do not
    event = AuditEvent.objects.get(action=AuditAction.CHANGE, object_ref=incident.reference)
    assert event.detail == {"takedown": takedown.pk, "takedown_status": "requested"}
    # The row change itself is recorded under the case (database trigger, or the SQLite fallback).
    assert AuditEvent.objects.filter(
        action=AuditAction.DB_CHANGE, object_type="incidents_takedownrequest", object_id=str(takedown.pk)
    ).exists()
    assert fresh(incident).status == Status.INVESTIGATING  # a record, not a move


def test_the_follow_up_hours_come_from_the_setting(cast, settings):
    settings.TAKEDOWN_FOLLOW_UP_HOURS = 6
    incident = _case(cast)
    now = timezone.now()
    takedown = takedowns.takedown_request(
        incident=incident, actor=cast.helen, platform=Platform.X, url=URL, requested_on=_today(), now=now
    )
    assert _follow_up(takedown).due_at == now + timedelta(hours=6)
    assert "6 hours after" in _follow_up(takedown).reason


def test_a_request_recorded_late_is_followed_up_from_the_day_it_was_made(cast):
    incident = _case(cast)
    now = timezone.now()
    three_days_ago = (now.astimezone(LONDON) - timedelta(days=3)).date()
    takedown = takedowns.takedown_request(
        incident=incident, actor=cast.helen, platform=Platform.X, url=URL, requested_on=three_days_ago, now=now
    )
    assert _follow_up(takedown).due_at == now - timedelta(days=3) + timedelta(hours=48)  # due already


def test_the_follow_up_hours_must_be_a_positive_whole_number(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from policyhub.env import env_int

    monkeypatch.setenv("X_HOURS", "0")
    with pytest.raises(ImproperlyConfigured, match="X_HOURS must be at least 1"):
        env_int("X_HOURS", 48, minimum=1)
    monkeypatch.setenv("X_HOURS", "12")
    assert env_int("X_HOURS", 48, minimum=1) == 12


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"url": "not a link"}, "not a web address"),
        ({"url": "javascript:alert(1)"}, "not a web address"),
        ({"url": "ftp://files.example.org/post"}, "not a web address"),
        ({"url": "   "}, "give the address"),
        ({"url": "https://example.org/" + "a" * 2000}, "longer than 2000"),
        ({"requested_on": date.today() + timedelta(days=2)}, "cannot be in the future"),
        ({"platform": "myspace"}, "choose the platform"),
        ({"platform_reference": "x" * 201}, "under 200 characters"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_saves_nothing(cast, change, message):
    incident = _case(cast)
    with pytest.raises(Invalid, match=message):
        _request(incident, cast.helen, **change)
    _nothing_saved()
    assert not AuditEvent.objects.filter(action=AuditAction.CHANGE).exists()


def test_a_removal_finishes_the_request_and_stops_its_follow_up(cast):
    incident = _case(cast)
    takedown = _request(incident, cast.helen)
    done = takedowns.takedown_record_removal(
        incident=fresh(incident), actor=cast.helen, takedown=takedown, removed_on=_today(), note="Gone this morning."
    )
    assert (done.status, done.outcome_on) == (TakedownStatus.REMOVED, _today())
    deadline = _follow_up(takedown)
    assert deadline.state == DeadlineState.DONE and deadline.closed_at is not None
    # Removed is final. With no other request waiting, the actions say so; with another one waiting,
    # the removed one still cannot be recorded again, refused or escalated.
    with pytest.raises(RequirementMissing, match="No take-down request is waiting"):
        takedowns.takedown_record_removal(
            incident=fresh(incident), actor=cast.helen, takedown=fresh_td(takedown), removed_on=_today()
        )
    _request(incident, cast.helen, platform=Platform.X)
    with pytest.raises(Stale, match="already recorded as removed"):
        takedowns.takedown_record_removal(
            incident=fresh(incident), actor=cast.helen, takedown=fresh_td(takedown), removed_on=_today()
        )
    with pytest.raises(Stale, match="already recorded as removed"):
        takedowns.takedown_record_refusal(
            incident=fresh(incident), actor=cast.helen, takedown=fresh_td(takedown), refused_on=_today()
        )
    with pytest.raises(Stale, match="already recorded as removed"):
        takedowns.takedown_record_step(
            incident=fresh(incident),
            actor=cast.helen,
            takedown=fresh_td(takedown),
            route=EscalationRoute.POSH,
            taken_on=_today(),
        )
    assert not TakedownStep.objects.exists()


def fresh_td(takedown) -> TakedownRequest:
    return TakedownRequest.objects.get(pk=takedown.pk)


def test_dates_before_the_request_or_in_the_future_are_refused(cast):
    incident = _case(cast)
    yesterday = _today() - timedelta(days=1)
    takedown = _request(incident, cast.helen)
    with pytest.raises(Invalid, match="cannot be before the request"):
        takedowns.takedown_record_removal(
            incident=fresh(incident), actor=cast.helen, takedown=takedown, removed_on=yesterday
        )
    with pytest.raises(Invalid, match="cannot be in the future"):
        takedowns.takedown_record_refusal(
            incident=fresh(incident), actor=cast.helen, takedown=takedown, refused_on=_today() + timedelta(days=1)
        )
    with pytest.raises(Invalid, match="cannot be before the request"):
        takedowns.takedown_record_step(
            incident=fresh(incident), actor=cast.helen, takedown=takedown, route="posh", taken_on=yesterday
        )
    with pytest.raises(Invalid, match="where the request was escalated"):
        takedowns.takedown_record_step(
            incident=fresh(incident), actor=cast.helen, takedown=takedown, route="ofcom", taken_on=_today()
        )
    assert fresh_td(takedown).status == TakedownStatus.REQUESTED
    assert _follow_up(takedown).state == DeadlineState.PENDING
    assert not TakedownStep.objects.exists()


def test_a_refusal_then_escalations_then_the_removal(cast):
    incident = _case(cast)
    takedown = _request(incident, cast.helen)
    takedowns.takedown_record_refusal(
        incident=fresh(incident), actor=cast.helen, takedown=takedown, refused_on=_today(), note="No breach of rules."
    )
    assert fresh_td(takedown).status == TakedownStatus.REFUSED
    assert _follow_up(takedown).state == DeadlineState.DONE  # the platform answered
    with pytest.raises(Stale, match="already recorded as refused"):
        takedowns.takedown_record_refusal(
            incident=fresh(incident), actor=cast.helen, takedown=fresh_td(takedown), refused_on=_today()
        )
    for route in (EscalationRoute.POSH, EscalationRoute.RHC):
        takedowns.takedown_record_step(
            incident=fresh(incident),
            actor=cast.helen,
            takedown=fresh_td(takedown),
            route=route,
            taken_on=_today(),
            reference=f"{route}-1",
        )
    assert list(takedown.steps.values_list("route", "incident_id")) == [("posh", incident.pk), ("rhc", incident.pk)]
    takedowns.takedown_record_removal(
        incident=fresh(incident), actor=cast.helen, takedown=fresh_td(takedown), removed_on=_today()
    )
    assert fresh_td(takedown).status == TakedownStatus.REMOVED
    events = [e.data["event"] for e in TimelineEntry.objects.filter(kind=TimelineKind.TAKEDOWN)]
    assert events == ["requested", "refused", "escalated", "escalated", "removed"]


def test_a_request_of_another_case_is_refused(cast):
    incident, other = _case(cast), _case(cast)
    theirs = _request(other, cast.helen)
    with pytest.raises(Invalid, match="this case's take-down requests"):
        takedowns.takedown_record_removal(
            incident=fresh(incident), actor=cast.helen, takedown=theirs, removed_on=_today()
        )
    assert fresh_td(theirs).status == TakedownStatus.REQUESTED


def test_only_the_owners_record_and_only_while_the_case_is_open(cast):
    incident = _case(cast)
    for outsider in (cast.sam, cast.gary, cast.carol, cast.tom, cast.priya, cast.olive):
        assert not takedowns.can_record_takedown(outsider, fresh(incident))
        with pytest.raises(NotAllowed):
            _request(incident, outsider)
    assert takedowns.can_record_takedown(cast.helen, fresh(incident))
    _nothing_saved()
    # The DSL owns a safeguarding case with the head.
    dsl_case = _case(cast, category=Category.SAFEGUARDING)
    assert takedowns.can_record_takedown(cast.dina, fresh(dsl_case))
    assert _request(dsl_case, cast.dina).requested_by == cast.dina
    closed = _case(cast, Status.CLOSED, outcome=Outcome.NO_BREACH)
    assert not takedowns.can_record_takedown(cast.helen, closed)
    with pytest.raises(WrongState):
        _request(closed, cast.helen)


# --- The follow-up clock, fired by the real sweep ---------------------------------------------------


def test_the_platform_doing_nothing_for_48_hours_prompts_the_owner_by_a_content_free_email(cast):
    incident = _case(cast, involved=Involved.STAFF, subject=cast.dina, category=Category.STAFF_CONDUCT)
    takedown = _request(incident, cast.helen)
    due = _follow_up(takedown).due_at
    _send_all()  # the report's own messages, out of the way
    mail.outbox.clear()
    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        tasks.sweep_deadlines()
    assert fresh_td(takedown).status == TakedownStatus.REQUESTED
    with time_machine.travel(due + timedelta(seconds=30), tick=False):
        assert tasks.sweep_deadlines() == 1
        _send_all()
    assert fresh_td(takedown).status == TakedownStatus.NO_RESPONSE
    assert _follow_up(takedown).state == DeadlineState.FIRED
    [email] = mail.outbox
    assert email.to == [cast.helen.email]  # the owner; never the subject (Dina), nor the reporter
    assert "no action from the platform: consider escalating" in email.subject
    assert "Professionals Online Safety Helpline (POSH)" in email.body and "Report Harmful Content" in email.body
    assert incident.reference in email.body
    for secret in (URL, "CANARY", THEIR_REF, incident.description, "Dina", "Facebook"):
        assert secret not in email.subject + email.body, secret
    entry = TimelineEntry.objects.filter(kind=TimelineKind.TAKEDOWN, data__event="no_response").get()
    assert entry.internal and "consider escalating" in entry.note
    # A minute later, the next sweep sends nothing again.
    with time_machine.travel(due + timedelta(minutes=2), tick=False):
        assert tasks.sweep_deadlines() == 0
        _send_all()
    assert len(mail.outbox) == 1
    # The owner escalates to POSH, as the email says, and the request stays escalable.
    takedowns.takedown_record_step(
        incident=fresh(incident), actor=cast.helen, takedown=fresh_td(takedown), route="posh", taken_on=_today()
    )
    assert fresh_td(takedown).steps.count() == 1


def test_a_removal_recorded_in_time_stops_the_follow_up(cast):
    incident = _case(cast)
    takedown = _request(incident, cast.helen)
    due = _follow_up(takedown).due_at
    takedowns.takedown_record_removal(
        incident=fresh(incident), actor=cast.helen, takedown=takedown, removed_on=_today()
    )
    _send_all()  # the report's own messages, out of the way
    mail.outbox.clear()
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        assert tasks.sweep_deadlines() == 0
        _send_all()
    assert [m.subject for m in mail.outbox] == []
    assert fresh_td(takedown).status == TakedownStatus.REMOVED
    assert not Notification.objects.filter(kind="takedown_no_action").exists()


def test_a_removal_recorded_just_before_firing_wins(cast):
    """The sweep read the deadline as pending; the removal committed first: the effect sends nothing."""
    from incidents import clocks

    incident = _case(cast)
    takedown = _request(incident, cast.helen)
    deadline = _follow_up(takedown)
    TakedownRequest.objects.filter(pk=takedown.pk).update(status=TakedownStatus.REMOVED, outcome_on=_today())
    assert clocks.deadline_fire(deadline_id=deadline.pk, now=deadline.due_at + timedelta(seconds=1))
    assert fresh_td(takedown).status == TakedownStatus.REMOVED
    assert not Notification.objects.filter(kind="takedown_no_action").exists()


# --- Closing as "content removed" -------------------------------------------------------------------


def test_a_case_is_not_closed_as_content_removed_until_the_removal_is_recorded(cast):
    incident = _case(cast, Status.OUTCOME_PROPOSED, outcome=Outcome.CONTENT_REMOVED)
    with pytest.raises(RequirementMissing, match="record the platform's removal"):
        services.incident_close(incident=fresh(incident), actor=cast.helen)
    takedown = _request(incident, cast.helen)
    with pytest.raises(RequirementMissing, match="record the platform's removal"):
        services.incident_close(incident=fresh(incident), actor=cast.helen)
    takedowns.takedown_record_refusal(
        incident=fresh(incident), actor=cast.helen, takedown=takedown, refused_on=_today()
    )
    with pytest.raises(RequirementMissing):
        services.incident_close(incident=fresh(incident), actor=cast.helen)
    assert fresh(incident).status == Status.OUTCOME_PROPOSED
    takedowns.takedown_record_removal(
        incident=fresh(incident), actor=cast.helen, takedown=fresh_td(takedown), removed_on=_today()
    )
    services.incident_close(incident=fresh(incident), actor=cast.helen)  # closes directly: no breach for governors
    assert fresh(incident).status == Status.CLOSED


def test_the_close_button_says_why_and_the_post_changes_nothing(client, cast):
    incident = _case(cast, Status.OUTCOME_PROPOSED, outcome=Outcome.CONTENT_REMOVED)
    sign_in(client, cast.helen)
    page = client.get(reverse("incidents:detail", args=[incident.reference]))
    assert "record the platform's removal under Take-downs first" in _text(page)
    response = client.post(reverse("incidents:close", args=[incident.reference]), follow=True)
    assert "record the platform's removal" in _text(response)
    assert fresh(incident).status == Status.OUTCOME_PROPOSED


# --- Views and access -------------------------------------------------------------------------------


def _post(client, incident, name, data):
    return client.post(reverse(f"incidents:{name}", args=[incident.reference]), data)


def _form(name, **fields):
    return {f"{name}-{key}": value for key, value in fields.items()}


def test_the_owner_records_the_whole_sequence_from_the_case_page(client, cast):
    incident = _case(cast)
    sign_in(client, cast.helen)
    today = _today().isoformat()
    data = _form("request_takedown", platform="facebook", url=URL, requested_on=today, platform_reference=THEIR_REF)
    assert _post(client, incident, "request_takedown", data).status_code == 302
    takedown = TakedownRequest.objects.get()
    page = _text(client.get(reverse("incidents:detail", args=[incident.reference])))
    assert "Take-downs" in page and URL in page and THEIR_REF in page and "Record the removal" in page
    data = _form("record_platform_refusal", takedown=str(takedown.public_id), refused_on=today)
    assert _post(client, incident, "record_platform_refusal", data).status_code == 302
    page = _text(client.get(reverse("incidents:detail", args=[incident.reference])))
    assert "Consider escalating" in page and "Report Harmful Content" in page
    data = _form(
        "record_escalation_step", takedown=str(takedown.public_id), route="rhc", taken_on=today, reference="RHC-77"
    )
    assert _post(client, incident, "record_escalation_step", data).status_code == 302
    data = _form("record_removal", takedown=str(takedown.public_id), removed_on=today)
    assert _post(client, incident, "record_removal", data).status_code == 302
    takedown = fresh_td(takedown)
    assert takedown.status == TakedownStatus.REMOVED and takedown.steps.get().reference == "RHC-77"
    page = _text(client.get(reverse("incidents:detail", args=[incident.reference])))
    assert "Escalated to Report Harmful Content" in page and "Removed on" in page


def test_the_record_cards_are_offered_only_while_a_request_waits(client, cast):
    """The removal, refusal and escalation cards (views._OFFERED_WHEN): none before a request, all three
    while one waits for the platform, none once it is removed; a refused post shows its card with why."""
    incident = _case(cast)
    sign_in(client, cast.helen)
    names = ("record_removal", "record_platform_refusal", "record_escalation_step")

    def offered(response=None):
        page = (response or client.get(reverse("incidents:detail", args=[incident.reference]))).content.decode()
        return [f'id="panel-{name}"' in page for name in names]

    assert offered() == [False] * 3
    takedown = _request(incident, cast.helen)
    assert offered() == [True] * 3
    removed = {"takedown": takedown, "removed_on": _today()}
    takedowns.takedown_record_removal(incident=fresh(incident), actor=cast.helen, **removed)
    assert offered() == [False] * 3
    refused = _post(client, incident, "record_removal", _form("record_removal", removed_on=_today().isoformat()))
    assert refused.status_code == 400 and offered(refused) == [True, False, False]
    assert "No take-down request is waiting" in _text(refused)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "not a link"}, "Enter a valid URL"),
        ({"requested_on": (date.today() + timedelta(days=3)).isoformat()}, "cannot be in the future"),
        ({"platform": "myspace"}, "Select a valid choice"),
    ],
)
def test_a_bad_form_shows_its_message_and_saves_nothing(client, cast, fields, message):
    incident = _case(cast)
    sign_in(client, cast.helen)
    data = {"platform": "facebook", "url": URL, "requested_on": _today().isoformat()} | fields
    response = _post(client, incident, "request_takedown", _form("request_takedown", **data))
    assert response.status_code == 400
    assert message in _text(response)
    _nothing_saved()


def test_a_request_of_another_case_cannot_be_posted(client, cast):
    incident, other = _case(cast), _case(cast)
    theirs = _request(other, cast.helen)
    sign_in(client, cast.helen)
    data = _form("record_removal", takedown=str(theirs.public_id), removed_on=_today().isoformat())
    response = _post(client, incident, "record_removal", data)
    assert response.status_code == 400 and "this case's take-down requests" in _text(response)
    assert fresh_td(theirs).status == TakedownStatus.REQUESTED


def test_who_may_post_the_take_down_actions(client, cast):
    """Only the case's owners act. The reporter sees the case, so is refused (403, the house order);
    the subject, other schools' heads, governors outside a review and staff get no case at all (404)."""
    Membership.objects.create(user=cast.dina, school=cast.oakfield, role=Role.GOVERNOR)
    incident = _case(cast, involved=Involved.STAFF, subject=cast.dina, category=Category.STAFF_CONDUCT)
    takedown = _request(incident, cast.helen)
    today = _today().isoformat()
    posts = {
        "request_takedown": _form("request_takedown", platform="x", url=URL, requested_on=today),
        "record_removal": _form("record_removal", takedown=str(takedown.public_id), removed_on=today),
        "record_platform_refusal": _form("record_platform_refusal", takedown=str(takedown.public_id), refused_on=today),
        "record_escalation_step": _form(
            "record_escalation_step", takedown=str(takedown.public_id), route="posh", taken_on=today
        ),
    }
    expected = {cast.sam: 403, cast.dina: 404, cast.olive: 404, cast.gary: 404, cast.carol: 404, cast.priya: 404}
    for person, status in expected.items():
        client = Client()
        sign_in(client, person)
        for name, data in posts.items():
            assert _post(client, incident, name, data).status_code == status, (person, name)
    assert TakedownRequest.objects.count() == 1 and fresh_td(takedown).status == TakedownStatus.REQUESTED
    assert not TakedownStep.objects.exists()


def test_the_reporter_sees_nothing_of_the_take_downs(client, cast):
    incident = _case(cast, Status.OUTCOME_PROPOSED, outcome=Outcome.CONTENT_REMOVED)
    takedown = _request(incident, cast.helen)
    takedowns.takedown_record_step(
        incident=fresh(incident),
        actor=cast.helen,
        takedown=takedown,
        route="posh",
        taken_on=_today(),
        reference="POSH-CANARY",
    )
    takedowns.takedown_record_removal(
        incident=fresh(incident), actor=cast.helen, takedown=fresh_td(takedown), removed_on=_today()
    )
    services.incident_close(incident=fresh(incident), actor=cast.helen)
    sign_in(client, cast.sam)
    response = client.get(reverse("incidents:detail", args=[incident.reference]))
    assert "incidents/_case_takedowns.html" not in {t.name for t in response.templates}
    text = _text(response)
    assert "Closed" in text
    for secret in (URL, THEIR_REF, "POSH", "Take-down", "take-down", "Report Harmful Content", "removed"):
        assert secret not in text, secret


def test_the_owner_page_reads_the_take_downs_in_a_fixed_number_of_queries(cast):
    incident = _case(cast)
    client = Client()
    sign_in(client, cast.helen)
    url = reverse("incidents:detail", args=[incident.reference])

    def count():
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    counts = []
    for total in (1, 6):
        while TakedownRequest.objects.count() < total:
            takedown = _request(incident, cast.helen)
            for route in ("posh", "rhc"):
                takedowns.takedown_record_step(
                    incident=fresh(incident), actor=cast.helen, takedown=takedown, route=route, taken_on=_today()
                )
        counts.append(count())
    assert counts[0] == counts[1], counts


def test_the_audit_trail_files_take_down_rows_under_their_case_and_hides_them_from_its_subject(cast):
    from accounts.audit_cases import concerning, hidden_from

    incident = _case(cast, involved=Involved.STAFF, subject=cast.dina, category=Category.STAFF_CONDUCT)
    other = _case(cast)
    takedown = _request(incident, cast.helen)
    step = takedowns.takedown_record_step(
        incident=fresh(incident), actor=cast.helen, takedown=takedown, route="rhc", taken_on=_today()
    )
    # Row changes that name only the row (as events recorded before a row named its case do).
    rows = [
        AuditEvent.objects.create(action=AuditAction.DB_CHANGE, object_type=table, object_id=str(pk))
        for table, pk in (("incidents_takedownrequest", takedown.pk), ("incidents_takedownstep", step.pk))
    ]
    for event in rows:
        assert AuditEvent.objects.filter(concerning([incident.pk]), pk=event.pk).exists()
        assert not AuditEvent.objects.filter(concerning([other.pk]), pk=event.pk).exists()
        assert AuditEvent.objects.filter(hidden_from(cast.dina), pk=event.pk).exists()
    # And every event the take-downs wrote is hidden from the case's subject.
    written = AuditEvent.objects.filter(concerning([incident.pk]), at__gte=takedown.created_at)
    assert written.exists()
    assert written.filter(hidden_from(cast.dina)).count() == written.count()


def test_a_follow_up_firing_on_a_closed_case_records_it_and_prompts_nobody(cast):
    incident = _case(cast, Status.OUTCOME_PROPOSED, outcome=Outcome.NO_BREACH)
    takedown = _request(incident, cast.helen)
    services.incident_close(incident=fresh(incident), actor=cast.helen)
    due = _follow_up(takedown).due_at
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        assert tasks.sweep_deadlines() == 1
    assert fresh_td(takedown).status == TakedownStatus.NO_RESPONSE
    assert TimelineEntry.objects.filter(kind=TimelineKind.TAKEDOWN, data__event="no_response").exists()
    assert not Notification.objects.filter(kind="takedown_no_action").exists()
