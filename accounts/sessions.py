"""The session engine (SESSION_ENGINE): Django's database sessions, read with SQL written once.

Every request with a session cookie reads its row; Django's store builds and compiles that query
through the ORM each time, which costs more than PostgreSQL takes to answer it
(docs/performance.md). This store runs the same query, written once per thread
(accounts/prepared.py), and applies the same expiry rule, so what it loads is what Django's would.
Once this web process has read or written a session naming a person, the next read of that session
brings the person with it (one query for both: `_KNOWN`, backends.read_with_session). Writing,
deleting and "sign out everywhere" are Django's; saving and deleting also note whose the session is.
"""

import hashlib
import threading
from collections import OrderedDict

from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from .backends import forget_read_with_session, read_with_session
from .prepared import PreparedRow

# Sessions signed in before accounts.backends.PersonBackend name Django's ModelBackend: it was the
# same check of the same password, so they stay signed in.
LEGACY_BACKENDS = {"django.contrib.auth.backends.ModelBackend": "accounts.backends.PersonBackend"}

_SESSION = PreparedRow(Session, "session_key", marker="\x00policyhub-session-marker")


# Whose each session is, as this web process last read or wrote it: {digest of the session key:
# person id}, the last _KNOWN_MAX. A session's person changes only when it is flushed or its key
# cycled (sign-in, sign-out), so the next read of a known session fetches the person with it
# (backends.read_with_session). What the row says decides, every time: the person's rows are used
# only if the session as read names that person. Digests, so that no session key is kept.
_KNOWN: OrderedDict[bytes, int] = OrderedDict()
_KNOWN_MAX = 10_000
_KNOWN_LOCK = threading.Lock()  # `make run` serves with several threads


def _digest(session_key: str) -> bytes:
    return hashlib.blake2b(session_key.encode(), digest_size=16).digest()


def _remember(session_key: str | None, data: dict) -> None:
    if not session_key:
        return
    digest = _digest(session_key)
    try:
        person = int(data[SESSION_KEY])
    except (KeyError, TypeError, ValueError):
        person = None
    with _KNOWN_LOCK:
        if person is None:
            _KNOWN.pop(digest, None)
            return
        _KNOWN[digest] = person
        _KNOWN.move_to_end(digest)
        if len(_KNOWN) > _KNOWN_MAX:
            _KNOWN.popitem(last=False)


class SessionStore(db.SessionStore):
    _read_for = None  # the person whose rows came with the session (backends.read_with_session)

    def _get_session_from_db(self):
        forget_read_with_session()
        found = self._read_for = None
        person = _KNOWN.get(_digest(self.session_key)) if self.session_key else None
        if person is not None:
            read = read_with_session(person, self.session_key)
            if read is not None:
                found = Session(session_key=self.session_key, session_data=read[0], expire_date=read[1])
                self._read_for = person
        if found is None:
            found = _SESSION.get(self.session_key)
        if found is None or found.expire_date <= timezone.now():
            forget_read_with_session()
            self._session_key = None  # as Django's: an unknown or expired key gets a new session
            return None
        return found

    def load(self):
        data = super().load()
        backend = data.get(BACKEND_SESSION_KEY)
        if backend in LEGACY_BACKENDS:
            data[BACKEND_SESSION_KEY] = LEGACY_BACKENDS[backend]
        if self._read_for is not None and data.get(SESSION_KEY) != str(self._read_for):
            forget_read_with_session()  # the session no longer names that person
        _remember(self.session_key, data)
        return data

    def save(self, must_create=False):
        super().save(must_create)
        _remember(self.session_key, self._get_session(no_load=must_create))

    def delete(self, session_key=None):
        key = session_key or self.session_key
        if key:
            with _KNOWN_LOCK:
                _KNOWN.pop(_digest(key), None)
        super().delete(session_key)
