"""Demo data for `manage.py seed_demo`: a trust, two schools, one user per role per school.

The one place demo seeding starts: this module makes the people, then hands them and the schools to
each feature's seeding (policyhub/demo_policy.py, incidents/demo.py), which never imports this back.

Idempotent: rows are found by natural keys and only created when missing, so running it
again changes nothing (and never resets a password someone changed).
"""

import os
from dataclasses import dataclass

from django.db import transaction

from accounts.models import Membership, Nation, Role, School, Trust, User
from incidents.demo import seed_incidents
from reporting.demo import seed_reporting

from .demo_policy import seed_policy

DEMO_PASSWORD_ENV = "DEMO_PASSWORD"  # noqa: S105 (a variable name)
DEFAULT_DEMO_PASSWORD = "policyhub-demo"  # noqa: S105 (demo data only; printed by seed_demo)
DEMO_DOMAIN = "example.org"

TRUST = {"slug": "riverside", "name": "Riverside Learning Trust"}
SCHOOLS = [
    {"slug": "oakfield", "name": "Oakfield Primary School", "code": "OAK", "urn": "100001", "nation": Nation.ENGLAND},
    {"slug": "brookside", "name": "Brookside Academy", "code": "BRK", "urn": "100002", "nation": Nation.WALES},
]
# (school slug, role, full name). The email is <role>.<school>@example.org.
PEOPLE = [
    ("oakfield", Role.HEAD, "Helen Hart"),
    ("oakfield", Role.DSL, "Dina Shah"),
    ("oakfield", Role.STAFF, "Sam Taylor"),
    ("oakfield", Role.GOVERNOR, "Gary Green"),
    ("oakfield", Role.CHAIR, "Carol Chambers"),
    ("oakfield", Role.TRUST_ADMIN, "Tom Reed"),
    ("oakfield", Role.DPO, "Priya Desai"),
    ("brookside", Role.HEAD, "Olive Owen"),
    ("brookside", Role.DSL, "Dylan Evans"),
    ("brookside", Role.STAFF, "Bethan Jones"),
    ("brookside", Role.GOVERNOR, "Gwen Price"),
    ("brookside", Role.CHAIR, "Rhys Morgan"),
    ("brookside", Role.TRUST_ADMIN, "Tom Reed"),
    ("brookside", Role.DPO, "Priya Desai"),
]
# Everyone who works in a school also holds the staff role there, so they can report concerns.
STAFF_ROLES = {Role.HEAD, Role.DSL}


@dataclass
class DemoLogin:
    email: str
    full_name: str
    roles: list[str]


def demo_email(role: str, school_slug: str, full_name: str) -> str:
    if role in (Role.TRUST_ADMIN, Role.DPO):  # central roles: one person across the trust
        return f"{role.replace('_', '-')}@{DEMO_DOMAIN}"
    return f"{role.replace('_', '-')}.{school_slug}@{DEMO_DOMAIN}"


@transaction.atomic
def seed() -> list[DemoLogin]:
    password = os.environ.get(DEMO_PASSWORD_ENV, DEFAULT_DEMO_PASSWORD)
    trust, _ = Trust.objects.get_or_create(slug=TRUST["slug"], defaults={"name": TRUST["name"]})
    schools = {}
    for spec in SCHOOLS:
        school, _ = School.objects.get_or_create(slug=spec["slug"], defaults={**spec, "trust": trust})
        schools[spec["slug"]] = school
    logins: dict[str, DemoLogin] = {}
    people: dict[tuple[str, str], User] = {}  # (school slug, role) -> user
    for slug, role, name in PEOPLE:
        email = demo_email(role, slug, name)
        user, created = User.objects.get_or_create(email=email, defaults={"full_name": name})
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        roles = [role, Role.STAFF] if role in STAFF_ROLES else [role]
        for r in roles:
            Membership.objects.get_or_create(user=user, school=schools[slug], role=r)
        people[(slug, role)] = user
        login = logins.setdefault(email, DemoLogin(email, name, []))
        login.roles.append(f"{Role(role).label} ({schools[slug].name})")
    admin, created = User.objects.get_or_create(
        email=f"admin@{DEMO_DOMAIN}", defaults={"full_name": "Site Admin", "is_staff": True, "is_superuser": True}
    )
    if created:
        admin.set_password(password)
        admin.save(update_fields=["password"])
    logins[admin.email] = DemoLogin(admin.email, admin.full_name, ["Django admin (/admin/)"])
    # Each feature adds its demo rows; each step is idempotent on its own.
    seed_policy(trust=trust, schools=schools)
    seed_incidents(schools=schools, people=people)
    seed_reporting(schools=schools, people=people)
    return list(logins.values())
