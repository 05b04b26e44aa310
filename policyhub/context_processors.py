from typing import NamedTuple

from django.db.models import Exists, OuterRef, Subquery
from django.utils.functional import SimpleLazyObject

from accounts.models import ACKNOWLEDGING_ROLES
from accounts.prepared import Prepared

from .models import Acknowledgement, PolicyVersion, VersionStatus


class Unacknowledged(NamedTuple):
    pk: int
    number: int


def unacknowledged_versions(school_id, user_id):
    """The versions in force at the school that this person has not acknowledged, the first first."""
    return (
        PolicyVersion.objects.filter(policy__adoptions__school=school_id, status=VersionStatus.ACTIVE)
        .annotate(done=Exists(Acknowledgement.objects.filter(user=user_id, version=OuterRef("pk"))))
        .filter(done=False)
        .values_list("pk", "number")
    )


def _first_unacknowledged(school_id, user_id):
    queryset = unacknowledged_versions(school_id, user_id)
    return queryset[:1] if queryset.ordered else queryset.order_by("pk")[:1]  # as .first()


def banner_columns(school, user) -> dict:
    """The first version in force at `school` that `user` has not acknowledged, as two columns
    (`banner_pk`, `banner_number`; NULL for none) of another query: `school` and `user` are outer
    references (accounts/backends.py asks it with each of the person's memberships: registered by
    PolicyhubConfig.ready). Two one-column subqueries, as SQLite has no row values in a select list;
    each reads only the school's versions in force and this person's acknowledgements of them."""
    return {
        f"banner_{name}": Subquery(_first_unacknowledged(school, user).values_list(name)) for name in ("pk", "number")
    }


# The fallback, for a request whose person was not fetched with the banner's columns (a page
# served before the backend's query, or another school than the fetched ones). Building and
# compiling it through the ORM cost more than running it: its SQL is written once
# (accounts/prepared.py) and run with the school and the person. tests/accounts/test_page_frame.py
# checks both ways against the queryset's answers.
_BANNER = Prepared(_first_unacknowledged, 2)


def first_unacknowledged(school_id: int, user_id: int) -> Unacknowledged | None:
    rows = _BANNER.rows(school_id, user_id)
    return Unacknowledged(*rows[0]) if rows else None


def _unacknowledged_version(request):
    """The version in force at the current school if this staff member has not acknowledged it: as
    found with the person at the start of this request (accounts/backends.py, no query of its own),
    or one query."""
    ctx = request.ctx
    if ctx.school is None or not ctx.has_role(*ACKNOWLEDGING_ROLES):
        return None
    fetched = getattr(request.user, "per_school_fetched", {}).get("banner")
    if fetched is not None and ctx.school.pk in fetched:
        return fetched_banner(fetched[ctx.school.pk])
    return first_unacknowledged(ctx.school.pk, request.user.pk)


def fetched_banner(values: tuple) -> Unacknowledged | None:
    """The banner from banner_columns()' values as fetched with the person."""
    return Unacknowledged(*values) if values[0] is not None else None


def policy_banner(request):
    """Context for templates/_policy_banner.html (the "acknowledge the new policy" banner)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated or not hasattr(request, "ctx"):
        return {}
    hidden = request.session.get("policy_banner_hidden")  # set by views.hide_banner
    return {
        "policy_to_acknowledge": SimpleLazyObject(lambda: _unacknowledged_version(request)),
        "policy_banner_hidden_version": hidden,
    }
