"""Who may see and act on declarations, training records and advice requests ([10]).

Each rule is written once, as data: for each kind of record, the roles at the record's school that
see it, besides the person it belongs to. `visible` is the filter for lists and fetching; `sees` the
same rule on one loaded record (tests/obligations/test_access.py compares them over the whole cast).

- A declaration: its declarer; the head; the DSL; the DPO (PRODUCT.md §5: what a member of staff
  declares is personal data about them, kept to the people who act on it). When the declarer is a
  head of the school, the chair takes the head's place (a head does not acknowledge their own).
- A training record: its person; the head; the trust admin; the DPO.
- An advice request: its asker; the head; the DPO. Published questions and answers are reworded
  so they name nobody and are shown to every member on the clause page; that is not the request.
"""

from django.db.models import Exists, OuterRef, Q

from accounts.models import Membership, Role

from .models import PUPIL_KINDS

SEES = {
    "declaration": frozenset({Role.HEAD, Role.DSL, Role.DPO}),
    "training": frozenset({Role.HEAD, Role.TRUST_ADMIN, Role.DPO}),
    "advice": frozenset({Role.HEAD, Role.DPO}),
}
OWNER_FIELD = {"declaration": "declarer", "training": "person", "advice": "asker"}


def _schools(user, roles) -> list[int]:
    return [m.school_id for m in _memberships(user) if m.role in roles]


def _memberships(user):
    """This request's memberships if the middleware fetched them, else one query."""
    fetched = getattr(user, "memberships_of_request", None)
    return fetched() if fetched is not None else list(Membership.objects.for_user(user))


def _head_declarer(outer: str = "") -> Q:
    return Q(
        Exists(
            Membership.objects.filter(
                user=OuterRef(f"{outer}declarer"), school=OuterRef(f"{outer}school"), role=Role.HEAD
            )
        )
    )


def visible(kind: str, user) -> Q:
    """The filter: records of `kind` the user may open. Nothing for an inactive or anonymous user."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    q = Q(**{OWNER_FIELD[kind]: user}) | Q(school__in=_schools(user, SEES[kind]))
    if kind == "declaration":
        # A head's own declaration goes to the chair, and no other head sees it through the role.
        heads_see = Q(school__in=_schools(user, {Role.HEAD})) & ~_head_declarer()
        others = Q(school__in=_schools(user, {Role.DSL, Role.DPO}))
        chair = Q(school__in=_schools(user, {Role.CHAIR})) & _head_declarer()
        q = Q(declarer=user) | (heads_see & ~Q(declarer=user)) | others | chair
    return q


def sees(kind: str, user, record) -> bool:
    """The same rule on one loaded record."""
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(record, f"{OWNER_FIELD[kind]}_id") == user.pk:
        return True
    roles = {m.role for m in _memberships(user) if m.school_id == record.school_id}
    if kind == "declaration":
        head_declarer = Membership.objects.filter(
            user_id=record.declarer_id, school_id=record.school_id, role=Role.HEAD
        ).exists()
        if head_declarer:
            return bool(roles & {Role.DSL, Role.DPO, Role.CHAIR})
        return bool(roles & SEES[kind])
    return bool(roles & SEES[kind])


def may_acknowledge(user, declaration) -> bool:
    """The head (the chair for a head's own), or the DSL for a declaration about pupils; never the declarer."""
    if declaration.declarer_id == user.pk or not user.is_active:
        return False
    roles = {m.role for m in _memberships(user) if m.school_id == declaration.school_id}
    head_declarer = Membership.objects.filter(
        user_id=declaration.declarer_id, school_id=declaration.school_id, role=Role.HEAD
    ).exists()
    allowed = {Role.CHAIR} if head_declarer else {Role.HEAD}
    if declaration.kind in PUPIL_KINDS:
        allowed = allowed | {Role.DSL}
    return bool(roles & allowed)


def may_answer(user, advice) -> bool:
    """The head of the asker's school, not the asker."""
    if advice.asker_id == user.pk or not user.is_active:
        return False
    return any(m.role == Role.HEAD and m.school_id == advice.school_id for m in _memberships(user))


def may_record_training(user, school) -> bool:
    return any(m.role in (Role.HEAD, Role.TRUST_ADMIN) and m.school_id == school.pk for m in _memberships(user))


def acknowledgers(declaration) -> list:
    """Who is asked to acknowledge a new declaration (content-free email)."""
    from django.contrib.auth import get_user_model

    head_declarer = Membership.objects.filter(
        user_id=declaration.declarer_id, school_id=declaration.school_id, role=Role.HEAD
    ).exists()
    roles = [Role.CHAIR] if head_declarer else [Role.HEAD]
    if declaration.kind in PUPIL_KINDS:
        roles.append(Role.DSL)
    people = (
        get_user_model()
        .objects.filter(is_active=True, memberships__school_id=declaration.school_id, memberships__role__in=roles)
        .exclude(pk=declaration.declarer_id)
    )
    return list(people.distinct().order_by("pk"))
