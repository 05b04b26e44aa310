"""School terms: the periods the governors' pack reports on.

A school's own dates (TermDate rows, entered in the admin) win; a term without a row takes its
nation's default dates below. The defaults are typical dates, not a guess from the calendar months:
Scotland's autumn term starts in mid-August, Northern Ireland's summer term ends on 30 June.

A term's reporting period runs from its first day up to the first day of the next term: the holiday
after a term is reported with it, so no case falls between two packs. Periods are London calendar
days ([start, end) as local midnights), like every other date in PolicyHub.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from accounts.models import Nation
from incidents.deadlines import LONDON

from .models import TermDate, TermKey

ORDER = (TermKey.AUTUMN, TermKey.SPRING, TermKey.SUMMER)
LABELS = dict(TermKey.choices)

# nation: {term: ((start month, day), (end month, day))}, in the calendar year the term starts.
DEFAULTS = {
    Nation.ENGLAND: {
        TermKey.AUTUMN: ((9, 1), (12, 19)),
        TermKey.SPRING: ((1, 5), (3, 27)),
        TermKey.SUMMER: ((4, 13), (7, 21)),
    },
    Nation.WALES: {
        TermKey.AUTUMN: ((9, 1), (12, 19)),
        TermKey.SPRING: ((1, 6), (3, 27)),
        TermKey.SUMMER: ((4, 13), (7, 20)),
    },
    Nation.SCOTLAND: {
        TermKey.AUTUMN: ((8, 18), (12, 19)),
        TermKey.SPRING: ((1, 6), (4, 2)),
        TermKey.SUMMER: ((4, 20), (6, 26)),
    },
    Nation.NORTHERN_IRELAND: {
        TermKey.AUTUMN: ((9, 1), (12, 19)),
        TermKey.SPRING: ((1, 5), (3, 31)),
        TermKey.SUMMER: ((4, 13), (6, 30)),
    },
}


@dataclass(frozen=True)
class Term:
    year: int  # the calendar year the term starts in
    key: str
    starts_on: date
    ends_on: date
    period_end: date  # exclusive: the next term's first day
    own_dates: bool  # from the school's TermDate row, not the nation's default

    @property
    def slug(self) -> str:
        return f"{self.year}-{self.key}"

    @property
    def label(self) -> str:
        return f"{LABELS[self.key]} term {self.year}"

    @property
    def last_day(self) -> date:
        """The last day of the reporting period (the day before the next term starts)."""
        return self.period_end - timedelta(days=1)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """The reporting period as instants: London midnights."""
        return local_midnight(self.starts_on), local_midnight(self.period_end)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


def parse(slug: str) -> tuple[int, str]:
    """ "2026-spring" -> (2026, "spring"); ValueError for anything else."""
    year, _, key = (slug or "").partition("-")
    if not (year.isdigit() and len(year) == 4 and key in ORDER):
        raise ValueError(slug)
    return int(year), key


def following(year: int, key: str) -> tuple[int, str]:
    if key == TermKey.AUTUMN:
        return year + 1, TermKey.SPRING
    if key == TermKey.SPRING:
        return year, TermKey.SUMMER
    return year, TermKey.AUTUMN


def preceding(year: int, key: str) -> tuple[int, str]:
    if key == TermKey.AUTUMN:
        return year, TermKey.SUMMER
    if key == TermKey.SPRING:
        return year - 1, TermKey.AUTUMN
    return year, TermKey.SPRING


class Calendar:
    """One school's terms: its TermDate rows (read once) over its nation's defaults."""

    def __init__(self, nation: str, rows=()):
        self.defaults = DEFAULTS.get(nation, DEFAULTS[Nation.ENGLAND])
        self.rows = {(r.year, r.term): (r.starts_on, r.ends_on) for r in rows}

    def _dates(self, year: int, key: str) -> tuple[date, date, bool]:
        if (year, key) in self.rows:
            return (*self.rows[(year, key)], True)
        (sm, sd), (em, ed) = self.defaults[key]
        return date(year, sm, sd), date(year, em, ed), False

    def term(self, year: int, key: str) -> Term:
        starts_on, ends_on, own = self._dates(year, key)
        next_start = self._dates(*following(year, key))[0]
        # A next term entered before this one ends (a typing error) must not make periods overlap.
        period_end = next_start if next_start > starts_on else ends_on + timedelta(days=1)
        return Term(year, key, starts_on, ends_on, period_end, own)

    def containing(self, day: date) -> Term:
        """The term whose reporting period holds `day`."""
        year, key = day.year + 1, TermKey.AUTUMN
        for _ in range(8):  # back from next autumn: the first term that started by `day`
            term = self.term(year, key)
            if term.starts_on <= day:
                return term
            year, key = preceding(year, key)
        return self.term(day.year - 1, TermKey.AUTUMN)

    def previous(self, term: Term) -> Term:
        return self.term(*preceding(term.year, term.key))

    def recent(self, today: date, count: int = 6) -> list[Term]:
        """The current term and those before it, oldest first."""
        terms = [self.containing(today)]
        while len(terms) < count:
            terms.append(self.previous(terms[-1]))
        return terms[::-1]


def calendar_for(school) -> Calendar:
    """One query: the school's term rows."""
    return Calendar(school.nation, TermDate.objects.filter(school=school))


def calendars_for(schools) -> dict[int, Calendar]:
    """One query for many schools (the trust view)."""
    rows: dict[int, list] = {s.pk: [] for s in schools}
    for row in TermDate.objects.filter(school__in=[s.pk for s in schools]):
        rows[row.school_id].append(row)
    return {s.pk: Calendar(s.nation, rows[s.pk]) for s in schools}
