"""The policy page's text, with its "Breached N times" counts, is kept between views
(policyhub/views._text, incidents/selectors.kept_with_breach_counts: under the stamp of every case the
person's rules reach, reporting/stamps.person_stamp). After every kind of change, made the way some
part of the system or a database prompt makes it, for the head, the reporter and the trust admin,
the counts served are those worked out afresh; a case that comes to be about the viewer stops
counting for them at once, whatever roles they hold; a section or clause changed at a database
prompt shows at once."""

import re

import pytest
from django.core.cache import caches
from django.urls import reverse

from incidents.models import Incident, Involved, Outcome, Status
from tests.incidents.factories import IncidentFactory, fast_passwords, policy_for, sign_in
from tests.kept_pages import main_of, raw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

URL = reverse("policy:page")


def _counts(client, person) -> dict[str, int]:
    """{clause ref: "Breached N times"} on the policy page, 0 where it says nothing."""
    sign_in(client, person)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    clauses = re.split(r'<div id="[^"]*" class="policy-clause', html)[1:]
    assert clauses, "no clause on the page"
    found = {}
    for clause in clauses:
        ref = re.search(r'aria-label="Clause ([^"]+)"', clause).group(1)
        count = re.search(r"Breached (\d+) times?", clause)
        found[ref] = int(count.group(1)) if count else 0
    assert sum(found.values()) == sum(int(n) for n in re.findall(r"Breached (\d+) times?", html))
    return found


@pytest.fixture
def breaches(cast):
    version = policy_for(cast.oakfield)
    clauses = {c.ref: c for c in version.clauses.all()}

    def breach(ref, **fields):
        case = IncidentFactory(
            school=cast.oakfield, reporter=cast.sam, status=Status.CLOSED, outcome=Outcome.INFORMAL_ACTION, **fields
        )
        case.clauses.add(clauses[ref])
        return case

    return {"clauses": clauses, "first": breach("7.1"), "second": breach("7.2"), "breach": breach}


CHANGES = {
    "a new breach": lambda cast, b: b["breach"]("7.3"),
    "found not a breach, in bulk": lambda cast, b: Incident.objects.filter(pk=b["first"].pk).update(
        outcome=Outcome.NO_BREACH
    ),
    "reopened in raw SQL": lambda cast, b: raw(
        "UPDATE incidents_incident SET status = %s WHERE id = %s", [Status.INVESTIGATING, b["second"].pk]
    ),
    "a clause no longer cited": lambda cast, b: b["first"].clauses.clear(),
    "a clause cited in raw SQL": lambda cast, b: raw(
        "INSERT INTO incidents_incident_clauses (incident_id, clause_id) VALUES (%s, %s)",
        [b["first"].pk, b["clauses"]["7.3"].pk],
    ),
    "moved to another school in raw SQL": lambda cast, b: raw(
        "UPDATE incidents_incident SET school_id = %s, reporter_id = %s WHERE id = %s",
        [cast.brookside.pk, cast.bethan.pk, b["second"].pk],
    ),
}


@pytest.mark.parametrize("viewer", ["helen", "sam", "tom"])
@pytest.mark.parametrize("change", CHANGES)
def test_after_each_change_the_kept_counts_are_those_worked_out_afresh(client, cast, breaches, change, viewer):
    person = getattr(cast, viewer)
    before = _counts(client, person)
    assert before["7.1"] == 1 and before["7.2"] == 1, before
    CHANGES[change](cast, breaches)
    kept = _counts(client, person)
    caches["kept"].clear()
    fresh = _counts(client, person)
    assert kept == fresh, change
    assert fresh != before, f"{change} changed nothing the page shows: it tests nothing"


def test_a_case_about_the_viewer_stops_counting_for_them_whatever_roles_they_hold(client, cast, breaches):
    for person in (cast.sam, cast.helen):
        assert _counts(client, person)["7.1"] == 1
        Incident.objects.filter(pk=breaches["first"].pk).update(involved=Involved.STAFF, subject=person)
        assert _counts(client, person)["7.1"] == 0, person  # Helen is head and staff: two roles
        assert _counts(client, cast.tom)["7.1"] == 1


def test_a_section_or_clause_changed_at_a_database_prompt_shows_at_once(client, cast, breaches):
    """Published text is not edited through the app, but a database prompt can: the kept text follows."""
    version = breaches["clauses"]["7.1"].version
    section = version.sections.get(pk=breaches["clauses"]["7.1"].section_id)
    for sql, params, shown in (
        ("UPDATE policyhub_section SET heading = %s WHERE id = %s", ["Posting about pupils", section.pk],
         "Posting about pupils"),
        ("UPDATE policyhub_clause SET text = %s WHERE id = %s", ["Never post a pupil's photograph.",
         breaches["clauses"]["7.2"].pk], "Never post a pupil&#x27;s photograph."),
    ):  # fmt: skip
        for person in (cast.helen, cast.sam):
            assert shown not in main_of(client, person, URL)  # kept for both
        raw(sql, params)
        for person in (cast.helen, cast.sam):
            kept = main_of(client, person, URL)
            assert shown in kept
            caches["kept"].clear()
            assert main_of(client, person, URL) == kept
