"""docs/specification.md §6, journeys 1, 2, 3 and 5 (up to the governors' decision), in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from incidents.models import Incident, Status
from policyhub.demo_policy import seed_policy
from tests.incidents.factories import png_bytes, policy_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}


def _report_parent_post(page, *, phone=False):
    if phone:
        page.get_by_role("button", name="Show or hide navigation").click()
    page.get_by_role("link", name="Report a concern").first.click()
    expect(page.get_by_role("heading", name="Report a concern")).to_be_visible()
    page.get_by_label("A parent's or carer's post").check()
    page.get_by_role("group", name="Is a child at risk of harm now?").get_by_label("No").check()
    page.get_by_label("Where was it posted?").select_option(label="Facebook")
    page.get_by_label("When did you see it?").fill("2026-01-05T18:30")
    page.get_by_label("A parent or carer").check()
    page.get_by_label("What did you see?").fill(
        "A parent posted photos of the class trip to the farm on Facebook, with other children's faces."
    )
    page.get_by_label("Screenshots or saved pages (optional)").set_input_files(
        [{"name": "trip.png", "mimeType": "image/png", "buffer": png_bytes((300, 600))}]
    )
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", name="Report sent")).to_be_visible()
    reference = page.get_by_test_id("reference").inner_text()
    assert re.fullmatch(r"OAK-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", reference)
    return reference


def test_journey_1_teacher_reports_a_parents_post_on_a_phone(open_as, cast):
    page = open_as(cast.sam, PHONE)
    reference = _report_parent_post(page, phone=True)
    incident = Incident.objects.get(reference=reference)
    expect(page.get_by_test_id("due")).to_be_visible()
    assert page.get_by_test_id("due").inner_text().strip() != ""
    assert incident.evidence.count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling


def test_journey_2_head_triages_and_records_the_outcome(open_as, cast):
    # The demo policy (38 clauses): triage must fit a laptop screen, suggestions first (issue [11] item 4).
    seed_policy(trust=cast.trust, schools={"oakfield": cast.oakfield})
    policy_for(cast.oakfield)
    reference = _report_parent_post(open_as(cast.sam))
    page = open_as(cast.helen, LAPTOP)
    page.get_by_role("link", name="Triage queue").first.click()
    row = page.get_by_role("row", name=re.compile(reference))
    expect(row).to_contain_text("left")
    row.get_by_role("link", name=reference).click()
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status").first).to_contain_text("Acknowledged")

    triage = page.locator("form[data-clause-filter]")
    suggested = triage.get_by_test_id("suggested-clauses")
    first = suggested.locator(".clause-option").first
    expect(first).to_contain_text("5.3")
    expect(first).to_contain_text("Parents and carers are asked not to post images")
    # The rest of the policy is collapsed: the suggestions and the route are a short scroll apart, not a
    # policy's length (38 clauses listed in full made a 5,800-pixel page).
    first.scroll_into_view_if_needed()
    top = first.bounding_box()["y"]
    route = triage.get_by_label("Policy breach")
    assert route.bounding_box()["y"] - top < LAPTOP["height"], "the route is within a screen of the suggestions"
    expect(triage.get_by_label(re.compile("School business is never discussed"))).to_be_hidden()  # 5.2, collapsed
    # The filter still reaches a collapsed clause, opening its section.
    triage.get_by_label("Filter clauses").fill("journalists")
    expect(triage.get_by_label(re.compile("Enquiries from journalists"))).to_be_visible()
    triage.get_by_label("Filter clauses").fill("")
    expect(triage.get_by_label(re.compile("Enquiries from journalists"))).to_be_hidden()

    triage.get_by_label("Medium").check()
    first.get_by_role("checkbox").check()
    route.check()
    page.get_by_role("button", name="Record triage").click()
    expect(page.get_by_role("status").first).to_contain_text("Triage recorded")
    page.get_by_role("button", name="Start investigation").click()
    expect(page.get_by_role("status").first).to_contain_text("Investigation started")

    page.get_by_label(re.compile(r"^\s*Outcome")).select_option(label="Content removal requested")
    page.get_by_label("Reasons").fill("The parent was asked to remove the photos and did so the same day.")
    page.get_by_role("button", name="Propose outcome").click()
    expect(page.get_by_role("status").first).to_contain_text("Outcome recorded")
    incident = Incident.objects.get(reference=reference)
    assert incident.status == Status.OUTCOME_PROPOSED and incident.outcome == "content_removal"
    assert [c.ref for c in incident.clauses.all()] == ["5.3"]


def test_journey_3_a_report_about_the_head_goes_to_the_chair_and_the_head_cannot_find_it(open_as, cast):
    page = open_as(cast.sam)
    page.get_by_role("link", name="Report a concern").first.click()
    page.get_by_label("Concern about a member of staff").check()
    page.get_by_role("group", name="Is a child at risk of harm now?").get_by_label("No").check()
    page.get_by_label("Where was it posted?").select_option(label="Instagram")
    page.get_by_label("When did you see it?").fill("2026-01-05T18:30")
    page.get_by_label("A member of staff at this school").check()
    page.get_by_label("Which member of staff?").select_option(label="Helen Hart")
    page.get_by_label("What did you see?").fill("The head teacher follows and messages Year 6 pupils on Instagram.")
    page.get_by_role("button", name="Send report").click()
    reference = page.get_by_test_id("reference").inner_text()
    incident = Incident.objects.get(reference=reference)
    assert incident.owner == cast.carol

    chair = open_as(cast.carol)
    chair.get_by_role("link", name="Triage queue").first.click()
    expect(chair.get_by_role("link", name=reference)).to_be_visible()

    head = open_as(cast.helen)
    for path in ("/", "/incidents/queue/", "/incidents/mine/", "/incidents/reviews/", "/policy/"):
        head.goto(path)
        expect(head.locator("body")).not_to_contain_text(reference)
    response = head.goto(f"/incidents/{incident.reference}/")
    assert response.status == 404


def test_journey_5_governors_uphold_a_breach_and_the_termly_report_counts_it(open_as, cast):
    from tests.incidents.factories import advance

    policy_for(cast.oakfield)
    reference = _report_parent_post(open_as(cast.sam))
    incident = advance(Incident.objects.get(reference=reference), Status.OUTCOME_PROPOSED, cast)

    head = open_as(cast.helen)
    head.goto(f"/incidents/{incident.reference}/")
    head.get_by_label("Summary for the governors").fill("A parent posted other children's photos; removed on request.")
    head.get_by_role("button", name="Refer to governors").click()
    expect(head.get_by_role("status").first).to_contain_text("Referred to the governors")

    governor = open_as(cast.gary)
    governor.get_by_role("link", name="Governor reviews").first.click()
    governor.get_by_role("link", name=reference).click()
    expect(governor.get_by_text("removed on request")).to_be_visible()
    expect(governor.locator("body")).not_to_contain_text("class trip to the farm")  # not the report itself
    governor.get_by_label("Uphold the outcome").check()
    governor.get_by_label("Comment").fill("Upheld at the January meeting.")
    governor.get_by_role("button", name="Record decision").click()
    expect(governor.get_by_role("status").first).to_contain_text("Decision recorded")
    assert Incident.objects.get(pk=incident.pk).status == Status.CLOSED

    governor.goto("/incidents/reviews/termly/")
    expect(governor.get_by_test_id("upheld-total")).to_have_text("1")
    expect(governor.get_by_role("link", name=reference)).to_be_visible()
