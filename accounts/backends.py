"""Who is signed in: Django's ModelBackend, with the one look-up every signed-in request makes (the
person by id, from the session) written once per thread (accounts/prepared.py) instead of built and
compiled by the ORM each time. Same row, same checks (`user_can_authenticate`: an inactive person is
nobody). Password checks are ModelBackend's.

The person's memberships (with their schools and trusts), which every signed-in page reads next
(accounts/middleware.SchoolContext), come in the same query: one row per membership, the person's
columns on each (a LEFT JOIN, so a person without any still has their row). They are put on the
person as `memberships_fetched`, which memberships_of() gives instead of querying again; and
the id of their first confirmed authenticator app (None: they have none), as
`authenticator_id_fetched`. two_factor.TwoFactorMiddleware reads from it whether they have one,
before the view (views that change it ask the database); a session verified with that app needs no
query of the device table (two_factor.OTPMiddleware).

Once a web process knows whose a session is, the session's row comes in that same query too
(`read_with_session`, asked by accounts/sessions.py): one query for the session, the person and their
memberships. The rows are handed to `get_user` only if the session, as just read, names that person."""

from collections.abc import Callable
from contextvars import ContextVar
from functools import cache

from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.models import Session
from django.core.signals import request_finished
from django.db import connection
from django.db.models import OuterRef, Subquery

from .middleware import membership_columns, membership_from
from .models import Membership, User
from .prepared import ID_MARKERS, Prepared
from .two_factor import confirmed_apps

_USER_COLUMNS = [f.attname for f in User._meta.concrete_fields]
_MEMBERSHIP_ID = membership_columns().index("id")
_MEMBERSHIP_SCHOOL = membership_columns().index("school_id")

# What apps above accounts ask about each of the person's schools with the person, as every
# signed-in request starts (no query of their own): name -> build(school, person), which gives
# {column name: expression} with `school` and `person` as outer references. Registered in the app's
# ready() (policyhub: the policy banner), so accounts imports nothing of theirs; the query is written
# at its first use, after every app is ready.
PER_SCHOOL: dict[str, Callable[..., dict]] = {}


def ask_per_school(name: str, build: Callable[..., dict]) -> None:
    PER_SCHOOL[name] = build
    _widths.cache_clear()


def _per_school_columns() -> list[tuple[str, dict]]:
    school, person = OuterRef("memberships__school"), OuterRef(OuterRef("pk"))
    return [(name, build(school, person)) for name, build in sorted(PER_SCHOOL.items())]


@cache
def _widths() -> tuple[tuple[str, int], ...]:
    """How many columns each name of PER_SCHOOL has (worked out once: building them is ORM work)."""
    return tuple((name, len(expressions)) for name, expressions in _per_school_columns())


def _person_with_memberships(user_id):
    """The person's row, whether they have a confirmed authenticator, and each of their memberships,
    in Membership's order (then by id), followed by the columns of PER_SCHOOL at its school."""
    order = [f"memberships__{name}" for name in [*Membership._meta.ordering, "pk"]]
    first_app = confirmed_apps(OuterRef("pk")).order_by("pk").values("pk")[:1]
    person = User.objects.filter(pk=user_id).annotate(authenticator_id=Subquery(first_app))
    columns = [*_USER_COLUMNS, "authenticator_id", *membership_columns("memberships__")]
    person = person.values_list(*columns).order_by(*order)
    # Annotated after values_list(), in this order, so that they come last and their reference to the
    # membership's school reads the LEFT JOIN of the memberships (a person with none keeps their row).
    for _, expressions in _per_school_columns():
        for column, expression in expressions.items():
            person = person.annotate(**{column: expression})
    return person


_PERSON = Prepared(_person_with_memberships, 1)


def _with_session(user_id, session_key):
    """_person_with_memberships, each row followed by the session's data and expiry (NULL: no such
    session). No row at all: no such person."""
    session = Session.objects.filter(session_key=session_key)
    return _person_with_memberships(user_id).annotate(
        session_data=Subquery(session.values("session_data")), session_expiry=Subquery(session.values("expire_date"))
    )


_PERSON_WITH_SESSION = Prepared(_with_session, 2, markers=(ID_MARKERS[0], "\x00policyhub-session-key-marker"))

# The person's rows read with the session, for this request's get_user: (person id, rows).
_READ_WITH_SESSION: ContextVar[tuple | None] = ContextVar("policyhub_person_read_with_session", default=None)


def read_with_session(user_id: int, session_key: str) -> tuple | None:
    """The session `session_key`'s (data, expiry) read in one query with the person `user_id`, whose
    rows this request's `get_user(user_id)` then takes instead of asking again; None when the
    session or the person is not there (the caller reads the session alone)."""
    rows = _PERSON_WITH_SESSION.rows(user_id, session_key)
    if not rows or rows[0][-2] is None:
        return None
    data, expiry = rows[0][-2:]
    _READ_WITH_SESSION.set((user_id, [row[:-2] for row in rows]))
    return data, expiry


def forget_read_with_session() -> None:
    """Drop rows not taken: the session read names someone else, or another session is read."""
    _READ_WITH_SESSION.set(None)


# Nothing read for one request is left for the next.
request_finished.connect(lambda **kwargs: forget_read_with_session(), weak=False, dispatch_uid="policyhub_person_read")


def _taken(user_id) -> list | None:
    read = _READ_WITH_SESSION.get()
    if read is None:
        return None
    _READ_WITH_SESSION.set(None)  # once: a later look-up in the request asks the database
    return read[1] if read[0] == user_id else None


class PersonBackend(ModelBackend):
    def get_user(self, user_id):
        rows = _taken(user_id)
        if rows is None:
            rows = _PERSON.rows(user_id)
        if not rows:
            return None
        n = len(_USER_COLUMNS)
        user = User.from_db(connection.alias, _USER_COLUMNS, rows[0][:n])
        if not self.user_can_authenticate(user):
            return None
        # two_factor.TwoFactorMiddleware asks it of every person not yet verified (staff without one).
        user.authenticator_id_fetched = rows[0][n]
        n += 1
        # Membership.objects.for_user(user): an active person's memberships (a row whose membership
        # id is NULL is the LEFT JOIN's: none).
        rows = [row for row in rows if row[n + _MEMBERSHIP_ID] is not None]
        end = n + len(membership_columns())
        user.memberships_fetched = [membership_from(row[n:end]) for row in rows]
        # PER_SCHOOL's answers at each of their schools, as of now: {name: {school id: values}}.
        user.per_school_fetched = {}
        for name, width in _widths():
            user.per_school_fetched[name] = {row[n + _MEMBERSHIP_SCHOOL]: row[end : end + width] for row in rows}
            end += width
        return user
