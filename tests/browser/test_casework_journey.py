"""The [8] journey, in Chromium: five members of staff report the same parent's post; the head
merges four reports into the first, gives the take-down to a deputy as a task; the platform does
not act within 48 hours (Celery's sweep, run here on the server's clock moved by time-machine);
the deputy records the escalation to POSH and then the removal; the head closes the case; each
reporter sees that their report is resolved, and nothing of the case work."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from incidents import services
from incidents.clocks import deadlines_sweep, school_calendar
from incidents.models import Incident, Notification, Severity, Status, TakedownRequest, TakedownStatus
from tests.factories import person
from tests.incidents.factories import fresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POST = "https://www.facebook.com/groups/oakfield-parents/posts/4471"
THEIR_REFERENCE = "FB-CASE-55102"
OUTCOME_REASON = "The parent's post was taken down after the escalation; the parent was spoken to."


@pytest.fixture
def session_cookies(settings):
    # The server's clock moves two days ahead of the browser's: no cookie may carry a date.
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None


def _report(page, words: str) -> str:
    page.goto("/incidents/report/")
    page.get_by_label("A parent's or carer's post").check()
    page.get_by_role("group", name="Is a child at risk of harm now?").get_by_label("No").check()
    page.get_by_label("Where was it posted?").select_option("facebook")
    page.get_by_label("When did you see it?").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("A parent or carer").check()
    page.get_by_label("What did you see?").fill(words)
    page.get_by_label("Links (optional)").fill(POST)
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", name="Report sent")).to_be_visible()
    return page.get_by_test_id("reference").inner_text()


def _form(page, name):
    return page.get_by_role("form", name=name)


def _field(form, label):
    """The field with exactly this label (crispy adds an asterisk to required ones)."""
    return form.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def _status(page):
    return page.get_by_role("status").first


def test_five_reports_of_one_post_merged_delegated_escalated_and_closed(open_as, cast, session_cookies):
    staff = [cast.sam] + [
        person(n, cast.oakfield, Role.STAFF) for n in ("Rhys Evans", "Tara Quinn", "Uma Roy", "Will Ode")
    ]
    deputy = person("Dev Patel", cast.oakfield, Role.STAFF)
    words = [f"{who.full_name.split()[0]}'s account: a parent is mocking a colleague in a post." for who in staff]
    references = [_report(open_as(who), text) for who, text in zip(staff, words, strict=True)]
    survivor, others = references[0], references[1:]

    # The head: each later report warns that an open case cites the same link; she merges them.
    head = open_as(cast.helen)
    for reference in others:
        head.goto(f"/incidents/{reference}/")
        expect(head.get_by_test_id("duplicate-warning")).to_contain_text(survivor)
        merge = _form(head, "Merge this report into another case")
        _field(merge, "Merge this report into the case with the reference").fill(survivor)
        merge.get_by_role("button", name="Merge this report into another case").click()
        expect(_status(head)).to_contain_text("The report is merged")
    assert list(Incident.objects.filter(reference__in=others).values_list("status", flat=True)) == [Status.MERGED] * 4
    # Each merged reporter was told, without the other case's reference.
    told = Notification.objects.filter(kind="report_merged")
    assert sorted(n.recipient_id for n in told) == sorted(u.pk for u in staff[1:])

    head.goto(f"/incidents/{survivor}/")
    head.get_by_role("button", name="Acknowledge").click()
    expect(_status(head)).to_contain_text("Acknowledged")
    due = school_calendar(cast.oakfield).add_working_days(timezone.localdate(), 3)
    task = _form(head, "Give a task")
    _field(task, "Who").select_option(label="Dev Patel")
    _field(task, "The task").fill("Ask Facebook to remove the post")
    _field(task, "Due by").fill(due.isoformat())
    task.get_by_role("button", name="Give a task").click()
    expect(_status(head)).to_contain_text("Task given")

    # The deputy: the task on their home page, the take-down recorded from the task page.
    dev = open_as(deputy)
    dev.goto("/")
    dev.get_by_role("region", name="Your tasks").get_by_role("link", name=re.compile(survivor)).click()
    ask = _form(dev, "Record a take-down request")
    _field(ask, "Platform").select_option(label="Facebook")
    _field(ask, "Address of the content").fill(POST)
    _field(ask, "Date you asked the platform").fill(timezone.localdate().isoformat())
    _field(ask, "The platform's reference (optional)").fill(THEIR_REFERENCE)
    ask.get_by_role("button", name="Record a take-down request").click()
    expect(_status(dev)).to_contain_text("Take-down request recorded")
    request = TakedownRequest.objects.get(incident__reference=survivor)

    # 49 hours later, the platform has done nothing: the sweep fires the follow-up.
    with time_machine.travel(timezone.now() + timedelta(hours=49), tick=True):
        deadlines_sweep(now=timezone.now())
        request.refresh_from_db()
        assert request.status == TakedownStatus.NO_RESPONSE
        assert Notification.objects.filter(kind="takedown_no_action", recipient=cast.helen).exists()

        # Two days on, everyone signs in again (sessions end after a period without use).
        dev = open_as(deputy)
        dev.goto(f"/incidents/{survivor}/")
        expect(dev.get_by_role("region", name="Take-downs")).to_contain_text("No response from the platform")
        step = _form(dev, "Record an escalation")
        _field(step, "Which request").select_option(index=1)
        _field(step, "Escalated to").select_option(label="Professionals Online Safety Helpline (POSH)")
        _field(step, "Date").fill(timezone.localdate().isoformat())
        step.get_by_role("button", name="Record an escalation").click()
        expect(_status(dev)).to_contain_text("Escalation recorded")
        removed = _form(dev, "Record the removal")
        _field(removed, "Which request").select_option(index=1)
        _field(removed, "Date the content was removed").fill(timezone.localdate().isoformat())
        removed.get_by_role("button", name="Record the removal").click()
        expect(_status(dev)).to_contain_text("Removal recorded")
        done = dev.get_by_role("region", name="Your task")
        done.get_by_text("Mark it done").click()  # the form opens under its summary
        _field(done, "What was done").fill("Reported to Facebook, escalated to POSH; the post is gone.")
        done.get_by_role("button", name="Mark the task done").click()
        expect(_status(dev)).to_contain_text("Task marked done")

        # The head closes it: content removed by the platform (allowed now the removal is recorded).
        incident = services.incident_triage(
            incident=fresh(Incident.objects.get(reference=survivor)),
            actor=cast.helen,
            severity=Severity.MEDIUM,
            route="no_breach",
        )
        services.incident_start_investigation(incident=fresh(incident), actor=cast.helen)
        head = open_as(cast.helen)
        head.goto(f"/incidents/{survivor}/")
        head.get_by_label(re.compile(r"^\s*Outcome")).select_option(label="Content removed by the platform")
        head.get_by_label("Reasons").fill(OUTCOME_REASON)
        head.get_by_role("button", name="Propose outcome").click()
        expect(_status(head)).to_contain_text("Outcome recorded")
        head.get_by_role("button", name="Close (no breach)").click()
        expect(_status(head)).to_contain_text("Case closed")
        assert Incident.objects.get(reference=survivor).status == Status.CLOSED

        # Each reporter: resolved, and nothing of the case work, the other reports or the outcome.
        for n, (who, reference) in enumerate(zip(staff, references, strict=True)):
            page = open_as(who)
            page.goto(f"/incidents/{reference}/")
            main = page.get_by_role("main")
            expect(main).to_contain_text("Closed" if n == 0 else "Resolved")
            text = main.inner_text()
            leaks = ["Dev Patel", THEIR_REFERENCE, "POSH", "Helpline", OUTCOME_REASON, "Ask Facebook", "take-down"]
            leaks += [other.full_name for other in staff if other != who]
            leaks += [words[k] for k in range(5) if k != n] + [r for r in references if r != reference]
            assert not [leak for leak in leaks if leak.lower() in text.lower()], (who.full_name, text)
