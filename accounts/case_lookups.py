"""What the audit trail needs to know about cases, told by the incidents app.

accounts is the base of the house and imports nothing from the apps above it (docs/architecture.md,
tests/accounts/test_base_of_the_house.py), yet the audit middleware must name the case a URL's
reference or file id is about, and the log must know which rows belong to a case and which cases are
about a person. incidents registers these look-ups in `IncidentsConfig.ready()`.

Not registered is a wiring mistake, never a reason to record a read without its case or to show a
subject an event about their case: `lookups()` raises instead of guessing.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CaseLookups:
    # The database id of the case with this reference (None if there is none).
    case_of_reference: Callable[[str], int | None]
    # (database id of the evidence file, id of its case) for a file's random public id, or None.
    file_of_public_id: Callable[[str], tuple[int, int] | None]
    # For these case ids: the rows of the case's own tables whose changes the database triggers
    # record, as {table name: row ids} (files, timeline, referrals, reviews, cited clauses).
    rows_of_cases: Callable[[list[int]], Mapping[str, Iterable[int]]]
    # The ids of the cases whose subject this person is, at any school.
    cases_about: Callable[[object], Iterable[int]]


_registered: CaseLookups | None = None


def register(lookups: CaseLookups) -> None:
    global _registered
    _registered = lookups


def lookups() -> CaseLookups:
    if _registered is None:
        raise RuntimeError("no case look-ups registered with the audit trail (incidents.apps registers them)")
    return _registered
