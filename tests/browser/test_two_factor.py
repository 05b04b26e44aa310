"""In Chromium: every privileged role is forced through two-factor set-up before any page, and signs
in with a code afterwards; and no page, for any role, breaks the Content-Security-Policy."""

import base64
import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP

from accounts.models import User
from incidents.models import Incident
from policyhub.demo import DEFAULT_DEMO_PASSWORD, seed
from policyhub.models import PolicyVersion
from tests.auth import authenticator, login_verified, verified_login
from tests.conftest import login
from tests.test_anonymous_access import ROUTES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRIVILEGED = ["helen", "dina", "gary", "carol", "tom", "priya"]
# Records every CSP violation the page reports, before any of the page's own code runs.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber} ${e.sample}`);
});
"""
# Downloads and POST-only actions are not pages to look at.
NOT_PAGES = {"healthz", "logout", "sign_out_everywhere", "switch_school", "policy:compliance_csv", "sar:export"}
NOT_PAGES |= {name for name, _ in ROUTES if name.endswith("_download")}


def _enrol(page) -> list[str]:
    """Scan the key from the set-up page (as text, like a screen-reader user), type the code,
    and return the recovery codes shown."""
    key = re.sub(r"\s", "", page.get_by_label("Set-up key").inner_text())
    page.get_by_label("6-digit code").fill(f"{TOTP(base64.b32decode(key)).token():06d}")
    with page.expect_navigation():
        page.get_by_role("button", name="Turn on two-step verification").click()
    codes = page.get_by_role("list", name="Your recovery codes").get_by_role("listitem").all_inner_texts()
    assert len(codes) == 10
    return codes


@pytest.mark.parametrize("who", PRIVILEGED)
def test_a_privileged_role_must_set_up_two_factor_before_any_page(page, cast, who):
    user = getattr(cast, who)
    login(page, user.email)
    assert "/accounts/two-factor/setup/" in page.url
    assert page.get_by_role("heading", name="Set up two-step verification").is_visible()
    for url in ("/", "/incidents/queue/", "/accounts/security/", "/admin/", "/policy/"):
        page.goto(url)
        assert "/accounts/two-factor/setup/" in page.url, url
    codes = _enrol(page)
    with page.expect_navigation():
        page.get_by_role("link", name="I have saved my codes").click()
    assert page.url.endswith("/policy/")  # the page they last asked for
    assert page.get_by_role("button", name=re.compile("Sign out")).is_visible()

    # Next time: password, then a code; a recovery code works once.
    page.get_by_role("button", name=re.compile("Sign out")).click()
    page.wait_for_url("**/accounts/login/")
    login(page, user.email)
    assert "/accounts/two-factor/verify/" in page.url
    page.goto("/incidents/mine/")
    assert "/accounts/two-factor/verify/" in page.url
    page.get_by_label("Code").fill(codes[0])
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    assert "/incidents/mine/" in page.url
    assert page.get_by_text("You used a recovery code; 9 left").is_visible()


def test_staff_go_straight_in_and_may_opt_in(page, cast):
    login(page, cast.sam.email)
    assert page.url.endswith("/")
    page.goto("/accounts/security/")
    page.get_by_role("link", name="Set up two-step verification").click()
    page.wait_for_url("**/accounts/two-factor/setup/**")
    assert page.get_by_text("Two-step verification is optional for you").is_visible()


def test_the_demo_logins_all_reach_their_home_page_through_two_factor(page):
    seed()
    login(page, "staff.oakfield@example.org", DEFAULT_DEMO_PASSWORD)
    assert page.get_by_role("heading", name="Report a concern").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    login_verified(page, User.objects.get(email="head.oakfield@example.org"), DEFAULT_DEMO_PASSWORD)
    assert page.get_by_role("heading", name="Triage queue").is_visible()


def _violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def test_the_violation_recorder_sees_an_inline_style_and_script(browser, live_server, cast):
    """Positive control: without it, "no violations" could mean the recorder never ran."""
    context = browser.new_context(base_url=live_server.url)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.evaluate(
        """document.body.insertAdjacentHTML('beforeend', '<p style="color:red">x</p>');
        const s = document.createElement('script'); s.textContent = 'window.__ran = 1'; document.body.append(s);"""
    )
    page.wait_for_function("window.__cspViolations.length >= 2")
    assert page.evaluate("window.__ran") is None
    directives = " ".join(_violations(page))
    assert "style-src" in directives and "script-src" in directives
    context.close()


def _pages_open_to(user, urls) -> list[str]:
    """The pages (HTML, 200) this user can open: the others are redirects, 403s, 404s and 405s."""
    client = Client()
    verified_login(client, user)
    responses = {url: client.get(url) for url in urls}
    return [u for u, r in responses.items() if r.status_code == 200 and r["Content-Type"].startswith("text/html")]


def test_no_page_breaks_the_content_security_policy_for_any_role(browser, live_server):
    seed()
    people = ["staff", "head", "dsl", "governor", "chair"]
    emails = [f"{role}.oakfield@example.org" for role in people] + ["trust-admin@example.org", "dpo@example.org"]
    pages = ["/", *(url for name, url in ROUTES if not name.startswith("admin") and name not in NOT_PAGES)]
    pages += [reverse("incidents:detail", args=[r]) for r in Incident.objects.values_list("reference", flat=True)]
    pages += [reverse("policy:version", args=[pk]) for pk in PolicyVersion.objects.values_list("pk", flat=True)]
    found, visited = {}, set()
    for email in emails:
        user = User.objects.get(email=email)
        authenticator(user)
        context = browser.new_context(base_url=live_server.url)
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(10_000)
        login_verified(page, user, DEFAULT_DEMO_PASSWORD)
        for url in _pages_open_to(user, pages):
            page.goto(url)
            visited.add(url)
            if violations := _violations(page):
                found[f"{email} {url}"] = violations
        context.close()
    assert len(visited) > 20
    assert found == {}
