from django.db.models import Exists, OuterRef
from django.utils.functional import SimpleLazyObject

from accounts.models import ACKNOWLEDGING_ROLES

from .models import Acknowledgement, PolicyVersion, VersionStatus


def _unacknowledged_version(request):
    """The version in force at the current school if this staff member has not acknowledged it (one query)."""
    ctx = request.ctx
    if ctx.school is None or not ctx.has_role(*ACKNOWLEDGING_ROLES):
        return None
    return (
        PolicyVersion.objects.filter(policy__adoptions__school=ctx.school, status=VersionStatus.ACTIVE)
        .annotate(done=Exists(Acknowledgement.objects.filter(user=request.user, version=OuterRef("pk"))))
        .filter(done=False)
        .only("pk", "number")
        .first()
    )


def policy_banner(request):
    """Context for templates/_policy_banner.html (the "acknowledge the new policy" banner)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated or not hasattr(request, "ctx"):
        return {}
    hidden = request.session.get("policy_banner_hidden")  # set by views.hide_banner
    return {
        "policy_to_acknowledge": SimpleLazyObject(lambda: _unacknowledged_version(request)),
        "policy_banner_hidden_version": hidden,
    }
