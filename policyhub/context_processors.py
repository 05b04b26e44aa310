from typing import NamedTuple

from django.db.models import Exists, OuterRef
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


# The banner's query runs on every page, and building and compiling it through the ORM cost more than
# running it: its SQL is written once (accounts/prepared.py) and run with each request's school and
# person. Still one query per page, so the banner follows a publication or an acknowledgement on the
# very next request in every process. tests/accounts/test_page_frame.py checks the answers against
# the queryset's.
_BANNER = Prepared(_first_unacknowledged, 2)


def first_unacknowledged(school_id: int, user_id: int) -> Unacknowledged | None:
    rows = _BANNER.rows(school_id, user_id)
    return Unacknowledged(*rows[0]) if rows else None


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
