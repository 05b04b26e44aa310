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
]


def nav_items(ctx):
    return [item for item in NAV if ctx.roles & item.roles]
