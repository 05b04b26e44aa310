"""On a phone: a teacher asks for a class account naming two administrators and the head approves
it; the teacher asks to post trip photos, the head checks the do-not-publish list and approves.
No page of the journey scrolls sideways."""

import pytest
from playwright.sync_api import expect

from approvals.models import AuthorisationRequest, AuthorisationStatus, DoNotPublishEntry, OfficialAccount
from tests.approvals.conftest import world  # noqa: F401 (the fixture)
from tests.policyhub.policy_data import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


def _no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways on a phone ({width}px)"


def test_class_account_and_trip_photos_on_a_phone(browser, live_server, world):  # noqa: F811
    DoNotPublishEntry.objects.create(school=world.oakfield, name="Amy Lee", class_name="6B", flags=["no_images"])
    teacher = browser.new_context(base_url=live_server.url, viewport=PHONE).new_page()
    browser_sign_in(teacher, world.sam)
    teacher.goto("/approvals/")
    _no_sideways_scroll(teacher)
    teacher.get_by_role("link", name="Ask for an official account").click()
    teacher.get_by_label("Platform").fill("Instagram")
    teacher.get_by_label("Account name or handle").fill("@oak_year6")
    teacher.get_by_label("Purpose").fill("Class news for parents")
    teacher.get_by_label("Audience").fill("Year 6 parents")
    teacher.get_by_label("Moderation plan").fill("Comments off; checked daily")
    teacher.get_by_label("Sam Taylor").check()
    teacher.get_by_label("Tess Nolan").check()
    teacher.get_by_role("button", name="Send for a decision").click()
    expect(teacher.get_by_text("sent to the head for a decision")).to_be_visible()
    account = OfficialAccount.objects.get()

    head = browser.new_context(base_url=live_server.url, viewport=PHONE).new_page()
    browser_sign_in(head, world.helen)
    head.goto("/approvals/")
    head.get_by_role("link", name="Instagram: @oak_year6").first.click()
    head.get_by_role("radio", name="Approve").check()
    head.get_by_role("button", name="Record the decision").click()
    expect(head.get_by_text("Decision recorded")).to_be_visible()
    head.goto("/approvals/accounts/")
    _no_sideways_scroll(head)
    expect(head.get_by_role("link", name="Instagram: @oak_year6")).to_be_visible()
    assert OfficialAccount.objects.get().status == "open"

    teacher.goto("/approvals/authorisations/new/")
    teacher.get_by_label("What for").select_option(label="Posting school business or images on an official account")
    teacher.get_by_label("Official account").select_option(str(account.pk))
    teacher.get_by_label("What you want to do").fill("Photos of the Year 6 trip to the coast")
    teacher.get_by_label("The post will show images of pupils").check()
    teacher.get_by_role("button", name="Send for a decision").click()
    expect(teacher.get_by_text("sent for a decision")).to_be_visible()
    request = AuthorisationRequest.objects.get()

    head.goto(f"/approvals/authorisations/{request.pk}/")
    head.goto("/approvals/do-not-publish/")
    expect(head.locator("tbody th", has_text="Amy Lee")).to_be_visible()
    _no_sideways_scroll(head)
    head.goto(f"/approvals/authorisations/{request.pk}/")
    head.get_by_role("radio", name="Approve").check()
    head.get_by_role("button", name="Record the decision").click()
    expect(head.locator(".error-summary")).to_contain_text("Check the do-not-publish list before approving")
    head.get_by_role("radio", name="Approve").check()
    head.get_by_label("I checked every pupil pictured against the do-not-publish list").check()
    head.get_by_label("Conditions").fill("No faces of Class 6B")
    head.get_by_role("button", name="Record the decision").click()
    expect(head.get_by_text("Decision recorded")).to_be_visible()
    request.refresh_from_db()
    assert request.status == AuthorisationStatus.APPROVED and request.consent_checked_by == world.helen
