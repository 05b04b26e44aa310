"""On a phone ([10] journey): a teacher asks for a class account naming two administrators and the
head approves it; the teacher asks to post trip photos, the head checks the do-not-publish list and
approves; a teaching assistant declares that her nephew is a pupil; the head imports a staff list
in which one administrator has left and is asked to name a replacement. No page of the journey
scrolls sideways."""

import pytest
from playwright.sync_api import expect

from accounts.models import Membership, Role
from approvals.models import (
    AdministratorVacancy,
    AuthorisationRequest,
    AuthorisationStatus,
    DoNotPublishEntry,
    OfficialAccount,
)
from obligations.models import Declaration
from tests.approvals.conftest import world  # noqa: F401 (the fixture)
from tests.policyhub.policy_data import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}
# The roles a staff list carries (the others, governors and the trust's, are not the MIS's to end).
STAFF_ROLES = [Role.STAFF, Role.HEAD, Role.DSL]


def _no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways on a phone ({width}px)"


def test_class_account_and_trip_photos_on_a_phone(browser, live_server, world, tmp_path):  # noqa: F811
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

    # A teaching assistant declares that her nephew is a pupil; the head is asked to acknowledge it.
    ta = browser.new_context(base_url=live_server.url, viewport=PHONE).new_page()
    browser_sign_in(ta, world.una)
    ta.goto("/staff/declarations/new/")
    _no_sideways_scroll(ta)
    ta.get_by_label("A family relationship with a pupil").check()
    ta.get_by_label("Details").fill("My nephew Leo is in Year 3.")
    ta.get_by_role("button", name="Make the declaration").click()
    expect(ta.get_by_role("status").first).to_be_visible()
    declaration = Declaration.objects.get(declarer=world.una)
    assert declaration.kind == "family" and declaration.status == "awaiting"
    head.goto(f"/staff/declarations/{declaration.public_id}/")
    expect(head.get_by_role("main")).to_contain_text("My nephew Leo is in Year 3.")

    # The head imports the staff list; Tess, one of the account's two administrators, has left. The
    # preview says what she leaves behind; once saved, the head is asked to name a replacement.
    staff = sorted(
        {
            m.user.email
            for m in Membership.objects.filter(school=world.oakfield, role__in=STAFF_ROLES).select_related("user")
        }
        - {world.tess.email}
    )
    listing = tmp_path / "staff.csv"
    listing.write_text("Email,Role\r\n" + "".join(f"{email},Teacher\r\n" for email in staff))
    head.goto("/accounts/staff-import/")
    head.get_by_label("Staff list (CSV)").set_input_files(str(listing))
    head.get_by_label("End the roles of people at the school who are not in the file").check()
    head.get_by_role("button", name="Check the file").click()
    expect(head.locator("#import-leavers")).to_contain_text(world.tess.email)
    expect(head.locator("#import-leavers")).to_contain_text("Official account")
    _no_sideways_scroll(head)
    head.get_by_role("button", name="Save these changes").click()
    expect(head.get_by_text("Staff list imported at Oakfield Primary")).to_be_visible()
    head.goto("/approvals/accounts/")
    expect(head.get_by_role("main")).to_contain_text("Tess Nolan left")
    vacancy = AdministratorVacancy.objects.get(account=account, filled_at__isnull=True)
    head.goto(f"/approvals/accounts/{account.pk}/")
    head.get_by_label("New administrator").select_option(label="Una Park")
    head.get_by_role("button", name="Name the replacement").click()
    vacancy.refresh_from_db()
    assert vacancy.replacement == world.una
