"""The "kept" cache hands out the objects it holds, not copies (policyhub/kept_objects.py): what pages
keep between views must never be changed by the code that shows it. Here every page that keeps
values is walked as each person who sees it, twice (the second view from the cache), and each value
kept is compared, pickled, with what it was when it was kept. Also the cache's own behaviour:
timeouts, the least recently used out first, add and incr, clear."""

import pickle

import pytest
import time_machine
from django.core.cache import caches
from django.urls import reverse

from policyhub.kept_objects import KeptObjects
from tests.incidents.factories import fast_passwords, policy_for, sign_in

from .fixtures import NOW, pack_cases

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords, pack_cases)

PAGES = {  # url -> the cast's people who see it
    reverse("home"): ("helen", "sam", "gary", "carol"),
    reverse("incidents:mine"): ("sam",),
    reverse("incidents:queue"): ("helen",),
    reverse("incidents:reviews"): ("gary", "carol"),
    reverse("policy:page"): ("sam", "helen"),
    reverse("incidents:termly_report") + "?term=2026-spring": ("gary", "carol"),
    reverse("incidents:termly_report") + "?term=2025-autumn": ("carol",),
    reverse("reporting:pack_csv") + "?term=2026-spring": ("carol",),
    reverse("reporting:pack_pdf") + "?term=2026-spring": ("gary",),
    reverse("reporting:trust"): ("tom",),
}


@pytest.fixture
def recorded(monkeypatch):
    """Each value the "kept" cache is given, pickled as it was then, by key."""
    kept = {}
    original = KeptObjects.set

    def set_and_record(self, key, value, *args, **kwargs):
        kept[key] = (value, pickle.dumps(value))
        return original(self, key, value, *args, **kwargs)

    monkeypatch.setattr(KeptObjects, "set", set_and_record)
    caches["kept"].clear()
    return kept


def test_no_page_changes_a_value_it_was_given_from_the_cache(client, cast, pack_cases, recorded):
    policy_for(cast.oakfield)
    with time_machine.travel(NOW, tick=False):
        for _view in range(2):
            for url, people in PAGES.items():
                for name in people:
                    sign_in(client, getattr(cast, name))
                    assert client.get(url).status_code == 200, (url, name)
    assert len(recorded) >= 12, sorted(recorded)  # figures, calendar, policy, rows, counts, summaries
    changed = [key for key, (value, then) in recorded.items() if pickle.dumps(value) != then]
    assert not changed


def test_a_value_is_the_object_kept_until_its_timeout_or_a_clear():
    cache = caches["kept"]
    cache.clear()
    value = {"rows": [1, 2]}
    with time_machine.travel(NOW, tick=False) as clock:
        cache.set("k", value, 60)
        assert cache.get("k") is value
        assert cache.add("k", "other") is False and cache.get("k") is value
        clock.shift(61)
        assert cache.get("k", "gone") == "gone"
        assert cache.add("k", "other") is True and cache.get("k") == "other"
    cache.set("n", 1)
    assert cache.incr("n", 2) == 3 and cache.get("n") == 3
    with pytest.raises(ValueError):
        cache.incr("missing")
    cache.clear()
    assert cache.get("n") is None


def test_the_least_recently_used_go_first_when_it_is_full():
    cache = KeptObjects("test-kept-objects", {"OPTIONS": {"MAX_ENTRIES": 4, "CULL_FREQUENCY": 4}})
    cache.clear()
    for key in "abcd":
        cache.set(key, key.upper())
    assert cache.get("a") == "A"  # used: b is now the least recently used
    cache.set("e", "E")
    assert cache.get("b") is None
    assert [cache.get(key) for key in "acde"] == ["A", "C", "D", "E"]
