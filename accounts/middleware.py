from django.db import connection
from django.utils.functional import SimpleLazyObject

from .models import Membership, School, Trust
from .prepared import Prepared

SESSION_KEY = "current_school_id"


def _columns(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def _memberships(user_id):
    """Membership.objects.for_user(user) with its school and trust, as rows (accounts/prepared.py)."""
    return Membership.objects.filter(user_id=user_id, user__is_active=True).values_list(
        *_columns(Membership),
        *(f"school__{name}" for name in _columns(School)),
        *(f"school__trust__{name}" for name in _columns(Trust)),
    )


_MEMBERSHIPS = Prepared(_memberships, 1)


def memberships_of(user) -> list[Membership]:
    """What `Membership.objects.for_user(user)` gives (each with its school and the school's trust
    loaded), from SQL the ORM wrote once: the one query every signed-in page runs for the person."""
    m, s = len(_columns(Membership)), len(_columns(School))
    found = []
    for row in _MEMBERSHIPS.rows(user.pk):
        membership = Membership.from_db(connection.alias, _columns(Membership), row[:m])
        school = School.from_db(connection.alias, _columns(School), row[m : m + s])
        if school.trust_id is not None:
            school.trust = Trust.from_db(connection.alias, _columns(Trust), row[m + s :])
        membership.school = school
        found.append(membership)
    return found


class SchoolContext:
    """The signed-in user's memberships and the school they are working in now."""

    def __init__(self, request):
        user = request.user
        self.memberships = memberships_of(user) if user.is_authenticated else []
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
