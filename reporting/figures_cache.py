"""The governors' pack's figures, kept between views (docs/performance.md).

Working out a term's figures reads every case the school received in the term and last term; they
change far less often than they are read (a governor opens the pack, then its PDF and CSV; the
board opens it in the same week). They are kept in the "kept" cache (`_kept`) under a key made of:
- the SQL and parameters of the cases the viewer may count (incidents/access.py FIGURES, which
  names the person, their roles and the rule itself: two people share an entry only if the
  database would count the same cases for both), written once per kept rule
  (`Incident.objects.written_rule`);
- the school, and both terms' dates;
- the school's stamp (reporting/stamps.py), which every committed row change of a table the
  figures read moves, bulk and raw SQL included. It is read before the figures are worked out, so
  an entry never holds figures older than its stamp.
Figures also change with time alone (a first response or allegation clock falls due, a new day
starts the allegation ages' "today"): each entry says when its first such change is
(`Figures.changes_at`, the next London midnight) and is not used from then on. So a view shows
exactly what working the figures out afresh would show.

Kept under the same stamp, with what else they depend on in their key (`kept`): the school's terms,
today's policy in force and its acknowledgements (the day in the key), and the governor's list of
upheld breaches with its cited clauses. A kept pack reads the stamp and nothing else of its own.
"""

import hashlib
from datetime import datetime, time, timedelta

from django.core.cache import caches

from incidents.deadlines import LONDON
from incidents.models import Incident

from . import figures as F

TIMEOUT = 3600  # seconds an unused entry is kept
_MISSING = object()


def _kept():
    """Where the values are kept: the "kept" cache (settings.CACHES), which in each process holds the
    objects themselves, not copies (policyhub/kept_objects.py): never change what it gives."""
    return caches["kept"]


def _midnight_after(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(LONDON).date() + timedelta(days=1), time.min, tzinfo=LONDON)


def _hash(parts: tuple) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def pack_figures(user, school, term, previous, now: datetime, stamp: tuple) -> tuple[tuple, str]:
    """((months, series, this term's Figures, the previous term's), tag), from the cache when still
    true. `stamp`: the school's (stamps.stamp), read before anything it keys is worked out. The tag
    names these figures: figures worked out again (a change, or their time is up) get another, so
    what is kept under it (the rendered figures, reporting/views.py) goes with them."""
    rule = Incident.objects.written_rule("figures_for", user)  # what F.counted(user) is made of
    dates = [(t.bounds, t.starts_on, t.period_end) for t in (term, previous)]
    key = "pack-figures:" + _hash((rule, school.pk, dates, stamp))
    kept = _kept().get(key)
    if kept is not None and now < kept[0]:
        return kept[1], f"{key}:{kept[0].isoformat()}"
    cases = F.counted(user).filter(school=school)
    months, series = F.per_month(cases, term)
    this, before = F.terms_figures(user, cases, [term, previous], now=now)
    valid_until = F.earliest(this.changes_at, before.changes_at, _midnight_after(now))
    value = (months, series, this, before)
    _kept().set(key, (valid_until, value), TIMEOUT)
    return value, f"{key}:{valid_until.isoformat()}"


def kept(parts: tuple, compute):
    """`compute()`, kept under `parts`: everything its answer depends on, the stamp of the schools it
    reads included (and the day, for an answer that changes with it). Also the governors' reviews
    list's (incidents/selectors.reviews_page)."""
    key = "kept:" + _hash(parts)
    value = _kept().get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        _kept().set(key, value, TIMEOUT)
    return value


def kept_until(parts: tuple, now: datetime, compute):
    """As `kept`, for an answer that also changes with time alone: `compute()` gives (answer, the
    moment it next changes or None), and the answer is not used from that moment on. Also the home
    page's summary (incidents/selectors.home)."""
    key = "kept-until:" + _hash(parts)
    found = _kept().get(key)
    if found is not None and (found[0] is None or now < found[0]):
        return found[1]
    value, until = compute()
    _kept().set(key, (until, value), TIMEOUT)
    return value


def kept_html(tag: str, render) -> str:
    """The figures tagged `tag` rendered by `render()`, kept beside them."""
    key = f"html:{tag}"
    html = _kept().get(key)
    if html is None:
        html = render()
        _kept().set(key, html, TIMEOUT)
    return html
