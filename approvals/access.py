"""Who may see and act on an official account, an authorisation request and the do-not-publish
list: every relation in one table, each read two ways, as in incidents/access.py.

- `q(viewer)`: the rule as a filter, for lists and for fetching (`visible(...)`: anything else is 404);
- `holds(viewer, obj)`: the rule on one loaded object, for the roles its page and services check.

Approvers of a school are its heads and the people a head named (`Approver`), while they are
members there. The do-not-publish list is for the approvers and the DSL only. An inactive or
anonymous user has no relation. Relations are per school: a head elsewhere is nobody here.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from accounts.models import Membership, Role
from incidents.access import Viewer as RoleViewer

from .models import AccountAdministrator, Approver


@dataclass(frozen=True)
class Viewer:
    """The person's side, read once for a whole page: where they approve, where they are DSL."""

    user: object
    approves_at: frozenset
    heads_at: frozenset
    dsl_at: frozenset

    @classmethod
    def of(cls, user) -> "Viewer | None":
        roles = RoleViewer.of(user)
        if roles is None:
            return None
        member_at = {s for schools in roles.schools.values() for s in schools}
        heads = frozenset(roles.at(Role.HEAD))
        # A named approver approves only while still a member of the school.
        named = set(Approver.objects.filter(user=user).values_list("school_id", flat=True)) & member_at
        return cls(
            user=user, approves_at=heads | frozenset(named), heads_at=heads, dsl_at=frozenset(roles.at(Role.DSL))
        )


@dataclass(frozen=True)
class Relation:
    name: str
    q: Callable[[Viewer], Q]
    holds: Callable[[Viewer, object], bool]


def _administers(viewer, account) -> bool:
    return AccountAdministrator.objects.filter(account=account, user=viewer.user, ended_at__isnull=True).exists()


ACCOUNT_RELATIONS: tuple[Relation, ...] = (
    # The person who asked follows their request, also after it was refused or closed.
    Relation("requester", lambda v: Q(requested_by=v.user), lambda v, a: a.requested_by_id == v.user.pk),
    # Those who run it see it while they run it.
    Relation(
        "administrator",
        lambda v: Q(
            Exists(AccountAdministrator.objects.filter(account=OuterRef("pk"), user=v.user, ended_at__isnull=True))
        ),
        _administers,
    ),
    # Approvers see (and decide) every account of their school: the register.
    Relation("approver", lambda v: Q(school__in=v.approves_at), lambda v, a: a.school_id in v.approves_at),
)

AUTHORISATION_RELATIONS: tuple[Relation, ...] = (
    Relation("requester", lambda v: Q(requested_by=v.user), lambda v, r: r.requested_by_id == v.user.pk),
    Relation("approver", lambda v: Q(school__in=v.approves_at), lambda v, r: r.school_id in v.approves_at),
)

# The do-not-publish list: the people who approve posts, and the DSL. Nobody else, not the requester.
LIST_RELATIONS: tuple[Relation, ...] = (
    Relation("approver", lambda v: Q(school__in=v.approves_at), lambda v, e: e.school_id in v.approves_at),
    Relation("dsl", lambda v: Q(school__in=v.dsl_at), lambda v, e: e.school_id in v.dsl_at),
)


def visible(queryset, user, table, viewer: Viewer | None = None):
    """The objects of `queryset` to which `user` has a relation of `table`."""
    viewer = viewer or Viewer.of(user)
    if viewer is None:
        return queryset.none()
    rule = Q(pk__in=[])
    for row in table:
        rule |= row.q(viewer)
    return queryset.filter(rule).distinct()


def relations(user, obj, table, viewer: Viewer | None = None) -> frozenset[str]:
    viewer = viewer or Viewer.of(user)
    if viewer is None:
        return frozenset()
    return frozenset(row.name for row in table if row.holds(viewer, obj))


def may_decide(user, obj, viewer: Viewer | None = None) -> bool:
    """Approvers decide, never on their own request (another approver, or the head, does)."""
    table = ACCOUNT_RELATIONS if hasattr(obj, "moderation_plan") else AUTHORISATION_RELATIONS
    return "approver" in relations(user, obj, table, viewer) and obj.requested_by_id != user.pk


def sees_list(user, school_id, viewer: Viewer | None = None) -> bool:
    viewer = viewer or Viewer.of(user)
    return viewer is not None and (school_id in viewer.approves_at or school_id in viewer.dsl_at)


def approvers_of(school, *, exclude=None):
    """The active people who decide requests at `school`: its heads and its named approvers."""
    from accounts.models import User

    member = Membership.objects.filter(school=school, user=OuterRef("pk"))
    people = User.objects.filter(is_active=True).filter(
        Q(Exists(member.filter(role=Role.HEAD)))
        | (Q(Exists(Approver.objects.filter(school=school, user=OuterRef("pk")))) & Q(Exists(member)))
    )
    if exclude is not None:
        people = people.exclude(pk=exclude)
    return list(people.order_by("pk"))


def heads_of(school):
    from accounts.models import User

    return list(
        User.objects.filter(is_active=True, memberships__school=school, memberships__role=Role.HEAD)
        .distinct()
        .order_by("pk")
    )
