"""A head imports the staff list on a phone: upload, check the preview (errors with their lines,
then a good file with leavers), confirm, and the new volunteer is on the list, the leavers gone."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Membership, Role, User
from tests.browser.test_accessibility import _violations
from tests.policyhub.policy_data import browser_sign_in

PHONE = {"width": 375, "height": 740}


def _axe(page) -> list[str]:
    """axe-core at desktop and phone width (tests/browser/test_accessibility.py), then back to the phone."""
    found = _violations(page)
    page.set_viewport_size(PHONE)
    return found


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "staff"


def test_head_imports_the_staff_list_on_a_phone(browser, live_server, cast, tmp_path):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    browser_sign_in(page, cast.helen)
    page.goto("/accounts/staff-import/")
    found = _axe(page)

    bad = tmp_path / "bad.csv"
    bad.write_bytes((FIXTURES / "errors_with_lines.csv").read_bytes())
    page.get_by_label("Staff list (CSV)").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="The file has 4 problems: nothing will be saved")).to_be_visible()
    expect(page.get_by_role("row", name="9 Unknown role")).to_be_visible()
    expect(page.get_by_role("button", name="Save these changes")).to_have_count(0)
    found += _axe(page)
    page.get_by_role("link", name="Upload a file").click()

    good = tmp_path / "staff.csv"
    good.write_text(
        "Forename,Surname,Work E-mail,Role\r\n"
        f"Helen,Hart,{cast.helen.email},Head\r\n"
        f"Dina,Shah,{cast.dina.email},DSL\r\n"
        "Val,Unteer,val.unteer@example.org,Volunteer\r\n"
    )
    page.get_by_label("Staff list (CSV)").set_input_files(str(good))
    page.get_by_label("End the roles of people at the school who are not in the file").check()
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator('[data-count="created"]')).to_have_text("1")
    expect(page.locator('[data-count="deactivated"]')).to_have_text("3")  # Sam, Gary, Carol
    expect(page.locator("#import-leavers")).to_contain_text(cast.sam.email)
    assert not User.objects.filter(email="val.unteer@example.org").exists()  # nothing saved yet
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the preview scrolls sideways on a phone ({width}px)"
    found += _axe(page)

    page.get_by_role("button", name="Save these changes").click()
    expect(page.get_by_text("Staff list imported at Oakfield Primary: 1 created")).to_be_visible()
    assert not found, "\n".join(found)  # axe-core, desktop and phone: the form, the errors, the preview
    val = User.objects.get(email="val.unteer@example.org")
    assert set(Membership.objects.filter(user=val).values_list("role", flat=True)) == {Role.VOLUNTEER}
    assert not Membership.objects.filter(user=cast.sam, school=cast.oakfield).exists()
    context.close()
