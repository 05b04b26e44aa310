"""Journey 4 (docs/specification.md §6): a report made on Saturday shows "due Monday 17:00"; nobody
acknowledges it; on Monday at 17:00 the chair of governors is told and the case shows overdue.

The server's clock is moved with time-machine (it moves the whole Python process, so the live
server thread too); the browser keeps real time, so cookies must not carry 2025 expiry dates.
"""

from datetime import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from incidents.clocks import deadlines_sweep
from incidents.deadlines import LONDON
from incidents.models import Incident, Notification
from incidents.notify import notification_send
from tests.auth import login_verified
from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SATURDAY = datetime(2025, 11, 22, 9, 0, tzinfo=LONDON)
MONDAY_CLOSE = datetime(2025, 11, 24, 17, 0, tzinfo=LONDON)


@pytest.fixture
def session_cookies(settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None


def _report_a_parents_post(page):
    page.goto("/incidents/report/")
    page.get_by_label("A parent's or carer's post").check()
    page.get_by_role("group", name="Is a child at risk of harm now?").get_by_label("No").check()
    page.get_by_label("Where was it posted?").select_option("facebook")
    page.get_by_label("When did you see it?").fill("2025-11-22T08:45")
    page.get_by_label("A parent or carer").check()
    page.get_by_label("What did you see?").fill("A parent posted a photo from the class trip showing other children.")
    with page.expect_navigation():
        page.get_by_role("button", name="Send report").click()


def test_journey_4_a_saturday_report_escalates_to_the_chair_on_monday_at_close(
    browser, live_server, cast, session_cookies
):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)

    with time_machine.travel(SATURDAY, tick=True):
        login(page, cast.sam.email, cast.password)
        _report_a_parents_post(page)
        assert page.get_by_test_id("due").inner_text() == "Mon 24 Nov 17:00"
        assert "received Sat 22 Nov" in page.locator("main").inner_text()
        reference = page.get_by_test_id("reference").inner_text()
    incident = Incident.objects.get(reference=reference)

    # A minute before the deadline the beat sweep finds nothing to escalate.
    with time_machine.travel(MONDAY_CLOSE.replace(minute=0) - timezone.timedelta(minutes=1), tick=False):
        deadlines_sweep(now=timezone.now())
    assert not Notification.objects.filter(kind="escalation").exists()

    # At 17:00 it does: the chair is told (by reference, category and link only).
    with time_machine.travel(MONDAY_CLOSE, tick=False):
        deadlines_sweep(now=timezone.now())
        for pk in Notification.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
            notification_send(notification_id=pk)
    to_chair = [m for m in mail.outbox if m.to == [cast.carol.email]]
    assert len(to_chair) == 1 and reference in to_chair[0].subject and "overdue" in to_chair[0].subject
    assert "class trip" not in to_chair[0].body

    # The chair opens the link and sees the case overdue.
    with time_machine.travel(MONDAY_CLOSE + timezone.timedelta(minutes=5), tick=True):
        page.get_by_role("button", name="Sign out").click()
        login_verified(page, cast.carol)
        page.goto(f"/incidents/{incident.reference}/")
        main = page.locator("main").inner_text()
        assert reference in main
        assert "Overdue" in main
    context.close()


def test_the_queue_badge_counts_down_live_and_turns_overdue(page, cast):
    """The badge is recomputed in the browser every 30 seconds: no reload needed to see "overdue"."""
    from datetime import timedelta

    from tests.incidents.clock_helpers import report

    incident = report(cast, at=timezone.now() - timedelta(hours=1), now=timezone.now())
    # Make the deadline three hours away whatever day the test runs on.
    due = timezone.now() + timedelta(hours=3)
    Incident.objects.filter(pk=incident.pk).update(response_due_at=due)
    page.clock.install()
    login_verified(page, cast.helen)
    page.goto("/incidents/queue/")
    badge = page.locator(f"[data-due='{due.isoformat()}']")
    assert badge.inner_text().endswith("left")
    assert "text-bg-warning" in badge.get_attribute("class")
    page.clock.fast_forward("03:01:00")
    assert badge.inner_text().startswith("Overdue by")
    assert "text-bg-danger" in badge.get_attribute("class")
