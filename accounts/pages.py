"""Who may open each page: one table that the server enforces (@page on the view) and the menu,
the home page's tiles and a page's links to other pages are built from. Nothing else decides
whether a role may open a page, so what a person is shown is exactly what they may open.

A page here is a URL without an object. A case, a file, a policy version or a person is checked per
object by its own view (visible_to: 404 if hidden); see tests/accounts/test_pages.py for the URLs
that are deliberately not in this table and why.

Scope, decided once per page:
- CURRENT: the roles held at the school the person is working in now (the school switcher). For
  pages that act for that school: reporting a concern there, managing its policy.
- ANY: a role held at any of their schools. For pages that list across all their schools: the
  triage queue shows every case they own, wherever; the audit log covers their whole trust.
  A head at one school who is staff at another can open their queue without switching back.

To add a page: a row below, @page("<url name>") on its view, and a row in the access matrix
(tests/security/test_access_matrix.py). See docs/notes/pages.md.

Only url names here: accounts imports nothing from the apps above it."""

from dataclasses import dataclass
from functools import lru_cache, wraps

from django.core.exceptions import PermissionDenied

from .models import REPORTING_ROLES, Role

CURRENT = "current school"
ANY = "any school"

# roles=None: every signed-in person, with or without a school (their own reports, for example).
EVERYONE = None
MEMBERS = frozenset(Role.values)
STAFF_LIKE = frozenset({Role.STAFF, Role.HEAD, Role.DSL})
OWNERS = frozenset({Role.HEAD, Role.DSL, Role.CHAIR})
GOVERNORS = frozenset({Role.GOVERNOR, Role.CHAIR})
MANAGERS = frozenset({Role.HEAD, Role.TRUST_ADMIN})
# Staff, heads, DSLs, governors, chairs, volunteers, agency and contract staff (accounts.models).
REPORTERS = REPORTING_ROLES


@dataclass(frozen=True)
class Page:
    url_name: str
    label: str | None  # its entry in the menu; None: not in the menu (reached from another page)
    roles: frozenset | None
    scope: str

    def __post_init__(self):
        if self.scope not in (CURRENT, ANY):
            raise ValueError(f"{self.url_name}: scope must be CURRENT or ANY, not {self.scope!r}")


# In menu order.
PAGES = {
    p.url_name: p
    for p in [
        Page("home", "Home", EVERYONE, ANY),
        Page("incidents:report", "Report a concern", REPORTERS, CURRENT),
        # Everyone: a person keeps following what they reported after their staff role ends.
        Page("incidents:mine", "My reports", EVERYONE, ANY),
        Page("incidents:queue", "Triage queue", OWNERS, ANY),
        Page("incidents:person", None, OWNERS, ANY),
        Page("incidents:reviews", "Governor reviews", GOVERNORS, ANY),
        # The governors' pack ([9], reporting/): trust admins open a school's pack from the trust view.
        Page("incidents:termly_report", None, GOVERNORS | {Role.TRUST_ADMIN}, ANY),
        Page("policy:page", "Policy", MEMBERS, CURRENT),
        Page("policy:search", None, MEMBERS, CURRENT),
        Page("policy:diff", None, MEMBERS, CURRENT),
        Page("policy:manage", None, MANAGERS, CURRENT),
        Page("policy:compliance", None, MANAGERS, CURRENT),
        Page("policy:compliance_csv", None, MANAGERS, CURRENT),
        Page("policy:import", None, MANAGERS, CURRENT),
        Page("policy:import_preview", None, MANAGERS, CURRENT),
        Page("policy:import_section", None, MANAGERS, CURRENT),
        Page("audit:log", "Audit log", frozenset({Role.TRUST_ADMIN, Role.DPO}), ANY),
        Page("retention:upcoming", "Retention", frozenset({Role.DPO, Role.HEAD}), ANY),
        Page("sar:start", "Subject access", frozenset({Role.DPO}), ANY),
        # The trust's single sign-on providers (accounts/sso_views.py): each trust admin sees their trusts'.
        Page("sso_providers", "Sign-in providers", frozenset({Role.TRUST_ADMIN}), ANY),
        Page("sso_provider_new", None, frozenset({Role.TRUST_ADMIN}), ANY),
        # The case file (dataprotection/casefile.py): owners of cases and the DPO find a case by reference.
        Page("casefile:find", "Case files", OWNERS | {Role.DPO}, ANY),
        # The staff list import (accounts/staff_import_views.py): heads their school, trust admins their trust's.
        Page("staff_import", "Import staff", MANAGERS, ANY),
        Page("staff_import_confirm", None, MANAGERS, ANY),
        # Official accounts and authorisations (approvals/): requests at the school being worked in; the
        # do-not-publish list pages refuse everyone but approvers and the DSL (approvals/access.py).
        Page("approvals:index", "Approvals", STAFF_LIKE, CURRENT),
        Page("approvals:register", None, STAFF_LIKE, CURRENT),
        Page("approvals:account_new", None, STAFF_LIKE, CURRENT),
        Page("approvals:authorisations", None, STAFF_LIKE, CURRENT),
        Page("approvals:authorisation_new", None, STAFF_LIKE, CURRENT),
        Page("approvals:do_not_publish", None, STAFF_LIKE, CURRENT),
        Page("approvals:do_not_publish_import", None, STAFF_LIKE, CURRENT),
        Page("approvals:approvers", None, frozenset({Role.HEAD}), CURRENT),
        # The policy's other half (obligations/): declarations, advice, training.
        Page("obligations:declarations", "Declarations", MEMBERS, CURRENT),
        Page("obligations:declare", None, MEMBERS, CURRENT),
        Page("obligations:advice_list", "Ask for advice", MEMBERS, CURRENT),
        Page("obligations:training", "Training", MANAGERS, CURRENT),
        Page("obligations:training_csv", None, MANAGERS, CURRENT),
        Page("obligations:my_training", None, EVERYONE, ANY),
        # The governors' pack downloads and the trust's figures ([9], reporting/).
        Page("reporting:pack_csv", None, GOVERNORS | {Role.TRUST_ADMIN}, ANY),
        Page("reporting:pack_pdf", None, GOVERNORS | {Role.TRUST_ADMIN}, ANY),
        Page("reporting:trust", "Trust figures", frozenset({Role.TRUST_ADMIN}), ANY),
    ]
}


def _held(ctx, page: Page):
    """The person's memberships that count for this page."""
    if page.scope == CURRENT:
        return [m for m in ctx.memberships if ctx.school is not None and m.school_id == ctx.school.pk]
    return ctx.memberships


def may_open(ctx, url_name: str) -> bool:
    page = PAGES[url_name]
    if page.roles is EVERYONE:
        return True
    return any(m.role in page.roles for m in _held(ctx, page))


def schools_for(ctx, url_name: str) -> list:
    """The schools where the person holds one of the page's roles (in scope): what the page covers."""
    page = PAGES[url_name]
    schools = {m.school_id: m.school for m in _held(ctx, page) if page.roles is EVERYONE or m.role in page.roles}
    return list(schools.values())


def role_sets(ctx) -> tuple[frozenset, frozenset]:
    """What may_open reads of a person: their roles at the school they work in now (CURRENT pages)
    and at any of their schools (ANY pages). Everything the menu depends on, as a memo key."""
    here = ctx.school.pk if ctx.school is not None else None
    current = frozenset(m.role for m in ctx.memberships if here is not None and m.school_id == here)
    return current, frozenset(m.role for m in ctx.memberships)


@lru_cache(maxsize=512)
def _open_for(current: frozenset, anywhere: frozenset) -> tuple[frozenset, tuple[Page, ...]]:
    """may_open over the table for one pair of role sets. The table is fixed at import, so the answer
    for a pair never changes: computed once per process, not once per request. The key is read from
    the request's memberships, so a role granted or revoked counts from the next request.
    tests/accounts/test_pages.py checks it against may_open for every pair."""
    opened = frozenset(
        p.url_name
        for p in PAGES.values()
        if p.roles is EVERYONE or not p.roles.isdisjoint(current if p.scope == CURRENT else anywhere)
    )
    return opened, tuple(p for p in PAGES.values() if p.label and p.url_name in opened)


def open_pages(ctx) -> frozenset:
    """Url names of every page of the table the person may open (for links in templates)."""
    return _open_for(*role_sets(ctx))[0]


def menu(ctx) -> tuple[Page, ...]:
    return menu_for(*role_sets(ctx))


def menu_for(current: frozenset, anywhere: frozenset) -> tuple[Page, ...]:
    """The menu for a pair of role sets (role_sets), in table order."""
    return _open_for(current, anywhere)[1]


def _refusal(page: Page) -> str:
    labels = ", ".join(str(Role(r).label) for r in Role.values if r in page.roles)
    where = "at the school you are working in" if page.scope == CURRENT else "at one of your schools"
    return f"This page is for: {labels} ({where})."


def page(url_name: str):
    """Refuse (403) a signed-in person who may not open the page `url_name` by the table.
    Anonymous visitors never get here: LoginRequiredMiddleware sends them to sign in."""
    entry = PAGES[url_name]  # a name missing from the table fails at import, not at run time

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not may_open(request.ctx, url_name):
                raise PermissionDenied(_refusal(entry))
            return view(request, *args, **kwargs)

        wrapped.page = entry
        return wrapped

    return decorator
