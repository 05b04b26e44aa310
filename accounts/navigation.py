"""Which links each role sees. Later features add entries here; visibility is enforced in views."""

from dataclasses import dataclass

from .models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset


NAV = [
    NavItem("Home", "home", frozenset(Role.values)),
    NavItem("Report a concern", "incidents:report", frozenset({Role.STAFF, Role.HEAD, Role.DSL})),
    NavItem("My reports", "incidents:mine", frozenset({Role.STAFF, Role.HEAD, Role.DSL})),
    NavItem("Triage queue", "incidents:queue", frozenset({Role.HEAD, Role.DSL, Role.CHAIR})),
    NavItem("Governor reviews", "incidents:reviews", frozenset({Role.GOVERNOR, Role.CHAIR})),
    NavItem("Policy", "policy:page", frozenset(Role.values)),
    NavItem("Audit log", "audit:log", frozenset({Role.TRUST_ADMIN, Role.DPO})),
    NavItem("Retention", "retention:upcoming", frozenset({Role.DPO, Role.HEAD})),
    NavItem("Subject access", "sar:start", frozenset({Role.DPO})),
]


def nav_items(ctx):
    return [item for item in NAV if ctx.roles & item.roles]
