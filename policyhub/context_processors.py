from typing import NamedTuple

from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils.functional import SimpleLazyObject

from accounts.models import ACKNOWLEDGING_ROLES

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


# The banner's query runs on every page, and building and compiling it through the ORM cost more than
# running it. Its SQL is compiled once per process and database, with two marker values where the
# school and the person go; each request runs that text with the real values. Still one query per
# page, so the banner follows a publication or an acknowledgement on the very next request in every
# process. tests/policyhub/test_banner_query.py checks the answers against the queryset's.
_SCHOOL, _USER = -7_300_001, -7_300_002
_compiled: dict[tuple[str, str], tuple[str, list, int, int]] = {}


def _compile() -> tuple[str, list, int, int]:
    key = (connection.alias, connection.vendor)
    if key not in _compiled:
        queryset = unacknowledged_versions(_SCHOOL, _USER)
        queryset = queryset[:1] if queryset.ordered else queryset.order_by("pk")[:1]  # as .first()
        sql, params = queryset.query.get_compiler(connection=connection).as_sql()
        params = list(params)
        assert params.count(_SCHOOL) == 1 and params.count(_USER) == 1, params
        _compiled[key] = (sql, params, params.index(_SCHOOL), params.index(_USER))
    return _compiled[key]


def first_unacknowledged(school_id: int, user_id: int) -> Unacknowledged | None:
    sql, params, school_at, user_at = _compile()
    params = list(params)
    params[school_at], params[user_at] = school_id, user_id
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return Unacknowledged(*row) if row else None


def _unacknowledged_version(request):
    """The version in force at the current school if this staff member has not acknowledged it (one query)."""
    ctx = request.ctx
    if ctx.school is None or not ctx.has_role(*ACKNOWLEDGING_ROLES):
        return None
    return first_unacknowledged(ctx.school.pk, request.user.pk)


def policy_banner(request):
    """Context for templates/_policy_banner.html (the "acknowledge the new policy" banner)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated or not hasattr(request, "ctx"):
        return {}
    hidden = request.session.get("policy_banner_hidden")  # set by views.hide_banner
    return {
        "policy_to_acknowledge": SimpleLazyObject(lambda: _unacknowledged_version(request)),
        "policy_banner_hidden_version": hidden,
    }
