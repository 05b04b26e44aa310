"""Every demo login works in a real browser and lands on that role's home page."""

import pytest

from accounts.models import User
from policyhub.demo import DEFAULT_DEMO_PASSWORD, seed
from tests.auth import login_verified
from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPECTED = {
    "staff.oakfield@example.org": "Report a concern",
    "head.oakfield@example.org": "Triage queue",
    "dsl.oakfield@example.org": "Triage queue",
    "governor.oakfield@example.org": "Governor reviews",
    "chair.oakfield@example.org": "Governor reviews",
    "trust-admin@example.org": "Trust overview",
    "dpo@example.org": "Data protection",
    "head.brookside@example.org": "Triage queue",
    "staff.brookside@example.org": "Report a concern",
}


def test_every_demo_role_signs_in_and_sees_its_home(page):
    seed()
    for email, heading in EXPECTED.items():
        if email.startswith("staff."):
            login(page, email, DEFAULT_DEMO_PASSWORD)
        else:  # every other role signs in with a second factor
            login_verified(page, User.objects.get(email=email), DEFAULT_DEMO_PASSWORD)
        assert page.get_by_role("heading", name=heading).is_visible(), email
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/accounts/login/")


def test_phone_sized_viewport_shows_the_menu_button(browser, live_server):
    seed()
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740})
    page = context.new_page()
    login(page, "staff.oakfield@example.org", DEFAULT_DEMO_PASSWORD)
    menu = page.get_by_role("button", name="Show or hide navigation")
    assert menu.is_visible()
    menu.click()
    assert page.get_by_role("button", name="Sign out").is_visible()
    context.close()


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page):
    seed()
    login(page, "staff.oakfield@example.org", DEFAULT_DEMO_PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
