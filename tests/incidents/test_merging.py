"""Linked and merged reports (incidents/merging.py, docs/linked-reports.md): the services, their
refusals (a clear message, nothing changed), the clocks a merge stops (and the next sweep not firing
them), the reporter's and the owners' pages, the content-free email, split, and the subject guard."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Role
from incidents import clocks, merging, services
from incidents.errors import ActionRefused, Invalid, NotAllowed, WrongState
from incidents.models import (
    CaseLink,
    Category,
    Deadline,
    DeadlineKind,
    DeadlineState,
    Incident,
    Involved,
    Notification,
    Outcome,
    Status,
    TimelineEntry,
    TimelineKind,
)
from incidents.notify import notification_send
from incidents.references import parse
from tests.factories import person
from tests.incidents.factories import advance, fast_passwords, fresh, report, sign_in, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

POST = "https://www.facebook.com/oakfield.parents/posts/12345"
SECRET = "CANARY the parent named a child in the post"


@pytest.fixture
def rita(cast):
    return person("Rita Rowe", cast.oakfield, Role.STAFF)


def _pair(cast, rita, **b_fields):
    """A: Sam's report of the post; B: Rita's report of the same post (what gets merged)."""
    a = report(cast.oakfield, cast.sam, links=POST, files=[upload("sams-file.png")])
    b_fields.setdefault("links", "m.facebook.com/oakfield.parents/posts/12345/?fbclid=XYZ")
    b = report(cast.oakfield, rita, description=SECRET, files=[upload("rita.png")], **b_fields)
    return a, b


def _merge(b, a, actor):
    return merging.incident_merge(incident=fresh(b), actor=actor, into=parse(a.reference))


def _snapshot(*cases):
    """Everything a refused action must leave as it was."""
    ids = [c.pk for c in cases]
    return (
        [fresh(c).status for c in cases],
        [fresh(c).merged_into_id for c in cases],
        sorted(Deadline.objects.filter(incident_id__in=ids).values_list("pk", "state")),
        TimelineEntry.objects.filter(incident_id__in=ids).count(),
        Notification.objects.filter(incident_id__in=ids).count(),
        CaseLink.objects.count(),
        AuditEvent.objects.filter(action="change").count(),
    )


def _send_all():
    for pk in Notification.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
        notification_send(notification_id=pk)


def _client(user):
    client = Client()
    sign_in(client, user)
    return client


# --- Merge -----------------------------------------------------------------------------------------


def test_a_merge_keeps_the_report_stops_its_clocks_with_a_reason_and_tells_its_reporter(cast, rita):
    a, b = _pair(cast, rita)
    pending = set(Deadline.objects.filter(incident=b, state=DeadlineState.PENDING).values_list("pk", flat=True))
    assert pending  # the response clock and its reminders
    mail.outbox.clear()
    Notification.objects.all().update(sent_at=timezone.now())

    _merge(b, a, cast.helen)

    b = fresh(b)
    assert (b.status, b.merged_into_id, b.status_before_merge) == (Status.MERGED, a.pk, Status.SUBMITTED)
    assert b.reporter == rita and b.description == SECRET and b.evidence.count() == 1  # kept as it was
    for deadline in Deadline.objects.filter(pk__in=pending):
        assert deadline.state == DeadlineState.CANCELLED
        assert deadline.data["cancelled_reason"] == f"merged into {a.reference}"
    assert not Deadline.objects.filter(incident=b, state=DeadlineState.PENDING).exists()
    assert fresh(a).status == Status.SUBMITTED  # the survivor goes on as it was
    # A timeline entry on both cases; the reporter's (public) one names no other case.
    mine = TimelineEntry.objects.get(incident=b, kind=TimelineKind.MERGE)
    assert not mine.internal and a.reference not in mine.note
    theirs = TimelineEntry.objects.get(incident=a, kind=TimelineKind.MERGE)
    assert theirs.internal and b.reference in theirs.note
    # Audited on both, by ids and references only.
    events = AuditEvent.objects.filter(action="change", object_ref__in=[a.reference, b.reference])
    assert {e.object_ref for e in events if "merged_into" in e.detail or "merged_report" in e.detail} == {
        a.reference,
        b.reference,
    }
    # The reporter's email: content-free, B's reference and link, nothing of A.
    _send_all()
    [message] = [m for m in mail.outbox if rita.email in m.to]
    text = message.subject + message.body
    assert b.reference in text and reverse("incidents:detail", args=[b.reference]) in text
    for leak in (a.reference, SECRET, "CANARY", cast.sam.full_name, cast.helen.full_name, "facebook"):
        assert leak not in text
    assert [m for m in mail.outbox if cast.sam.email in m.to] == []  # A's reporter hears nothing


def test_the_next_sweeps_do_not_fire_a_merged_reports_clocks(cast, rita):
    a, b = _pair(cast, rita)
    due = fresh(b).response_due_at
    _merge(b, a, cast.helen)
    Notification.objects.all().update(sent_at=timezone.now())
    # The sweep a minute after the deadline, and a day later: nothing of B fires or escalates.
    for later in (due + timedelta(minutes=1), due + timedelta(days=1)):
        clocks.deadlines_sweep(now=later)
    b = fresh(b)
    assert b.escalated_at is None and b.overdue_at is None
    assert not Deadline.objects.filter(incident=b, state=DeadlineState.FIRED).exists()
    assert not TimelineEntry.objects.filter(incident=b, kind__in=[TimelineKind.OVERDUE, TimelineKind.ESCALATED])
    assert not Notification.objects.filter(incident=b, sent_at__isnull=True).exists()
    # The survivor's own clock still runs: it was not acknowledged, so it escalates as it should.
    assert fresh(a).escalated_at is not None


def test_refusals_say_why_and_change_nothing(cast, rita):
    a, b = _pair(cast, rita)
    closed = advance(report(cast.oakfield, cast.sam), Status.CLOSED, cast, outcome=Outcome.NO_BREACH)
    elsewhere = report(cast.brookside, cast.bethan)
    other, merged = report(cast.oakfield, cast.sam), report(cast.oakfield, rita)
    _merge(merged, other, cast.helen)
    about_sam = report(cast.oakfield, rita, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.sam)
    safeguarding = report(cast.oakfield, rita, category=Category.SAFEGUARDING)
    cases = [a, b, closed, elsewhere, other, merged, about_sam, safeguarding]
    refusals = [
        # (report merged, survivor, who, error, words of the message)
        (b, b, cast.helen, Invalid, "itself"),
        (b, elsewhere, cast.helen, Invalid, "no case with that reference"),
        (b, merged, cast.helen, WrongState, "was itself merged"),
        (b, closed, cast.helen, WrongState, "only be merged into an open case"),
        (other, b, cast.helen, WrongState, "Reports are merged into"),
        (merged, a, cast.helen, WrongState, "Merged into another case"),
        (about_sam, a, cast.helen, Invalid, "different people"),
        (b, about_sam, cast.helen, Invalid, "different people"),
        (safeguarding, a, cast.helen, Invalid, "for the DSL"),
        (b, a, cast.sam, Invalid, "no case with that reference"),  # Sam owns no case
        (b, a, rita, Invalid, "no case with that reference"),
    ]
    before = _snapshot(*cases)
    for report_, survivor, who, error, words in refusals:
        with pytest.raises(error) as caught:
            _merge(report_, survivor, who)
        assert words in str(caught.value), (str(caught.value), words)
        assert "Nothing was changed" in str(caught.value) or error is WrongState
    assert _snapshot(*cases) == before


def test_a_dsl_who_owns_only_the_report_cannot_merge_it_into_a_case_she_does_not_own(cast, rita):
    survivor = report(cast.oakfield, cast.sam)  # not a DSL case: Dina does not own it
    mine = report(cast.oakfield, rita, category=Category.SAFEGUARDING)
    before = _snapshot(survivor, mine)
    with pytest.raises(Invalid, match="no case with that reference"):
        _merge(mine, survivor, cast.dina)
    assert _snapshot(survivor, mine) == before


def test_a_reporter_who_owns_both_merges_without_emailing_themselves(cast, rita):
    a = report(cast.oakfield, cast.sam, links=POST)
    b = report(cast.oakfield, cast.helen, links=POST)  # the head reported it herself
    _merge(b, a, cast.helen)
    assert fresh(b).status == Status.MERGED
    assert not Notification.objects.filter(incident=b, kind="report_merged").exists()


# --- Pages -----------------------------------------------------------------------------------------


def test_the_reporter_sees_their_report_with_the_survivors_progress_and_nothing_more(cast, rita):
    a, b = _pair(cast, rita)
    _merge(b, a, cast.helen)
    services.evidence_add(incident=fresh(a), actor=cast.helen, files=[upload("heads-file.png")])
    client = _client(rita)
    url = reverse("incidents:detail", args=[b.reference])

    page = client.get(url).content.decode()
    assert "Being handled with a related report" in page
    assert SECRET in page and "rita.png" in page  # their own report and file
    for leak in (a.reference, "sams-file.png", "heads-file.png", cast.sam.full_name, "another case"):
        assert leak not in page
    assert client.get(reverse("incidents:detail", args=[a.reference])).status_code == 404
    mine = client.get(reverse("incidents:mine")).content.decode()
    assert "Being handled with a related report" in mine and a.reference not in mine

    advance(fresh(a), Status.CLOSED, cast, outcome=Outcome.NO_BREACH)
    services.incident_add_note(incident=fresh(a), actor=cast.helen, note="Parent removed the post; CANARY2")
    page = client.get(url).content.decode()
    assert "Resolved" in page
    for leak in (a.reference, "No breach", "Because.", "CANARY2", cast.sam.full_name):
        assert leak not in page
    assert "Resolved" in client.get(reverse("incidents:mine")).content.decode()


def test_the_owner_reads_merged_reports_inside_the_survivor_and_is_sent_there(cast, rita):
    a, b = _pair(cast, rita)
    _merge(b, a, cast.helen)
    client = _client(cast.helen)
    response = client.get(reverse("incidents:detail", args=[b.reference]))
    assert response.status_code == 302 and response["Location"] == reverse("incidents:detail", args=[a.reference])
    page = client.get(reverse("incidents:detail", args=[a.reference])).content.decode()
    assert "Reports merged into this case" in page
    assert b.reference in page and SECRET in page and "rita.png" in page and rita.full_name in page
    # Showing a merged report's content is recorded as a read of that report.
    assert AuditEvent.objects.filter(action="view", object_ref=b.reference, actor=cast.helen).exists()
    # The survivor's timeline says what happened.
    assert f"{b.reference} merged into this case." in page


def test_the_survivors_dsl_owns_the_merged_report_and_opens_its_files(cast, rita):
    a = report(cast.oakfield, cast.sam, child_at_risk=True, links=POST)  # Dina owns this one
    b = report(cast.oakfield, rita, links=POST, files=[upload("rita.png")])  # not hers alone
    file = b.evidence.get()
    dina = _client(cast.dina)
    download = reverse("incidents:evidence_download", args=[file.public_id])
    assert dina.get(download).status_code == 404
    assert not Incident.objects.visible_to(cast.dina).filter(pk=b.pk).exists()
    _merge(b, a, cast.helen)
    assert dina.get(download).status_code == 200
    assert dina.get(reverse("incidents:detail", args=[b.reference])).status_code == 302
    assert "rita.png" in dina.get(reverse("incidents:detail", args=[a.reference])).content.decode()
    # After a split the report is no longer the DSL's.
    merging.incident_split(incident=fresh(b), actor=cast.helen)
    assert dina.get(download).status_code == 404


def test_merging_through_the_page(cast, rita):
    a, b = _pair(cast, rita)
    client = _client(cast.helen)
    response = client.post(reverse("incidents:merge", args=[b.reference]), {"merge-into": a.reference.lower()})
    assert response.status_code == 302
    assert fresh(b).merged_into_id == a.pk
    # The reporter may not merge (403), nor a stranger see the case (404).
    c = report(cast.oakfield, rita)
    assert (
        _client(rita).post(reverse("incidents:merge", args=[c.reference]), {"merge-into": a.reference}).status_code
        == 403
    )
    assert (
        _client(cast.olive)
        .post(reverse("incidents:merge", args=[c.reference]), {"merge-into": a.reference})
        .status_code
        == 404
    )
    # A refused merge: the page again with the reason, nothing changed.
    response = client.post(reverse("incidents:merge", args=[c.reference]), {"merge-into": b.reference}, follow=True)
    assert "was itself merged" in response.content.decode()
    assert fresh(c).status == Status.SUBMITTED


# --- Split -----------------------------------------------------------------------------------------


def test_split_returns_an_unanswered_report_with_a_fresh_response_clock(cast, rita):
    a, b = _pair(cast, rita)
    _merge(b, a, cast.helen)
    later = timezone.now() + timedelta(days=3)
    merging.incident_split(incident=fresh(b), actor=cast.helen, now=later)
    b = fresh(b)
    assert (b.status, b.merged_into_id, b.status_before_merge) == (Status.SUBMITTED, None, "")
    response = Deadline.objects.get(incident=b, kind=DeadlineKind.RESPONSE, state=DeadlineState.PENDING)
    assert response.due_at > later and b.response_due_at == response.due_at
    assert TimelineEntry.objects.filter(incident=b, kind=TimelineKind.SPLIT, internal=False).exists()
    assert TimelineEntry.objects.filter(incident=a, kind=TimelineKind.SPLIT).exists()
    assert AuditEvent.objects.filter(object_ref=a.reference, detail__split_report=b.pk).exists()
    # Its own workflow again: the owner's page is its own, the reporter sees its own status.
    assert _client(cast.helen).get(reverse("incidents:detail", args=[b.reference])).status_code == 200
    assert (
        "A first response is due by"
        in _client(rita).get(reverse("incidents:detail", args=[b.reference])).content.decode()
    )


def test_split_returns_an_answered_report_to_the_status_it_had_without_a_response_clock(cast, rita):
    a, b = _pair(cast, rita)
    services.incident_acknowledge(incident=fresh(b), actor=cast.helen)
    _merge(b, a, cast.helen)
    merging.incident_split(incident=fresh(b), actor=cast.helen)
    assert fresh(b).status == Status.TRIAGE
    assert not Deadline.objects.filter(incident=b, state=DeadlineState.PENDING).exists()


def test_only_split_undoes_a_merge_and_only_the_owners_split(cast, rita):
    a, b = _pair(cast, rita)
    _merge(b, a, cast.helen)
    for name in ("acknowledge", "reopen", "merge", "link"):
        response = _client(cast.helen).post(reverse(f"incidents:{name}", args=[b.reference]), {})
        assert response.status_code in (302, 400)
        assert fresh(b).status == Status.MERGED
    assert _client(rita).post(reverse("incidents:split", args=[b.reference])).status_code == 403
    assert _client(cast.sam).post(reverse("incidents:split", args=[b.reference])).status_code == 404
    with pytest.raises(WrongState):
        merging.incident_split(incident=fresh(a), actor=cast.helen)  # A was never merged
    assert fresh(b).status == Status.MERGED
    assert _client(cast.helen).post(reverse("incidents:split", args=[b.reference])).status_code == 302
    assert fresh(b).status == Status.SUBMITTED


# --- Link ------------------------------------------------------------------------------------------


def test_link_is_symmetric_shown_on_both_owner_pages_and_undone_by_unlink(cast, rita):
    a, b = _pair(cast, rita)
    merging.incident_link(incident=fresh(b), actor=cast.helen, other=parse(a.reference))
    helen = _client(cast.helen)
    for case, partner in ((a, b), (b, a)):
        page = helen.get(reverse("incidents:detail", args=[case.reference])).content.decode()
        assert "Related cases" in page and partner.reference in page
        assert TimelineEntry.objects.filter(incident=case, kind=TimelineKind.LINK).count() == 1
    # The reporters see nothing of it.
    assert a.reference not in _client(rita).get(reverse("incidents:detail", args=[b.reference])).content.decode()
    assert b.reference not in _client(cast.sam).get(reverse("incidents:detail", args=[a.reference])).content.decode()
    with pytest.raises(ActionRefused, match="already linked"):
        merging.incident_link(incident=fresh(a), actor=cast.helen, other=parse(b.reference))
    response = helen.post(reverse("incidents:unlink", args=[a.reference]), {"unlink-other": b.reference})
    assert response.status_code == 302 and not CaseLink.objects.exists()
    assert TimelineEntry.objects.filter(incident=b, kind=TimelineKind.LINK).count() == 2


def test_link_refusals_change_nothing(cast, rita):
    a, b = _pair(cast, rita)
    about_sam = report(cast.oakfield, rita, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.sam)
    merged = report(cast.oakfield, rita)
    _merge(merged, a, cast.helen)
    dsl_case = report(cast.oakfield, rita, child_at_risk=True)
    cases = [a, b, about_sam, merged, dsl_case]
    before = _snapshot(*cases)
    for case, other, who, error in [
        (b, b, cast.helen, Invalid),
        (b, about_sam, cast.helen, Invalid),
        (b, merged, cast.helen, WrongState),
        (b, a, cast.sam, Invalid),
        (b, a, cast.dina, Invalid),  # Dina owns neither: the same answer as for no case at all
        (b, dsl_case, cast.dina, NotAllowed),  # she owns the other one, not this one
    ]:
        with pytest.raises(error):
            merging.incident_link(incident=fresh(case), actor=who, other=parse(other.reference))
    with pytest.raises(ActionRefused, match="not linked"):
        merging.incident_unlink(incident=fresh(a), actor=cast.helen, other=parse(b.reference))
    assert _snapshot(*cases) == before


# --- The subject guard -----------------------------------------------------------------------------


def test_a_merged_report_never_becomes_visible_to_the_person_it_is_about(cast, rita):
    """Dina, the DSL, is the subject of B. Merging B into a case Dina owns (a child-at-risk case
    about nobody) would show her a report about herself: refused. Merged into a case about her,
    she sees neither, nor the files, nor any email."""
    about_dina = {"category": Category.SAFEGUARDING, "involved": Involved.STAFF, "subject": cast.dina}
    hers = report(cast.oakfield, cast.sam, child_at_risk=True, links=POST)  # Dina owns it
    b = report(cast.oakfield, rita, links=POST, files=[upload("rita.png")], **about_dina)
    with pytest.raises(Invalid, match="different people"):
        _merge(b, hers, cast.helen)
    a = report(cast.oakfield, cast.sam, links=POST, **about_dina)
    Notification.objects.all().update(sent_at=timezone.now())
    _merge(b, a, cast.helen)
    dina = _client(cast.dina)
    for case in (a, b):
        assert dina.get(reverse("incidents:detail", args=[case.reference])).status_code == 404
        assert not Incident.objects.visible_to(cast.dina).filter(pk=case.pk).exists()
    assert dina.get(reverse("incidents:evidence_download", args=[b.evidence.get().public_id])).status_code == 404
    home = dina.get(reverse("home")).content.decode() + dina.get(reverse("incidents:queue")).content.decode()
    assert a.reference not in home and b.reference not in home
    assert not Notification.objects.filter(recipient=cast.dina, sent_at__isnull=True).exists()


# --- The duplicate-link warning ---------------------------------------------------------------------


def test_the_owner_is_warned_of_an_open_case_citing_the_same_post_and_the_reporter_is_not(cast, rita):
    a, b = _pair(cast, rita)
    helen = _client(cast.helen)
    page = helen.get(reverse("incidents:detail", args=[b.reference])).content.decode()
    assert "Another open case cites the same link" in page and a.reference in page
    assert f"Merge this report into {a.reference}" in page
    # The reporters' pages are as they would be without it.
    for who, case, other in ((rita, b, a), (cast.sam, a, b)):
        page = _client(who).get(reverse("incidents:detail", args=[case.reference])).content.decode()
        assert "same link" not in page and other.reference not in page
    # Once linked (or merged), no more warning.
    helen.post(reverse("incidents:link", args=[b.reference]), {"link-other": a.reference})
    assert (
        "Another open case cites the same link"
        not in helen.get(reverse("incidents:detail", args=[b.reference])).content.decode()
    )


def test_no_warning_for_a_different_post_a_closed_case_or_a_case_the_owner_does_not_own(cast, rita):
    a = report(cast.oakfield, cast.sam, links="https://www.facebook.com/oakfield.parents/posts/999")
    closed = advance(report(cast.oakfield, cast.sam, links=POST), Status.CLOSED, cast, outcome=Outcome.NO_BREACH)
    b = report(cast.oakfield, rita, links=POST)
    assert merging.duplicates(cast.helen, fresh(b)) == []
    # Dina owns only DSL cases: a DSL case citing the post warns her of no case she does not own.
    dsl_case = report(cast.oakfield, rita, links=POST, child_at_risk=True)
    assert merging.duplicates(cast.dina, fresh(dsl_case)) == []
    assert [c.pk for c in merging.duplicates(cast.helen, fresh(dsl_case))] == [b.pk]
    assert a and closed


def test_a_captured_url_on_evidence_counts_as_citing_the_post(cast, rita):
    a = report(
        cast.oakfield, cast.sam, files=[upload()], captured_url="https://facebook.com/oakfield.parents/posts/12345"
    )
    b = report(cast.oakfield, rita, links="See http://M.FACEBOOK.COM/oakfield.parents/posts/12345?utm_source=x")
    assert [c.pk for c in merging.duplicates(cast.helen, fresh(b))] == [a.pk]
    assert [c.pk for c in merging.duplicates(cast.helen, fresh(a))] == [b.pk]


# --- Retention ---------------------------------------------------------------------------------------


def test_the_retention_sweep_keeps_a_survivor_while_reports_are_merged_into_it(cast, rita, settings, tmp_path):
    from dataprotection import retention
    from tests.dataprotection.retention_cases import closed_at

    settings.MEDIA_ROOT = tmp_path
    a, b = _pair(cast, rita)
    _merge(b, a, cast.helen)
    a = advance(fresh(a), Status.CLOSED, cast, outcome=Outcome.NO_BREACH)
    long_after = retention.add_years(closed_at(a), 60)
    # Without the guard the sweep would stop on the PROTECT of merged_into (and delete nothing more).
    assert retention.retention_delete(incident_id=a.pk, now=long_after) == ""
    assert Incident.objects.filter(pk__in=[a.pk, b.pk]).count() == 2
    merging.incident_split(incident=fresh(b), actor=cast.helen)
    assert retention.retention_delete(incident_id=a.pk, now=long_after) == a.reference
    assert Incident.objects.filter(pk=b.pk).exists()


def test_an_owner_of_the_report_alone_cannot_split_it_from_a_survivor_they_do_not_own(cast, rita):
    """Carol owns B (escalated to her), not A: B's page is hers, but the merge is not hers to undo."""
    a, b = _pair(cast, rita)
    Incident.objects.filter(pk=b.pk).update(escalated_at=timezone.now())
    _merge(b, a, cast.helen)
    carol = _client(cast.carol)
    page = carol.get(reverse("incidents:detail", args=[b.reference]))
    assert page.status_code == 200 and a.reference not in page.content.decode()
    with pytest.raises(NotAllowed):
        merging.incident_split(incident=fresh(b), actor=cast.carol)
    assert fresh(b).status == Status.MERGED
