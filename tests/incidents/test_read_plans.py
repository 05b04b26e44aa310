"""Every query of the busy pages, EXPLAINed on PostgreSQL at a realistic size ([12] Performance).

A school with 10,000 cases (2 % open), 40,000 more at another school; the pages are requested for
real and each SELECT they ran is run again under EXPLAIN ANALYZE. A query fails on a sequential
scan of a big table, or on reading far more case rows than it shows or counts — above all a scan
of the school's closed cases, which are most of its history (e.g. the queue before
incident_open_queue; the termly report before review_upheld_by_date; the governors' list before
incident_governors). The deadline sweep's query
has its own plan test: tests/incidents/test_sweep_plan.py."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from incidents.models import Incident, Outcome, Status
from policyhub.postgresql.base import as_written
from reporting import stamps
from tests.auth import verified_login
from tests.factories import Role, person
from tests.incidents.bulk_cases import bulk_cases
from tests.incidents.factories import IncidentFactory, fast_passwords, policy_for
from tests.policyhub.test_prepared_statements import preparing

pytestmark = [pytest.mark.postgres, pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

SCHOOL_CASES = 10_000
OPEN_EVERY = 50  # 200 open cases at the school
BIG_TABLES = {"incidents_incident", "incidents_governorreview", "incidents_incident_clauses", "accounts_auditevent"}
# A query may read this many rows of a big table in one scan: a page, the open cases, a term's
# upheld decisions, the citations of one version's clauses. The school's closed cases are 9,800.
MOST_ROWS = 2_000


@pytest.fixture
def realistic(cast):
    versions = {}
    for school in (cast.oakfield, cast.brookside):
        versions[school] = policy_for(school, effective=timezone.localdate().replace(year=2020))
        # The cases are reported by a colleague: Sam's own reports are the few made below.
        template = IncidentFactory(school=school, reporter=person("Rita Reporter", school, Role.STAFF))
        bulk_cases(
            template,
            school_id=school.pk,
            n=SCHOOL_CASES if school == cast.oakfield else 40_000,
            prefix=f"{school.code}X",
            open_every=OPEN_EVERY,
            clause_ids=list(versions[school].clauses.values_list("pk", flat=True)),
            cite_every=25 if school == cast.oakfield else 1,
            upheld_every=7,
            upheld_this_term_first=60 if school == cast.oakfield else 100,
            decided_by_id=cast.gary.pk,
        )
    IncidentFactory.create_batch(
        30, school=cast.oakfield, reporter=cast.sam, status=Status.CLOSED, outcome=Outcome.PARENT_ASKED
    )
    version = versions[cast.oakfield]
    # The bulk insert left a figures-change row per case (reporting/stamps.py); the hourly prune
    # (reporting.tasks.prune_figures_changes) keeps each school's newest, as on a running site.
    stamps.prune()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return version


def scans(node):
    """(node type, relation, index, rows read) for every scan in an EXPLAIN ANALYZE JSON plan."""
    if "Relation Name" in node:
        loops = node.get("Actual Loops", 1)
        read = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * loops
        yield node["Node Type"], node["Relation Name"], node.get("Index Name", ""), read
    for child in node.get("Plans", []):
        yield from scans(child)


def problems(sql: str, most_rows: int = MOST_ROWS) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    found = []
    for kind, relation, index, read in scans(plan[0]["Plan"]):
        if relation in BIG_TABLES and kind == "Seq Scan":
            found.append(f"sequential scan of {relation}")
        if relation in BIG_TABLES and read > most_rows:
            found.append(f"{kind} of {relation} ({index or 'no index'}) read {read} rows")
    return [f"{p}\n  in: {sql[:300]}" for p in found]


PAGES = [
    ("helen", "incidents:queue", ""),
    ("helen", "incidents:queue", "?status=submitted"),
    ("helen", "home", ""),
    ("dina", "home", ""),
    ("sam", "home", ""),
    ("sam", "incidents:mine", ""),
    ("rita", "incidents:mine", ""),  # reported all 10,000: her page reads the page, her count counts them
    ("rita", "home", ""),
    ("gary", "incidents:termly_report", ""),
    ("gary", "home", ""),
    # The governors' list: the count and the page read the school's cases in review and its upheld
    # closed ones (incident_governors), never its whole closed history.
    ("gary", "incidents:reviews", ""),
    ("helen", "policy:page", ""),
    ("sam", "policy:page", ""),
]


def _pack_cases(cast) -> int:
    """Oakfield's cases received in the pack's current and previous terms (what the pack counts)."""
    from reporting.terms import calendar_for

    calendar = calendar_for(cast.oakfield)
    term = calendar.containing(timezone.localdate())
    start, end = calendar.previous(term).bounds[0], term.bounds[1]
    return Incident.objects.filter(school=cast.oakfield, received_at__gte=start, received_at__lt=end).count()


def _plans() -> dict:
    """This connection's prepared statements: {text: (runs on the generic plan, runs planned afresh)}
    (asked on a cursor of its own, which prepares nothing)."""
    with connection.connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return {text: (int(generic), int(custom)) for text, generic, custom in cursor.fetchall()}


def _each_read_is_planned_once(client, cast, rita):
    """Viewed again and again, each read of each page is a statement prepared on the connection
    (policyhub/postgresql/base.py) that runs on its generic plan: none planned on every view. The
    case page's visibility rule once made PostgreSQL plan it afresh on every view (1.5 ms of 0.1),
    and the person's stamp, begun by WITH, was never prepared."""
    case = Incident.objects.filter(school=cast.oakfield, status=Status.SUBMITTED).first()
    pages = [*PAGES, ("helen", "incidents:detail", case.reference)]
    found = []
    # Statements prepared afresh on this data: PostgreSQL weighs a statement's generic plan against
    # the average cost of all its earlier custom plans, and earlier tests on this connection ran the
    # same statements on a handful of rows.
    with preparing(threshold=1):
        for who, name, query in pages:
            found += _planned_afresh(client, cast, rita, who, name, query)
    assert found == [], "\n".join(found)


def _planned_afresh(client, cast, rita, who, name, query) -> list[str]:
    """The page viewed six times, then once more: [] if every read of that view ran prepared on its
    generic plan, else what ran otherwise."""
    client.logout()
    verified_login(client, rita if who == "rita" else getattr(cast, who))
    url = reverse(name, args=[query]) if name == "incidents:detail" else reverse(name) + query
    for _ in range(6):  # PostgreSQL plans a prepared statement afresh its first five runs
        assert client.get(url).status_code == 200
    before = _plans()
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    after = _plans()
    runs = {text: tuple(a - b for a, b in zip(n, before.get(text, (0, 0)), strict=True)) for text, n in after.items()}
    generic = sum(g for g, _c in runs.values())
    afresh = [text for text, (_g, c) in runs.items() if c]
    statements = [as_written(q["sql"]).lstrip().upper() for q in captured.captured_queries]
    reads = sum(1 for sql in statements if sql.startswith(("SELECT", "WITH")))
    if generic != reads or afresh:
        return [f"{who} {url}: {reads} reads, {generic} on a generic plan; planned afresh: {afresh}"]
    return []


def test_each_query_of_the_busy_pages_reads_through_an_index_made_for_it(client, cast, realistic):
    # One test for all pages: the realistic data is built once (about 20 s), not once per page.
    found = []
    rita = User.objects.get(email=f"rita@{cast.oakfield.slug}.example.org")
    for who, name, query in PAGES:
        client.logout()
        verified_login(client, rita if who == "rita" else getattr(cast, who))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse(name) + query)
        assert response.status_code == 200, (who, name)
        # The reads: a write goes with the audit actor's settings in front of it (ActingCursor). A
        # read may begin with WITH (this test read only those begun by SELECT, and missed one).
        statements = [as_written(q["sql"]) for q in captured.captured_queries]
        selects = [sql for sql in statements if sql.lstrip().upper().startswith(("SELECT", "WITH"))]
        assert selects
        # The governors' pack counts every case its school received in this term and the last ([9],
        # reporting/figures.py): it may read those rows, never the school's older history nor another school.
        most = MOST_ROWS if name != "incidents:termly_report" else max(MOST_ROWS, _pack_cases(cast))
        if who == "rita":  # "My reports" counts her 10,000 reports; nothing else may read as many
            most = Incident.objects.filter(reporter=rita).count()
        found += [f"{who} {name}{query}: {p}" for sql in selects for p in problems(sql, most)]
    assert found == [], "\n".join(found)
    _each_read_is_planned_once(client, cast, rita)

    # The termly report pages its cases (it listed every one of them on one page).
    client.logout()
    verified_login(client, cast.gary)
    response = client.get(reverse("incidents:termly_report"))
    total = int(response.context["total"])
    assert total >= 60  # the school's decisions this term, not the other school's
    assert len(response.context["page"].object_list) == 50
    assert response.context["page"].paginator.num_pages == -(-total // 50)
