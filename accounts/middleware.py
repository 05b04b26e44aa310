from django.utils.functional import SimpleLazyObject

from .models import Membership

SESSION_KEY = "current_school_id"


class SchoolContext:
    """The signed-in user's memberships and the school they are working in now."""

    def __init__(self, request):
        user = request.user
        self.memberships = list(Membership.objects.for_user(user)) if user.is_authenticated else []
        self.schools = list({m.school_id: m.school for m in self.memberships}.values())
        wanted = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        self.school = next((s for s in self.schools if s.pk == wanted), self.schools[0] if self.schools else None)
        self.roles = frozenset(m.role for m in self.memberships if self.school and m.school_id == self.school.pk)

    def has_role(self, *roles) -> bool:
        return bool(self.roles.intersection(roles))


class CurrentSchoolMiddleware:
    """Attach `request.ctx` (memberships, current school, roles there); one query, only if used."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.ctx = SimpleLazyObject(lambda: SchoolContext(request))
        # The visibility rules (incidents/models.py) read the user's roles: from this request's
        # memberships, fetched once, instead of a query of their own each time they are applied;
        # the rules built from them are kept under those memberships (IncidentManager).
        request.user.memberships_of_request = lambda: request.ctx.memberships
        return self.get_response(request)
