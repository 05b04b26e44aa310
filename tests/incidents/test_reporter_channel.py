"""The reporter's channel ([8] item 3): messages between a case's reporter and its owners.

Services (who may write, when, what is recorded, who is emailed), the two sides' pages (the
reporter reads their own thread only, never internal notes or names), emails without the text,
access (404 for anyone who may not see the case, the subject and a former reporter included) and
the case page's query count, which must not grow with the thread."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from incidents import reporter_channel, services
from incidents import tasks as incident_tasks
from incidents.errors import Invalid, NotAllowed, RequirementMissing, WrongState
from incidents.models import (
    MESSAGE_MAX_LENGTH,
    CaseMessage,
    Category,
    Involved,
    MessageKind,
    Notification,
    Outcome,
    Status,
    TimelineEntry,
    TimelineKind,
)
from incidents.notify import notification_send
from incidents.reporter_channel_rules import REPORTER_WINDOW_DAYS
from tests.factories import person
from tests.incidents.factories import advance, fast_passwords, fresh, report, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

FROM_SAM = "MSG-SAM-7731: the post is still up and now has comments naming a pupil."
FROM_HELEN = "MSG-HELEN-5512: thank you, we have spoken to the parent."
WHAT_WE_DID = "MSG-WWD-9034: the parent removed the post and met the head."
NOTE = "NOTE-INTERNAL-4410: the parent has a history of this."


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _deliver() -> list:
    """Send every notification now (what the worker does after commit); the emails sent."""
    for pk in Notification.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
        notification_send(notification_id=pk)
    return list(mail.outbox)


def _about(cast, subject, category=Category.STAFF_CONDUCT, **kwargs):
    return report(cast.oakfield, cast.sam, category=category, involved=Involved.STAFF, subject=subject, **kwargs)


def _closed(cast):
    return advance(report(cast.oakfield, cast.sam), Status.CLOSED, cast, outcome=Outcome.NO_BREACH)


def _counts(incident):
    return (
        CaseMessage.objects.filter(incident=incident).count(),
        TimelineEntry.objects.filter(
            incident=incident, kind__in=[TimelineKind.MESSAGE, TimelineKind.WHAT_WE_DID]
        ).count(),
        Notification.objects.filter(incident=incident, kind__startswith="message").count()
        + Notification.objects.filter(incident=incident, kind="what_we_did").count(),
    )


# --- Services ------------------------------------------------------------------------------------


def test_the_owner_writes_to_the_reporter_who_is_emailed_a_link(cast):
    incident = report(cast.oakfield, cast.sam)
    message = reporter_channel.message_reporter(incident=incident, actor=cast.helen, body=f"  {FROM_HELEN}\n")
    assert (message.kind, message.body, message.author, message.reporter) == (
        MessageKind.TO_REPORTER,
        FROM_HELEN,
        cast.helen,
        cast.sam,
    )
    entry = TimelineEntry.objects.get(incident=incident, kind=TimelineKind.MESSAGE)
    # Internal, and without the text: the thread is where it is read.
    assert entry.internal and FROM_HELEN not in entry.note and entry.data["message"] == message.pk
    sent = Notification.objects.filter(incident=incident, kind="message_for_reporter")
    assert [n.recipient for n in sent] == [cast.sam]


def test_the_reporter_writes_to_every_owner_and_never_to_the_subject(cast):
    incident = report(
        cast.oakfield, cast.dina, category=Category.SAFEGUARDING, involved=Involved.STAFF, subject=cast.sam
    )
    hugo = person("Hugo Hale", cast.oakfield, Role.HEAD, Role.STAFF)
    reporter_channel.message_owner(incident=incident, actor=cast.dina, body=FROM_SAM)
    told = {n.recipient for n in Notification.objects.filter(incident=incident, kind="message_for_owner")}
    # Both heads own it; Dina is its DSL but wrote the message herself; Sam is its subject.
    assert told == {cast.helen, hugo}
    assert cast.sam not in told and cast.dina not in told


def test_on_a_case_about_the_head_only_the_chair_is_told(cast):
    incident = _about(cast, cast.helen)
    reporter_channel.message_owner(incident=incident, actor=cast.sam, body=FROM_SAM)
    told = [n.recipient for n in Notification.objects.filter(incident=incident, kind="message_for_owner")]
    assert told == [cast.carol]


def test_a_child_at_risk_case_tells_the_head_and_the_dsl(cast):
    incident = report(cast.oakfield, cast.sam, child_at_risk=True)
    reporter_channel.message_owner(incident=incident, actor=cast.sam, body=FROM_SAM)
    told = {n.recipient for n in Notification.objects.filter(incident=incident, kind="message_for_owner")}
    assert told == {cast.helen, cast.dina}
    # The DSL may write back.
    reporter_channel.message_reporter(incident=fresh(incident), actor=cast.dina, body=FROM_HELEN)


@pytest.mark.parametrize(
    "body, problem",
    [("", "Please write your message"), ("   \n ", "Please write your message"), ("x" * 2001, "2000 characters")],
)
def test_an_empty_or_too_long_message_is_refused_and_changes_nothing(cast, body, problem):
    incident = report(cast.oakfield, cast.sam)
    before = _counts(incident)
    for service, actor in ((reporter_channel.message_owner, cast.sam), (reporter_channel.message_reporter, cast.helen)):
        with pytest.raises(Invalid, match=problem):
            service(incident=fresh(incident), actor=actor, body=body)
    assert _counts(incident) == before


def test_a_message_of_exactly_the_limit_is_sent(cast):
    incident = report(cast.oakfield, cast.sam)
    assert MESSAGE_MAX_LENGTH == 2000
    reporter_channel.message_owner(incident=incident, actor=cast.sam, body="y" * MESSAGE_MAX_LENGTH)
    assert CaseMessage.objects.get(incident=incident).body == "y" * MESSAGE_MAX_LENGTH


def test_only_the_reporter_writes_to_the_owner_and_only_owners_to_the_reporter(cast):
    incident = report(cast.oakfield, cast.sam)
    for actor in (cast.helen, cast.gary, cast.olive, cast.bethan, cast.dina):
        with pytest.raises(NotAllowed):
            reporter_channel.message_owner(incident=fresh(incident), actor=actor, body=FROM_SAM)
    for actor in (cast.sam, cast.gary, cast.olive, cast.dina, cast.carol):
        with pytest.raises(NotAllowed):
            reporter_channel.message_reporter(incident=fresh(incident), actor=actor, body=FROM_HELEN)
    assert not CaseMessage.objects.exists()


def test_the_reporter_may_write_for_a_while_after_closing_and_the_owner_always(cast):
    incident = _closed(cast)
    reporter_channel.message_owner(incident=fresh(incident), actor=cast.sam, body=FROM_SAM)
    late = timezone.now() + timedelta(days=REPORTER_WINDOW_DAYS, minutes=1)
    with pytest.raises(Invalid, match="make a new report"):
        reporter_channel.message_owner(incident=fresh(incident), actor=cast.sam, body=FROM_SAM, now=late)
    # The page asks the table, on the clock: past the window the form is refused there too.
    with time_machine.travel(late, tick=False), pytest.raises(RequirementMissing):
        reporter_channel.message_owner(incident=fresh(incident), actor=cast.sam, body=FROM_SAM)
    reporter_channel.message_reporter(incident=fresh(incident), actor=cast.helen, body=FROM_HELEN, now=late)
    assert CaseMessage.objects.filter(incident=incident).count() == 2
    # Reopened, the reporter may write again.
    with time_machine.travel(late, tick=False):
        services.incident_reopen(incident=fresh(incident), actor=cast.helen, reason="New posts.")
        reporter_channel.message_owner(incident=fresh(incident), actor=cast.sam, body=FROM_SAM)


def test_what_we_did_is_for_a_closed_case_once_per_closing_by_its_owner(cast):
    incident = report(cast.oakfield, cast.sam, child_at_risk=True)
    with pytest.raises(WrongState):
        reporter_channel.what_we_did(incident=incident, actor=cast.helen, body=WHAT_WE_DID)
    incident = advance(incident, Status.CLOSED, cast, outcome=Outcome.NO_BREACH)
    with pytest.raises(NotAllowed):  # the DSL helps own the case but does not close it
        reporter_channel.what_we_did(incident=fresh(incident), actor=cast.dina, body=WHAT_WE_DID)
    with pytest.raises(NotAllowed):
        reporter_channel.what_we_did(incident=fresh(incident), actor=cast.sam, body=WHAT_WE_DID)
    message = reporter_channel.what_we_did(incident=fresh(incident), actor=cast.helen, body=WHAT_WE_DID)
    assert message.kind == MessageKind.WHAT_WE_DID and message.reporter == cast.sam
    assert TimelineEntry.objects.get(incident=incident, kind=TimelineKind.WHAT_WE_DID).internal
    assert Notification.objects.get(incident=incident, kind="what_we_did").recipient == cast.sam
    with pytest.raises(RequirementMissing, match="already|has been sent"):
        reporter_channel.what_we_did(incident=fresh(incident), actor=cast.helen, body=WHAT_WE_DID)
    # Reopened and closed again: a new account may be written.
    services.incident_reopen(incident=fresh(incident), actor=cast.helen, reason="More posts.")
    services.incident_propose_outcome(incident=fresh(incident), actor=cast.helen, outcome=Outcome.ADVICE, reason="R")
    services.incident_close(incident=fresh(incident), actor=cast.helen)
    reporter_channel.what_we_did(incident=fresh(incident), actor=cast.helen, body=WHAT_WE_DID)
    assert CaseMessage.objects.filter(incident=incident, kind=MessageKind.WHAT_WE_DID).count() == 2


def test_a_former_reporter_is_written_to_no_more(cast):
    incident = report(cast.oakfield, cast.sam)
    cast.sam.is_active = False
    cast.sam.save(update_fields=["is_active"])
    with pytest.raises(RequirementMissing, match="no longer active"):
        reporter_channel.message_reporter(incident=fresh(incident), actor=cast.helen, body=FROM_HELEN)
    assert not CaseMessage.objects.exists() and not Notification.objects.filter(recipient=cast.sam).exists()


def test_emails_carry_a_link_and_never_the_text(cast):
    incident = report(cast.oakfield, cast.sam, description="DESC-REPORT-1234 a post about the trip")
    mail.outbox.clear()
    reporter_channel.message_owner(incident=fresh(incident), actor=cast.sam, body=FROM_SAM)
    reporter_channel.message_reporter(incident=fresh(incident), actor=cast.helen, body=FROM_HELEN)
    incident = advance(fresh(incident), Status.CLOSED, cast, outcome=Outcome.NO_BREACH)
    reporter_channel.what_we_did(incident=fresh(incident), actor=cast.helen, body=WHAT_WE_DID)
    emails = _deliver()
    kinds = {"a message from the reporter", "a message about your report", "what was done about your report"}
    ours = [m for m in emails if any(k in m.subject for k in kinds)]
    assert {m.to[0] for m in ours} == {cast.sam.email, cast.helen.email} and len(ours) == 3
    link = reverse("incidents:detail", args=[incident.reference]) + "#messages"
    for m in emails:  # every email, not only ours: the text never travels
        for secret in (FROM_SAM, FROM_HELEN, WHAT_WE_DID, "MSG-", "DESC-REPORT"):
            assert secret not in m.subject and secret not in m.body, m.subject
    for m in ours:
        assert link in m.body and incident.reference in m.subject
    # A minute later the outbox sweep finds nothing left to send: each message was emailed once.
    assert incident_tasks.sweep_outbox(older_than_seconds=0) == 0
    assert len(mail.outbox) == len(emails)


def test_a_head_who_reported_at_their_own_school_writes_to_the_other_owners_only(cast):
    hugo = person("Hugo Hale", cast.oakfield, Role.HEAD, Role.STAFF)
    incident = report(cast.oakfield, hugo)
    reporter_channel.message_owner(incident=incident, actor=hugo, body=FROM_SAM)
    told = [n.recipient for n in Notification.objects.filter(incident=incident, kind="message_for_owner")]
    assert told == [cast.helen]
    # Helen's reply is for Hugo as the reporter; he is emailed, she is not.
    reporter_channel.message_reporter(incident=fresh(incident), actor=cast.helen, body=FROM_HELEN)
    assert [n.recipient for n in Notification.objects.filter(incident=incident, kind="message_for_reporter")] == [hugo]


# --- The pages -----------------------------------------------------------------------------------


@pytest.fixture
def thread(cast):
    """Sam's report with a message each way, an internal note, and a message of another reporter's
    thread on the same case (as a merged report's would be, were it ever moved here)."""
    incident = report(cast.oakfield, cast.sam)
    reporter_channel.message_owner(incident=incident, actor=cast.sam, body=FROM_SAM)
    reporter_channel.message_reporter(incident=fresh(incident), actor=cast.helen, body=FROM_HELEN)
    services.incident_add_note(incident=fresh(incident), actor=cast.helen, note=NOTE)
    rita = person("Rita Rowe", cast.oakfield, Role.STAFF)
    CaseMessage.objects.create(
        incident=incident,
        reporter=rita,
        author=cast.helen,
        kind=MessageKind.TO_REPORTER,
        body="MSG-OTHER-REPORTER-2290",
        sent_at=timezone.now(),
    )
    return fresh(incident)


def _detail(client, user, incident):
    sign_in(client, user)
    return client.get(reverse("incidents:detail", args=[incident.reference]))


def test_the_reporter_reads_their_own_thread_without_names_or_internal_entries(client, cast, thread):
    response = _detail(client, cast.sam, thread)
    assert response.status_code == 200
    text = _text(response)
    assert FROM_SAM in text and FROM_HELEN in text
    assert "You wrote" in text and "From the school" in text
    assert "MSG-OTHER-REPORTER" not in text  # another reporter's thread
    assert NOTE not in text and "Message to the reporter." not in text  # internal timeline entries
    assert cast.helen.full_name not in text
    assert "Send a message about your report" in text  # the reporter's form
    assert "Message the reporter" not in text


def test_the_owner_reads_the_whole_thread_with_names(client, cast, thread):
    text = _text(_detail(client, cast.helen, thread))
    assert FROM_SAM in text and FROM_HELEN in text and "MSG-OTHER-REPORTER-2290" in text
    assert (
        f"From the reporter, {cast.sam.full_name}" in text and f"To the reporter, from {cast.helen.full_name}" in text
    )
    assert "Message the reporter" in text and "Send a message about your report" not in text
    assert "Message from the reporter." in text  # the internal timeline entry, without the text


def test_the_reporter_sends_a_message_from_their_page(client, cast):
    incident = report(cast.oakfield, cast.sam)
    sign_in(client, cast.sam)
    url = reverse("incidents:message_owner", args=[incident.reference])
    response = client.post(url, {"message_owner-body": FROM_SAM})
    assert response.status_code == 302
    assert CaseMessage.objects.get(incident=incident).body == FROM_SAM
    page = _text(client.get(response["Location"]))
    assert "Message sent." in page and FROM_SAM in page


@pytest.mark.parametrize("body, problem", [("  ", "Please write your message"), ("z" * 2001, "2000 characters")])
def test_a_refused_message_keeps_the_typed_text_and_changes_nothing(client, cast, body, problem):
    incident = report(cast.oakfield, cast.sam)
    before = _counts(incident)
    for user, name in ((cast.sam, "message_owner"), (cast.helen, "message_reporter")):
        sign_in(client, user)
        response = client.post(reverse(f"incidents:{name}", args=[incident.reference]), {f"{name}-body": body})
        assert response.status_code == 400
        html = response.content.decode()
        assert problem in html
        if body.strip():
            assert body in html  # the text is kept in the form
    assert _counts(incident) == before


def test_the_owner_writes_and_closes_the_loop_from_the_case_page(client, cast):
    incident = _closed(cast)
    sign_in(client, cast.helen)
    ref = incident.reference
    assert (
        client.post(
            reverse("incidents:message_reporter", args=[ref]), {"message_reporter-body": FROM_HELEN}
        ).status_code
        == 302
    )
    assert (
        client.post(reverse("incidents:what_we_did", args=[ref]), {"what_we_did-body": WHAT_WE_DID}).status_code == 302
    )
    text = _text(_detail(client, cast.sam, incident))
    assert FROM_HELEN in text and WHAT_WE_DID in text and "What we did" in text
    # A second account for the same closing: refused with the reason, nothing added.
    sign_in(client, cast.helen)
    response = client.post(reverse("incidents:what_we_did", args=[ref]), {"what_we_did-body": "again"}, follow=True)
    assert "has been sent for this closing" in _text(response)
    assert CaseMessage.objects.filter(incident=incident, kind=MessageKind.WHAT_WE_DID).count() == 1


def test_past_the_window_the_reporter_page_says_why_and_the_post_changes_nothing(client, cast):
    incident = _closed(cast)
    with time_machine.travel(timezone.now() + timedelta(days=REPORTER_WINDOW_DAYS + 1), tick=False):
        text = _text(_detail(client, cast.sam, incident))
        assert "make a new report" in text
        response = client.post(
            reverse("incidents:message_owner", args=[incident.reference]), {"message_owner-body": FROM_SAM}, follow=True
        )
        assert "make a new report" in _text(response)
    assert not CaseMessage.objects.exists()


# --- Access --------------------------------------------------------------------------------------

URLS = ["incidents:message_owner", "incidents:message_reporter", "incidents:what_we_did"]


def test_another_reporter_at_the_school_and_the_subject_get_404_and_read_nothing(client, cast):
    incident = report(
        cast.oakfield, cast.dina, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.sam
    )
    reporter_channel.message_owner(incident=incident, actor=cast.dina, body=FROM_SAM)
    rita = person("Rita Rowe", cast.oakfield, Role.STAFF)
    report(cast.oakfield, rita)  # Rita reported another case at the school
    for outsider in (rita, cast.sam, cast.olive):
        response = _detail(client, outsider, incident)
        assert response.status_code == 404 and FROM_SAM not in response.content.decode()
        for name in URLS:
            url = reverse(name, args=[incident.reference])
            assert client.post(url, {f"{name.split(':')[1]}-body": "hello"}).status_code == 404, (outsider, name)
    assert CaseMessage.objects.count() == 1


def test_a_governor_reads_no_thread_and_may_not_write(client, cast):
    incident = advance(report(cast.oakfield, cast.sam), Status.GOVERNOR_REVIEW, cast)
    reporter_channel.message_owner(incident=incident, actor=cast.sam, body=FROM_SAM)
    response = _detail(client, cast.gary, incident)
    assert response.status_code == 200 and FROM_SAM not in response.content.decode()
    for name in URLS:
        url = reverse(name, args=[incident.reference])
        assert client.post(url, {f"{name.split(':')[1]}-body": "hi"}).status_code == 403, name


def test_a_reporter_who_is_also_a_governor_keeps_their_thread_in_the_review(client, cast):
    from tests.factories import member

    member(cast.sam, cast.oakfield, Role.GOVERNOR)
    incident = advance(report(cast.oakfield, cast.sam), Status.GOVERNOR_REVIEW, cast)
    reporter_channel.message_reporter(incident=incident, actor=cast.helen, body=FROM_HELEN)
    text = _text(_detail(client, cast.sam, incident))
    assert FROM_HELEN in text and "From the school" in text and cast.helen.full_name not in text


def test_a_former_reporter_never_reads_the_thread(client, cast, thread):
    sign_in(client, cast.sam)
    url = reverse("incidents:detail", args=[thread.reference])
    assert client.get(url).status_code == 200
    cast.sam.is_active = False
    cast.sam.save(update_fields=["is_active"])
    response = client.get(url)
    assert response.status_code in (302, 404) and FROM_HELEN not in response.content.decode()
    assert not type(thread).objects.visible_to(cast.sam).exists()


# --- Query counts: the case page does not grow with the thread -------------------------------------


def _queries(client, url) -> int:
    client.get(url)  # warm per-process caches out of the count
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("side", ["owner", "reporter"])
def test_the_case_page_reads_the_same_queries_at_two_and_forty_messages(
    client, cast, side, django_assert_max_num_queries
):
    incident = report(cast.oakfield, cast.sam)
    sign_in(client, cast.helen if side == "owner" else cast.sam)
    url = reverse("incidents:detail", args=[incident.reference])

    def grow_to(n):
        while CaseMessage.objects.filter(incident=incident).count() < n:
            reporter_channel.message_owner(incident=fresh(incident), actor=cast.sam, body=FROM_SAM)
            reporter_channel.message_reporter(incident=fresh(incident), actor=cast.helen, body=FROM_HELEN)

    grow_to(2)
    small = _queries(client, url)
    grow_to(40)
    client.get(url)
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert response.content.decode().count(FROM_SAM) == 20


# --- Kept like the timeline: audited, append-only, deleted only with the case ----------------------


def test_a_message_is_audited_and_goes_with_the_case_at_retention(
    cast, django_capture_on_commit_callbacks, settings, tmp_path
):
    from accounts.models import AuditAction, AuditEvent
    from dataprotection import retention
    from dataprotection.retention import add_years
    from tests.dataprotection.retention_cases import closed_at, closed_case

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RETENTION_DEFAULT_YEARS = 6
    incident = closed_case(cast, files=0)
    message = reporter_channel.message_owner(incident=fresh(incident), actor=cast.sam, body=FROM_SAM)
    event = AuditEvent.objects.get(action=AuditAction.DB_CHANGE, object_type="incidents_casemessage")
    assert event.object_id == str(message.pk) and event.detail["incident"] == incident.pk
    assert FROM_SAM not in str(event.detail)
    with django_capture_on_commit_callbacks(execute=True):
        assert retention.retention_delete(incident_id=incident.pk, now=add_years(closed_at(incident), 6))
    assert not CaseMessage.objects.filter(pk=message.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_message_is_never_edited_or_deleted_outside_the_retention_job(cast):
    from django.db import transaction
    from django.db.utils import DatabaseError

    incident = report(cast.oakfield, cast.sam)
    message = reporter_channel.message_owner(incident=incident, actor=cast.sam, body=FROM_SAM)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseMessage.objects.filter(pk=message.pk).update(body="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseMessage.objects.filter(pk=message.pk).delete()
    assert CaseMessage.objects.get(pk=message.pk).body == FROM_SAM
