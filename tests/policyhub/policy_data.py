"""Policy rows for the policy feature's tests, built through the services where it matters."""

import datetime as dt

from policyhub import services
from policyhub.models import Policy, PolicyAdoption, PolicyVersion, VersionStatus
from policyhub.services import _write_structure

WORDS = ["pupils", "parents", "images", "accounts", "privacy", "breach", "media", "safeguarding"]


def structure(sections: int = 2, per_section: int = 3, *, sub: bool = True, salt: str = "") -> dict:
    """Sections 1..n with clauses n.1..n.k; clause n.2 gets a sub-clause n.2.1 when `sub`."""
    out = []
    for s in range(1, sections + 1):
        clauses = []
        for c in range(1, per_section + 1):
            word = WORDS[(s * per_section + c) % len(WORDS)]
            clauses.append(
                {"ref": f"{s}.{c}", "text": f"Clause {s}.{c} about {word}{salt}.", "parent": None, "topics": []}
            )
            if sub and c == 2:
                clauses.append(
                    {"ref": f"{s}.2.1", "text": f"Sub-clause {s}.2.1 on {word}.", "parent": f"{s}.2", "topics": []}
                )
        out.append({"number": str(s), "heading": f"Heading {s}", "clauses": clauses})
    return {"sections": out}


def draft(policy: Policy, data: dict | None = None, *, by=None) -> PolicyVersion:
    number = (policy.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = PolicyVersion.objects.create(policy=policy, number=number, created_by=by)
    _write_structure(version, data or structure())
    return version


def published(policy: Policy, data: dict | None = None, *, by, day=dt.date(2025, 9, 1)) -> PolicyVersion:
    return services.policy_version_publish(actor=by, version=draft(policy, data, by=by), effective_date=day)


def trust_policy(cast, data: dict | None = None, *, adopt=True) -> PolicyVersion:
    """The Riverside model policy, version 1 in force, adopted by Oakfield and Brookside."""
    policy = Policy.objects.create(trust=cast.trust, title="Riverside social-media policy")
    version = published(policy, data, by=cast.tom)
    if adopt:
        for school in (cast.oakfield, cast.brookside):
            PolicyAdoption.objects.create(school=school, policy=policy)
    return version


def school_policy(cast, school=None, data: dict | None = None, *, status=VersionStatus.ACTIVE) -> PolicyVersion:
    school = school or cast.oakfield
    head = cast.helen if school == cast.oakfield else cast.olive
    policy = Policy.objects.create(school=school, title=f"{school.name} social-media policy")
    if status == VersionStatus.DRAFT:
        return draft(policy, data, by=head)
    return published(policy, data, by=head)


def sign_in(client, user):
    """Sign `user` in; roles other than plain staff also pass two-factor, where it is in force (tests.auth)."""
    try:
        from tests.auth import verified_login
    except ImportError:  # before two-factor sign-in exists
        client.force_login(user)
    else:
        verified_login(client, user)
    return client


def browser_sign_in(page, user):
    """The browser version of :func:`sign_in`: password, then the authenticator code where required."""
    try:
        from tests.auth import login_verified
    except ImportError:
        from tests.conftest import login

        login(page, user.email)
    else:
        from accounts.models import Role

        if user.memberships.exclude(role=Role.STAFF).exists() or user.is_staff:
            login_verified(page, user)
        else:
            from tests.conftest import login

            login(page, user.email)
