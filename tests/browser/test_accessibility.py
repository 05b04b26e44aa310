"""axe-core, in Chromium, on every kind of page as each role, at desktop (1280 px) and phone (390 px)
width: any violation fails. Also: no list page scrolls sideways on a phone.

Kept cheap on purpose (the CI suite is near its time limit): one browser context per role, each page
loaded once and checked at both widths by resizing the viewport rather than reloading.
"""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from accounts.models import User
from policyhub.demo import DEFAULT_DEMO_PASSWORD, seed
from tests.auth import authenticator, login_verified
from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1280, "phone": 390}
# WCAG 2.2 A and AA plus axe's best practices (landmarks, headings, one main...).
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
    "resultTypes": ["violations"],
}
ROLES = {
    "staff": "staff.oakfield@example.org",
    "head": "head.oakfield@example.org",
    "dsl": "dsl.oakfield@example.org",
    "governor": "governor.oakfield@example.org",
    "chair": "chair.oakfield@example.org",
    "trust-admin": "trust-admin@example.org",
    "dpo": "dpo@example.org",
}
# Pages every signed-in role can open beside its menu (the pack: a 403 unless governor or trust admin).
EXTRA_PAGES = ["/accounts/security/", "/incidents/reviews/termly/", "/no-such-page/"]
ANONYMOUS_PAGES = [
    "/accounts/login/",
    "/accounts/password/reset/",
    "/accounts/sign-in-link/",
    "/no-such-page/",
    "/incidents/OAK-0000-0000/",
]
# List pages: must not scroll sideways at 390 px.
LIST_PAGES = ["/incidents/mine/", "/incidents/queue/", "/incidents/reviews/", "/incidents/reviews/termly/"]
LIST_PAGES += ["/retention/", "/audit/", "/policy/"]

AXE_SCRIPT = Axe().axe_script  # axe-core's JS, as shipped by axe-playwright-python


# axe's whole result object (every rule that passed or did not apply, with its help text) is large;
# only the violations come back to Python, which spares decoding it on every page.
AXE_RUN = """options => axe.run(document, options).then(results => results.violations.map(v => ({
  id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
})))"""


def _violations(page, widths=WIDTHS) -> list[str]:
    """axe-core's violations at the given widths (both by default). The script goes in once per page
    through evaluate (the CSP blocks injected <script> tags; evaluate is the DevTools protocol)."""
    found = []
    page.evaluate(AXE_SCRIPT)
    for label, width in widths.items():
        page.set_viewport_size({"width": width, "height": 900})
        for v in page.evaluate(AXE_RUN, AXE_OPTIONS):
            found.append(f"{page.url} @{label}: {v['id']} ({v['impact']}) {v['targets']}")
    return found


def _links(page, pattern) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    return [h for h in dict.fromkeys(hrefs) if re.fullmatch(pattern, h)]


# The page itself, or any box in it that scrolls sideways (a .table-responsive did, at 390 px).
SIDEWAYS = """() => {
  const el = document.documentElement;
  if (el.scrollWidth > el.clientWidth) return ["the page"];
  return [...document.querySelectorAll("main *")]
    .filter(e => e.scrollWidth > e.clientWidth + 1 && ["auto", "scroll"].includes(getComputedStyle(e).overflowX))
    .map(e => e.className || e.tagName);
}"""


def _no_sideways_scroll(page) -> list[str]:
    page.set_viewport_size({"width": 390, "height": 900})
    wide = page.evaluate(SIDEWAYS)
    return [f"{page.url} scrolls sideways at 390 px: {wide}"] if wide else []


def _walk(page, email, seen: set) -> list[str]:
    """Every page in this role's menu, its security page, a 404 and a case page. A page another role
    already had checked at phone width is checked at desktop width only (its menu differs by role,
    its layout does not), which keeps the whole walk to about a minute."""
    found = []
    page.set_viewport_size({"width": 1280, "height": 900})
    nav = page.eval_on_selector_all("#main-nav a.nav-link[href]", "els => els.map(e => e.getAttribute('href'))")
    urls = list(dict.fromkeys(["/", *nav, *EXTRA_PAGES]))
    cases = []
    for url in urls:
        page.goto(url)
        found += _violations(page, WIDTHS if url not in seen else {"desktop": 1280})
        seen.add(url)
        if url in LIST_PAGES or url.rstrip("/") in {u.rstrip("/") for u in LIST_PAGES}:
            found += _no_sideways_scroll(page)
        cases += _links(page, r"/incidents/[A-Z]{3}-[A-Z0-9]{4}-[A-Z0-9]{4}/")
        page.set_viewport_size({"width": 1280, "height": 900})
    for url in list(dict.fromkeys(cases))[:1]:  # a case page (and its actions) as this role
        page.goto(url)
        found += _violations(page)
    return [f"[{email}] {f}" for f in found]


def _assert_error_summary_focused_and_linked(page):
    summary = page.locator("[data-error-summary]")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    for link in summary.get_by_role("link").all():
        target = link.get_attribute("href")
        assert page.locator(target).count() == 1, target  # each error leads to its field
    page.set_viewport_size({"width": 1280, "height": 900})


def test_every_page_kind_as_every_role_has_no_axe_violation(browser, live_server):
    seed()
    found, seen = [], set()
    for role, email in ROLES.items():
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(10_000)
        if role == "staff":
            login(page, email, DEFAULT_DEMO_PASSWORD)
        else:
            login_verified(page, User.objects.get(email=email), DEFAULT_DEMO_PASSWORD)
        found += _walk(page, email, seen)
        if role == "head":
            found += _case_states(page, User.objects.get(email=email))
        context.close()
    assert not found, "\n".join(found)


def _case_states(page, user) -> list[str]:
    """The owner's case page in each status of the demo's cases: its panels differ by status (the
    triage form's clause picker only in triage), and the walk opens one case per role."""
    from incidents.models import Incident, Status

    first_of = {}
    for reference, status in (
        Incident.objects.visible_to(user).order_by("received_at").values_list("reference", "status")
    ):
        first_of.setdefault(status, reference)
    assert {Status.TRIAGE, Status.INVESTIGATING} <= first_of.keys(), first_of
    found = []
    for reference in first_of.values():
        page.goto(f"/incidents/{reference}/")
        found += _violations(page)
    return found


def test_anonymous_pages_and_form_errors_have_no_axe_violation(browser, live_server):
    seed()
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    found = []
    for url in ANONYMOUS_PAGES:
        page.goto(url)
        found += _violations(page)
    # A failed sign-in, then the two-factor set-up page of someone without an authenticator yet.
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    found += _violations(page)
    login(page, "dpo@example.org", DEFAULT_DEMO_PASSWORD)
    assert "/accounts/two-factor/setup/" in page.url
    found += _violations(page)
    assert page.locator("#main-nav a.nav-link").count() == 0  # no menu before the second step
    page.get_by_role("button", name="Turn on two-step verification").click()
    page.wait_for_load_state()
    found += _violations(page)
    _assert_error_summary_focused_and_linked(page)
    context.close()
    # The verify page of someone who has an authenticator.
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    authenticator(User.objects.get(email=ROLES["head"]))
    login(page, ROLES["head"], DEFAULT_DEMO_PASSWORD)
    assert "/accounts/two-factor/verify/" in page.url
    assert page.locator("#main-nav a.nav-link").count() == 0
    found += _violations(page)
    context.close()
    # A failed report (radio groups among the errors).
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    login(page, ROLES["staff"], DEFAULT_DEMO_PASSWORD)
    page.goto("/incidents/report/")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_load_state()
    found += _violations(page)
    _assert_error_summary_focused_and_linked(page)
    # The radio group's error is tied to its fieldset, so it is read with the group's question.
    described = page.locator("fieldset:has(input[name=category])").get_attribute("aria-describedby")
    assert any("required" in page.locator(f"[id='{i}']").inner_text() for i in described.split()), described
    context.close()
    assert not found, "\n".join(found)


def test_the_axe_check_reports_a_violation(browser, live_server):
    """Positive control: an image without alternative text on a page is reported, with its target."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.evaluate("""document.querySelector("main").insertAdjacentHTML("beforeend", '<img id="no-alt" src="x">')""")
    found = _violations(page, {"desktop": 1280})
    context.close()
    assert any(" @desktop: image-alt (critical) ['#no-alt']" in f for f in found), found
