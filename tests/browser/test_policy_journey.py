"""Import → preview → correct a heading → save draft → publish → staff acknowledges → head sees one more."""

import re

import pytest
from playwright.sync_api import expect

from tests.policyhub.policy_data import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLICY = """Oakfield staff social media policy

1. Purpose
1.1 This policy explains how staff at Oakfield use social media.
1.2 It applies to all staff, volunteers and governors.

2. Contact with pupils
2.1 Staff must not befriend pupils on personal accounts.
2.2 Staff must report any contact from a pupil to the safeguarding lead on the same day.
"""


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")


def test_head_imports_publishes_and_sees_a_staff_acknowledgement(page, cast):
    browser_sign_in(page, cast.helen)
    page.goto("/policy/import/")
    page.get_by_label("Or paste the policy text").fill(POLICY)
    page.get_by_role("button", name="Read the document").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check the imported policy")
    expect(page.get_by_role("heading", name="2. Contact with pupils")).to_be_visible()
    page.get_by_role("link", name="Correct this section: Contact with pupils").click()
    page.get_by_label("Heading", exact=True).fill("Contact with pupils and former pupils")
    page.get_by_role("button", name="Keep changes").first.click()
    expect(page.get_by_role("heading", name="2. Contact with pupils and former pupils")).to_be_visible()

    page.get_by_role("button", name="Save as draft").first.click()
    expect(page.get_by_text("Draft version 1 saved")).to_be_visible()
    page.get_by_role("link", name="Publish").click()
    page.get_by_label("In force from").fill("2026-01-05")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Version 1 is now in force")).to_be_visible()
    expect(page.locator("#clause-2-2")).to_contain_text("safeguarding lead on the same day")

    page.goto("/policy/compliance/")
    expect(page.locator("#compliance-summary")).to_contain_text("0 of 3")
    sign_out(page)

    browser_sign_in(page, cast.sam)
    banner = page.get_by_role("complementary", name="Policy acknowledgement")
    expect(banner).to_contain_text("A new version of the social-media policy is in force")
    banner.get_by_role("link", name="Read the policy").click()
    expect(page).to_have_url(re.compile(r"/policy/#acknowledge$"))
    page.get_by_role("button", name="I have read and understood this policy").click()
    expect(page.get_by_text("you have acknowledged version 1")).to_be_visible()
    expect(page.get_by_role("complementary", name="Policy acknowledgement")).to_have_count(0)
    sign_out(page)

    browser_sign_in(page, cast.helen)
    page.goto("/policy/compliance/")
    expect(page.locator("#compliance-summary")).to_contain_text("1 of 3")
    expect(page.get_by_role("row", name=re.compile("Sam Taylor"))).to_contain_text("Yes")


def test_policy_page_works_on_a_phone_with_the_keyboard(browser, live_server, cast):
    from tests.policyhub.policy_data import trust_policy

    trust_policy(cast)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740})
    page = context.new_page()
    browser_sign_in(page, cast.sam)
    page.goto("/policy/")
    button = page.get_by_role("button", name="I have read and understood this policy")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("you have acknowledged version 1")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page scrolls sideways on a phone ({width}px)"
    context.close()
