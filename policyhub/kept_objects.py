"""A cache of this process's own objects: Django's local-memory cache without the copy.

Django's `LocMemCache` pickles every value it keeps and unpickles it on every `get`, so that a caller
changing what it got cannot change what the next caller gets. For what the pages keep between views
(reporting/figures_cache.py: a term's figures, the pack's calendar, a list page's rows and count)
the copy was the costliest part of a kept page: unpickling the pack's figures took longer than the
query that checks they are still true (docs/performance.md). Those values are built once and only
read after, so this cache hands out the object it holds.

So: a value kept here must never be changed by whoever gets it (build a new one instead).
tests/reporting/test_kept_objects.py walks the pages that keep values and checks that the values
are unchanged after they are shown.

Otherwise it is `LocMemCache`: per process, least recently used out first (`MAX_ENTRIES`,
`CULL_FREQUENCY`), a timeout per entry, thread-safe. Keys are the callers' own (a prefix and a
hex digest) and are not checked for memcached's rules.
"""

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache


class KeptObjects(LocMemCache):
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._set(key, value, timeout)
                return True
            return False

    def get(self, key, default=None, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                return default
            value = self._cache[key]
            self._cache.move_to_end(key, last=False)
        return value

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            self._set(key, value, timeout)

    def incr(self, key, delta=1, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                raise ValueError(f"Key '{key}' not found")
            value = self._cache[key] + delta
            self._cache[key] = value
            self._cache.move_to_end(key, last=False)
        return value
