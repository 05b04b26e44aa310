"""The page-access table (accounts/pages.py) is what the server enforces, and the menu and the home
page's tiles show exactly what the server lets through: checked from outside, over HTTP, for every
single role and for people holding two roles at two schools. The scope rule (roles at the current
school or at any school) is written by hand below, not read from the table."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Membership, Role
from tests.auth import verified_login
from tests.factories import UserFactory, member
from tests.policyhub.policy_data import trust_policy
from tests.test_anonymous_access import PUBLIC as ANONYMOUS_PUBLIC

pytestmark = pytest.mark.django_db

# The menu, by hand: which url names are menu entries.
MENU = [
    "home",
    "incidents:report",
    "incidents:mine",
    "incidents:queue",
    "incidents:reviews",
    "policy:page",
    "audit:log",
    "retention:upcoming",
    "sar:start",
    "sso_providers",
    "casefile:find",
    "staff_import",
    "approvals:index",
    "obligations:declarations",
    "obligations:advice_list",
    "obligations:training",
    "reporting:trust",
]
# Pages whose URL needs arguments: a person who may open the page gets past the role check to the
# object's own check (404) or a redirect; one who may not is refused first (403).
KWARGS = {"incidents:person": {"user_id": 999_999}, "policy:import_section": {"index": 0}}
# Home tiles: the page each one is for, by hand.
TILES = {
    "report-heading": "incidents:report",
    "triage-heading": "incidents:queue",
    "reviews-heading": "incidents:reviews",
    "dpo-heading": "sar:start",
}


def _url(name):
    return reverse(name, kwargs=KWARGS.get(name, {}))


def _menu(html) -> set[str]:
    nav = re.search(r'<nav [^>]*id="main-nav".*?</nav>', html, re.S)
    hrefs = set(re.findall(r'href="([^"]+)"', nav[0])) if nav else set()
    return {name for name in MENU if _url(name) in hrefs}


def _tiles(html) -> set[str]:
    return {page for heading, page in TILES.items() if f'id="{heading}"' in html}


def _let_through(client, names) -> set[str]:
    opened = set()
    for name in names:
        status = client.get(_url(name)).status_code
        assert status != 500, name
        if status != 403:
            opened.add(name)
    return opened


def _sign_in_at(client, user, school):
    verified_login(client, user)
    if school is not None:
        assert client.post(reverse("switch_school"), {"school": school.pk}).status_code == 302


# People: (memberships as (school key, role), the school they switched to).
A, B = "oakfield", "brookside"
PEOPLE = {f"{role} only": ([(A, role)], A) for role in Role.values}
PEOPLE |= {
    "no school": ([], None),
    "head at A, staff at B, working at B": ([(A, Role.HEAD), (B, Role.STAFF)], B),
    "head at A, governor at B, working at B": ([(A, Role.HEAD), (B, Role.GOVERNOR)], B),
    "governor at A, DPO at B, working at A": ([(A, Role.GOVERNOR), (B, Role.DPO)], A),
    "trust admin at A, head at B, working at B": ([(A, Role.TRUST_ADMIN), (B, Role.HEAD)], B),
    "trust admin at A, head at B, working at A": ([(A, Role.TRUST_ADMIN), (B, Role.HEAD)], A),
    "chair at A, DSL at B, working at B": ([(A, Role.CHAIR), (B, Role.DSL)], B),
}


def _person(cast, memberships):
    user = UserFactory()
    for school, role in memberships:
        member(user, getattr(cast, school), role)
    return user


@pytest.mark.parametrize("who", PEOPLE)
def test_menu_and_home_tiles_are_exactly_the_pages_the_server_lets_through(client, cast, who):
    from accounts.pages import PAGES

    memberships, working_at = PEOPLE[who]
    _sign_in_at(client, _person(cast, memberships), getattr(cast, working_at) if working_at else None)
    home = client.get(reverse("home")).content.decode()

    opened = _let_through(client, PAGES)
    assert _menu(home) == opened & set(MENU)
    assert _tiles(home) == opened & set(TILES.values())


def test_a_head_at_one_school_who_is_staff_at_another_keeps_her_cross_school_pages_there(client, cast):
    """The scope decision, by hand. Pages that list across all of a person's schools (queue,
    retention) go by a role at ANY school; pages that act for the school being worked in (reporting,
    managing its policy) go by the roles held THERE."""
    trust_policy(cast)
    head = _person(cast, [(A, Role.HEAD), (B, Role.STAFF)])
    _sign_in_at(client, head, cast.brookside)

    cross_school = {"incidents:queue", "retention:upcoming", "incidents:person"}
    at_this_school = {"policy:manage", "policy:compliance", "policy:import"}
    assert _let_through(client, cross_school | at_this_school | {"incidents:report"}) == cross_school | {
        "incidents:report"  # she is staff at Brookside
    }
    menu = _menu(client.get(reverse("home")).content.decode())
    assert {"incidents:queue", "retention:upcoming", "incidents:report"} <= menu
    policy = client.get(reverse("policy:page")).content.decode()
    assert reverse("policy:manage") not in policy and reverse("policy:compliance") not in policy

    _sign_in_at(client, head, cast.oakfield)
    assert _let_through(client, at_this_school) == at_this_school
    policy = client.get(reverse("policy:page")).content.decode()
    assert reverse("policy:manage") in policy and reverse("policy:compliance") in policy


def test_reporting_goes_by_the_school_being_worked_in(client, cast):
    # A DPO does not report (governors do since [10]: the policy covers them).
    head = _person(cast, [(A, Role.HEAD), (B, Role.DPO)])
    _sign_in_at(client, head, cast.brookside)
    assert client.get(reverse("incidents:report")).status_code == 403
    home = client.get(reverse("home")).content.decode()
    assert "incidents:report" not in _menu(home) and "Report a concern" not in home
    assert {"incidents:queue", "sar:start"} <= _menu(home)

    _sign_in_at(client, head, cast.oakfield)
    assert client.get(reverse("incidents:report")).status_code == 200
    assert "incidents:report" in _menu(client.get(reverse("home")).content.decode())


def test_a_role_taken_away_closes_the_page_and_its_menu_entry_on_the_next_request(client, cast):
    _sign_in_at(client, cast.helen, cast.oakfield)
    assert client.get(reverse("incidents:queue")).status_code == 200
    Membership.objects.filter(user=cast.helen, role=Role.HEAD).delete()
    assert client.get(reverse("incidents:queue")).status_code == 403
    home = client.get(reverse("home")).content.decode()
    assert "incidents:queue" not in _menu(home) and 'id="triage-heading"' not in home


# --- The table and the URL space ----------------------------------------------------------------------

# URLs that are not pages of the table, and why. A new URL must go in the table or here.
# The public pages (tests/test_anonymous_access.py), without the admin site's own sign-in pages.
PUBLIC = {name for name in ANONYMOUS_PUBLIC if not name.startswith("admin:")}
# The person's own account: every signed-in person, whatever their roles.
OWN_ACCOUNT = {
    "logout",
    "password_change",
    "password_change_done",
    "switch_school",
    "account_security",
    "sign_out_everywhere",
    "two_factor_setup",
    "two_factor_verify",
    "recovery_codes",
    "policy:hide_banner",  # hides the policy banner for this session (a POST, no page)
}
# One object each (a case, a file, a policy version or clause, a person): checked per object by the
# view, a 404 when hidden (tests/security/test_access_matrix.py).
OBJECT_PAGES = {
    "obligations:declaration",
    "obligations:advice",
    "incidents:report_done",
    "incidents:detail",
    "incidents:acknowledge",
    "incidents:triage",
    "incidents:start_investigation",
    "incidents:propose_outcome",
    "incidents:close",
    "incidents:refer_to_governors",
    "incidents:decide",
    "incidents:declare_conflict",
    "incidents:reopen",
    "incidents:add_note",
    "incidents:record_referral",
    "incidents:add_evidence",
    "incidents:evidence_download",
    "incidents:evidence_preview",
    "incidents:evidence_withdraw",
    "audit:case_history",
    "retention:hold",
    "retention:release",
    "retention:pension_age",
    "sar:preview",
    "sar:export",
    "policy:version",
    "policy:clause",
    "policy:acknowledge",
    "policy:draft_edit",
    "policy:draft_section",
    "policy:publish",
    "policy:new_draft",
    "policy:record_review",
    "policy:adopt",
    "sso_provider_edit",
    "sso_mapping_add",
    "sso_mapping_remove",
    "incidents:assign_task",
    "incidents:complete_task",
    "incidents:cancel_task",
    "incidents:link",
    "incidents:unlink",
    "incidents:merge",
    "incidents:split",
    "incidents:message_reporter",
    "incidents:message_owner",
    "incidents:what_we_did",
    "incidents:request_takedown",
    "incidents:record_removal",
    "incidents:record_platform_refusal",
    "incidents:record_escalation_step",
    # The allegation records on a case (incidents/allegations.py).
    "incidents:decide_to_investigate",
    "incidents:record_investigation_report",
    "incidents:record_formal_action",
    "incidents:record_hearing_held",
    "casefile:form",
    "casefile:download",
    # Official accounts and authorisations (approvals/access.py; tests/approvals/test_access.py).
    "approvals:account",
    "approvals:account_decide",
    "approvals:account_review",
    "approvals:account_close",
    "approvals:vacancy_fill",
    "approvals:authorisation",
    "approvals:authorisation_decide",
    "approvals:do_not_publish_remove",
    "approvals:approver_remove",
    "approvals:concern_link",
}
NOT_PAGES = PUBLIC | OWN_ACCOUNT | OBJECT_PAGES


def _routes(patterns=None, namespace=""):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
            yield from _routes(p.url_patterns, ns)
        elif isinstance(p, URLPattern):
            yield (f"{namespace}:{p.name}" if namespace else p.name), p.callback


def _app_routes():
    return {name: view for name, view in _routes() if not name.startswith("admin:")}


def test_every_url_is_a_page_of_the_table_or_deliberately_not():
    from accounts.pages import PAGES

    routes = _app_routes()
    assert not set(PAGES) & NOT_PAGES
    unplaced = set(routes) - set(PAGES) - NOT_PAGES
    assert not unplaced, f"put these in accounts/pages.py or, if not a role's page, in NOT_PAGES: {unplaced}"
    assert not (set(PAGES) | NOT_PAGES) - set(routes), "rows for URLs that no longer exist"


def test_each_page_view_carries_the_check_of_its_own_row():
    from accounts.pages import PAGES

    routes = _app_routes()
    for name, entry in PAGES.items():
        assert getattr(routes[name], "page", None) is entry, f"{name}: its view has no @page({name!r})"
    for name in NOT_PAGES:
        assert not hasattr(routes[name], "page"), f"{name} is checked by the table but listed as not a page"


def test_the_menu_is_in_the_table_in_the_same_order():
    from accounts.pages import PAGES

    assert [name for name, entry in PAGES.items() if entry.label] == MENU


def test_a_name_missing_from_the_table_or_a_wrong_scope_fails_at_import():
    from accounts.pages import Page, page

    with pytest.raises(KeyError):
        page("incidents:no_such_page")
    with pytest.raises(ValueError, match="scope"):
        Page("x", None, frozenset({Role.HEAD}), "every school")
