from django.db import connection
from django.utils.functional import LazyObject, empty

from .models import Membership, School, Trust
from .prepared import Prepared

SESSION_KEY = "current_school_id"


def _columns(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def membership_columns(prefix: str = "") -> list[str]:
    """The columns a membership is built from (membership_from): its own, its school's, the school's
    trust's, each name behind `prefix` (e.g. "memberships__" from the person)."""
    return [
        *(f"{prefix}{name}" for name in _columns(Membership)),
        *(f"{prefix}school__{name}" for name in _columns(School)),
        *(f"{prefix}school__trust__{name}" for name in _columns(Trust)),
    ]


def _memberships(user_id):
    """Membership.objects.for_user(user) with its school and trust, as rows (accounts/prepared.py)."""
    return Membership.objects.filter(user_id=user_id, user__is_active=True).values_list(*membership_columns())


_MEMBERSHIPS = Prepared(_memberships, 1)


def membership_from(row) -> Membership:
    """A Membership with its school and the school's trust loaded, from the values of
    membership_columns() (as the ORM would build them)."""
    m, s = len(_columns(Membership)), len(_columns(School))
    membership = Membership.from_db(connection.alias, _columns(Membership), row[:m])
    school = School.from_db(connection.alias, _columns(School), row[m : m + s])
    if school.trust_id is not None:
        school.trust = Trust.from_db(connection.alias, _columns(Trust), row[m + s :])
    membership.school = school
    return membership


def memberships_of(user) -> list[Membership]:
    """What `Membership.objects.for_user(user)` gives (each with its school and the school's trust
    loaded), from SQL the ORM wrote once; no query of its own when the person was looked up with
    them in this request (accounts/backends.py: one query for both on every signed-in page)."""
    fetched = getattr(user, "memberships_fetched", None)
    if fetched is not None:
        return list(fetched)
    return [membership_from(row) for row in _MEMBERSHIPS.rows(user.pk)]


class SchoolContext:
    """The signed-in user's memberships and the school they are working in now: worked out together
    when one of them is first read (a request that reads none reads no session and fetches nothing),
    then plain attributes of the object."""

    _WORKED_OUT = frozenset({"memberships", "schools", "school", "roles"})

    def __init__(self, request):
        self._request = request

    def __getattr__(self, name):  # only while the attributes are not set
        if name not in self._WORKED_OUT:
            raise AttributeError(name)
        self._work_out()
        return self.__dict__[name]

    def _work_out(self) -> None:
        request = self._request
        user = request.user
        self.memberships = memberships_of(user) if user.is_authenticated else []
        self.schools = list({m.school_id: m.school for m in self.memberships}.values())
        wanted = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        self.school = next((s for s in self.schools if s.pk == wanted), self.schools[0] if self.schools else None)
        self.roles = frozenset(m.role for m in self.memberships if self.school and m.school_id == self.school.pk)

    def has_role(self, *roles) -> bool:
        return bool(self.roles.intersection(roles))


def resolved(user):
    """The person (or AnonymousUser) behind `request.user`'s lazy wrappers: Django's, which looks the
    person up, and django-otp's around it, which adds their verified device."""
    while isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        user = user._wrapped
    return user


class CurrentSchoolMiddleware:
    """Attach `request.ctx` (memberships, current school, roles there; fetched with the person,
    accounts/backends.py) and hand on the person looked up (`resolved`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.ctx = SchoolContext(request)
        # The person is needed on every page below (the line after this one): looked up now and
        # handed on as the object itself. Each read of a lazy object's attribute goes through a
        # failed look-up and a call, twice for django-otp's wrapper around Django's, and pages read
        # the person a few hundred times (docs/performance.md).
        request.user = user = resolved(request.user)
        # The visibility rules (incidents/models.py) read the user's roles: from this request's
        # memberships, fetched once, instead of a query of their own each time they are applied;
        # the rules built from them are kept under those memberships (IncidentManager).
        user.memberships_of_request = lambda: request.ctx.memberships
        return self.get_response(request)
