"""The session engine (SESSION_ENGINE): Django's database sessions, read with SQL written once.

Every request with a session cookie reads its row; Django's store builds and compiles that query
through the ORM each time, which costs more than PostgreSQL takes to answer it
(docs/performance.md). This store runs the same query, written once per thread
(accounts/prepared.py), and applies the same expiry rule, so what it loads is what Django's would.
Writing, deleting and "sign out everywhere" are Django's, unchanged.
"""

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from .prepared import PreparedRow

# Sessions signed in before accounts.backends.PersonBackend name Django's ModelBackend: it was the
# same check of the same password, so they stay signed in.
LEGACY_BACKENDS = {"django.contrib.auth.backends.ModelBackend": "accounts.backends.PersonBackend"}

_SESSION = PreparedRow(Session, "session_key", marker="\x00policyhub-session-marker")


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        found = _SESSION.get(self.session_key)
        if found is None or found.expire_date <= timezone.now():
            self._session_key = None  # as Django's: an unknown or expired key gets a new session
            return None
        return found

    def load(self):
        data = super().load()
        backend = data.get(BACKEND_SESSION_KEY)
        if backend in LEGACY_BACKENDS:
            data[BACKEND_SESSION_KEY] = LEGACY_BACKENDS[backend]
        return data
