"""The list rows written in Python (incidents/rows.py) are the markup the templates wrote: each list
page is requested and its rows compared, whitespace-normalised, with the old row templates
(tests/fixtures/templates/old_rows/) rendered over the same cases at the same moment. A spread of
cases: every status, merged reports with each progress, child at risk, every severity and none,
every deadline tone, one school and many, a school name that needs escaping."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
from django.db.models import Case, Value, When
from django.template import Context, Engine
from django.urls import reverse, set_script_prefix

from incidents import rows
from incidents.models import (
    Category,
    GovernorReview,
    Incident,
    Involved,
    Outcome,
    ReviewDecision,
    Route,
    Severity,
    Status,
)
from incidents.references import is_canonical, new_reference
from incidents.selectors import open_owned, with_survivor_state
from incidents.transitions import TABLE
from tests.factories import Role, member
from tests.incidents.factories import IncidentFactory, fast_passwords, policy_for, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

# 00:30 in London on 11 June: the day differs between UTC and London, as in a late-evening report.
NOW = datetime(2026, 6, 10, 23, 30, 20, tzinfo=UTC)
OLD = Engine(
    dirs=[Path(__file__).resolve().parent.parent / "fixtures" / "templates"],
    libraries={
        "old_rows": "tests.incidents.old_row_tags",
        "incident_tags": "incidents.templatetags.incident_tags",
        "linked_reports": "incidents.templatetags.linked_reports",
    },
)
STRUCTURE = re.compile(r"\s*(</?(?:tbody|tr|th|td|ul|li)\b[^>]*>)\s*")


def _normal(html: str) -> str:
    """Runs of whitespace as one space, none around table and list tags (where it means nothing);
    the space between inline elements and text stays, it shows."""
    return STRUCTURE.sub(r"\1", re.sub(r"\s+", " ", html)).strip()


def _between(html: str, start: str, end: str) -> str:
    body = html.split(start, 1)[1].split(end, 1)[0]
    return _normal(body)


def _old(name: str, **context) -> str:
    return _normal(OLD.get_template(f"old_rows/{name}.html").render(Context(context)))


def _get(client, person, url):
    sign_in(client, person)
    response = client.get(url)
    assert response.status_code == 200, url
    return response


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def spread(cast, frozen):
    """Open cases at Oakfield owned by Helen, one per deadline tone and status; Sam's reports in every
    status, merged ones with each progress; the board's cases."""
    due = NOW.__add__
    open_cases = [
        IncidentFactory(school=cast.oakfield, reporter=cast.sam, response_due_at=due(timedelta(hours=10))),
        IncidentFactory(
            school=cast.oakfield,
            reporter=cast.sam,
            category=Category.SAFEGUARDING,
            child_at_risk=True,
            severity=Severity.HIGH,
            response_due_at=due(timedelta(hours=2, minutes=13, seconds=30)),
        ),
        IncidentFactory(school=cast.oakfield, reporter=cast.dina, response_due_at=due(-timedelta(hours=3, minutes=1))),
        IncidentFactory(school=cast.oakfield, reporter=cast.dina, response_due_at=due(-timedelta(seconds=20))),
        IncidentFactory(school=cast.oakfield, reporter=cast.dina, response_due_at=None),
        IncidentFactory(school=cast.oakfield, reporter=cast.dina, acknowledged_at=NOW - timedelta(hours=1)),
    ]
    for status, severity, category in zip(
        (Status.TRIAGE, Status.INVESTIGATING, Status.OUTCOME_PROPOSED, Status.GOVERNOR_REVIEW),
        (Severity.LOW, Severity.MEDIUM, Severity.CRITICAL, ""),
        (Category.CYBERBULLYING, Category.MEDIA_ENQUIRY, Category.DATA_BREACH, Category.PREVENT),
        strict=True,
    ):
        open_cases.append(
            IncidentFactory(
                school=cast.oakfield,
                reporter=cast.sam,
                status=status,
                severity=severity,
                category=category,
                acknowledged_at=NOW,
                outcome=Outcome.PARENT_ASKED if status == Status.GOVERNOR_REVIEW else "",
            )
        )
    closed = IncidentFactory(
        school=cast.oakfield, reporter=cast.dina, status=Status.CLOSED, outcome=Outcome.INFORMAL_ACTION
    )
    survivor = IncidentFactory(school=cast.oakfield, reporter=cast.dina, status=Status.INVESTIGATING)
    open_cases.append(survivor)
    merged = [
        IncidentFactory(
            school=cast.oakfield,
            reporter=cast.sam,
            status=Status.MERGED,
            merged_into=into,
            received_at=NOW - timedelta(days=n),
        )
        for n, into in enumerate((closed, survivor), start=1)
    ]
    IncidentFactory(
        school=cast.oakfield,
        reporter=cast.sam,
        status=Status.CLOSED,
        outcome=Outcome.NO_BREACH,
        category=Category.UNAUTHORISED_ACCOUNT,
        received_at=NOW - timedelta(hours=23, minutes=40),
    )
    upheld = IncidentFactory(
        school=cast.oakfield, reporter=cast.sam, status=Status.CLOSED, outcome=Outcome.FORMAL_DISCIPLINARY
    )
    GovernorReview.objects.create(incident=upheld, decision=ReviewDecision.UPHOLD, decided_by=cast.gary)
    open_cases.append(
        IncidentFactory(school=cast.oakfield, reporter=cast.sam, status=Status.GOVERNOR_REVIEW, outcome="")
    )
    return {"open": open_cases, "merged": merged}


@pytest.mark.parametrize("many_schools", [False, True])
def test_queue_rows_are_the_old_markup(client, cast, spread, many_schools):
    if many_schools:
        cast.brookside.name = 'Brookside & <Sons> "Academy"'
        cast.brookside.save()
        member(cast.helen, cast.brookside, Role.HEAD)
        IncidentFactory(school=cast.brookside, reporter=cast.olive, response_due_at=NOW + timedelta(minutes=30))
    response = _get(client, cast.helen, reverse("incidents:queue"))
    assert response.context["many_schools"] is many_schools
    # The rows as the queue was fetched before it was kept (incidents/selectors.queue_page).
    listed = list(
        open_owned(cast.helen)
        .select_related("school")
        .annotate(waiting=Case(When(status=Status.SUBMITTED, then=Value(0)), default=Value(1)))
        .order_by("waiting", "response_due_at", "received_at", "pk")
    )
    assert len(listed) == len(spread["open"]) + many_schools
    assert response.context["page"].paginator.count == len(listed)
    new = _between(response.content.decode(), "<tbody>", "</tbody>")
    assert new == _old("queue", page=SimpleNamespace(object_list=listed), many_schools=many_schools)
    for piece in (
        'data-due="',
        "text-bg-danger",
        "text-bg-warning",
        "text-bg-info",
        "text-bg-success",
        "Child at risk",
    ):
        assert piece in new
    assert ("&lt;Sons&gt; &quot;Academy&quot;" in new) is many_schools


def test_my_reports_rows_are_the_old_markup(client, cast, spread):
    response = _get(client, cast.sam, reverse("incidents:mine"))
    # The rows as the list was fetched before it was kept (incidents/selectors.my_reports_page).
    listed = with_survivor_state(
        Incident.objects.visible_to(cast.sam).filter(reporter=cast.sam).order_by("-received_at", "-pk")
    )
    assert {i.status for i in listed} == set(Status.values), "every status, merged included"
    assert response.context["page"].paginator.count == len(listed)
    new = _between(response.content.decode(), "<tbody>", "</tbody>")
    assert new == _old("my_reports", page=SimpleNamespace(object_list=list(listed)))
    assert "Resolved" in new and "Being handled with a related report" in new


def test_review_rows_are_the_old_markup(client, cast, spread):
    response = _get(client, cast.gary, reverse("incidents:reviews"))
    page = response.context["page"]
    assert page.paginator.count == 3  # two waiting (one with no outcome), one upheld
    # The rows as the list was fetched before it was kept (incidents/selectors.reviews_page).
    listed = (
        Incident.objects.under_review_for(cast.gary)
        .annotate(waiting=Case(When(status=Status.GOVERNOR_REVIEW, then=Value(0)), default=Value(1)))
        .order_by("waiting", "-updated_at", "pk")
    )
    new = _between(response.content.decode(), "<tbody>", "</tbody>")
    assert new == _old("reviews", page=SimpleNamespace(object_list=list(listed)))
    assert "Upheld, closed" in new and "—" in new


def test_home_report_items_are_the_old_markup(client, cast, spread):
    response = _get(client, cast.sam, reverse("home"))
    summary = response.context["summary"]
    assert len(summary.my_reports) == 5
    new = _between(response.content.decode(), 'aria-labelledby="my-reports-heading">', "</section>")
    start = '<ul class="list-unstyled mb-2">'
    new = start + _between(new, start, "</ul>") + "</ul>"
    assert new == _old("home_reports", summary=summary)


@pytest.mark.parametrize("who", ["helen", "sam"])
def test_clause_citing_items_are_the_old_markup(client, cast, spread, who):
    clause = policy_for(cast.oakfield, effective=NOW.date().replace(year=2020)).clauses.first()
    for incident in spread["open"] + spread["merged"]:
        incident.clauses.add(clause)
    response = _get(client, getattr(cast, who), reverse("policy:clause", args=[clause.pk]))
    citing = response.context["citing"]
    assert citing["items"]
    start = '<ul class="list-unstyled mb-0">'
    new = start + _between(response.content.decode(), start, "</ul>") + "</ul>"
    assert new == _old("clause_incidents", citing=citing)
    assert "11 Jun 2026" in new  # the London date, not the UTC one


def test_person_page_items_are_the_old_markup(client, cast, frozen):
    about_sam = {"school": cast.oakfield, "reporter": cast.dina, "involved": Involved.STAFF, "subject": cast.sam}
    for n, status in enumerate((Status.TRIAGE, Status.CLOSED)):
        IncidentFactory(**about_sam, route=Route.LOW_LEVEL, status=status, received_at=NOW - timedelta(days=n))
    for route, status in (
        ("", Status.SUBMITTED),
        (Route.BREACH, Status.OUTCOME_PROPOSED),
        (Route.ALLEGATION, Status.INVESTIGATING),
    ):
        IncidentFactory(**about_sam, route=route, status=status, category=Category.STAFF_CONDUCT)
    response = _get(client, cast.helen, reverse("incidents:person", args=[cast.sam.pk]))
    assert len(response.context["low_level"]) == 2 and len(response.context["others"]) == 3
    html = response.content.decode()
    new = "".join(
        "<ul>" + _between(html.split(f'id="{heading}"', 1)[1], "<ul>", "</ul>") + "</ul>"
        for heading in ("low-level-heading", "other-heading")
    )
    assert new == _old("person", low_level=response.context["low_level"], others=response.context["others"])
    assert "not yet triaged" in new and "Thu 11 Jun 00:30" in new


def test_the_case_url_is_reversed_once_with_a_canonical_placeholder(cast, frozen):
    assert is_canonical(rows._PLACEHOLDER)
    incident = IncidentFactory(school=cast.oakfield, reporter=cast.sam)
    assert rows.case_url(incident.reference) == reverse("incidents:detail", args=[incident.reference])


def test_every_case_actions_url_is_as_reversed_under_any_script_prefix():
    """The case page's action URLs (views._Panel) come from one reverse() per URL name, kept per
    process: the same as reverse(), for every action, also when the site is served under a prefix."""
    references = (new_reference("OAK"), new_reference("BROOKSIDE1"), rows._PLACEHOLDER)
    names = ["incidents:detail", *(t.url_name for t in TABLE if t.path)]
    for prefix in ("/", "/policyhub/"):
        set_script_prefix(prefix)
        try:
            for name in names:
                for reference in references:
                    assert rows.case_urls(name)(reference) == reverse(name, args=[reference]), (prefix, name)
                    assert rows.case_urls(name)(reference).startswith(prefix)
        finally:
            set_script_prefix("/")


def test_labels_that_are_not_choices_show_as_themselves():
    # As get_FOO_display: an old value no longer in the choices is shown, not dropped.
    assert rows._label(rows.CATEGORY_LABELS, "retired_kind") == "retired_kind"
    assert rows._label(rows.SEVERITY_LABELS, "") == ""


@pytest.mark.parametrize(
    ("due", "acknowledged", "tone", "label", "detail"),
    [
        (timedelta(hours=10), False, "info", "10 hours left", "due Thu 11 Jun 10:30"),
        (
            timedelta(hours=2, minutes=13, seconds=30),
            False,
            "warning",
            "2 hours 13 minutes left",
            "due Thu 11 Jun 02:43",
        ),
        (-timedelta(hours=3, minutes=1), False, "danger", "Overdue by 3 hours 1 minute", "was due Wed 10 Jun 21:29"),
        (-timedelta(seconds=20), False, "danger", "Overdue by 1 minute", "was due Thu 11 Jun 00:30"),
        (None, False, "secondary", "Due time being worked out", ""),
        (timedelta(hours=1), True, "success", "Acknowledged", ""),
    ],
)
def test_the_deadline_badge_says_how_long_is_left(cast, frozen, due, acknowledged, tone, label, detail):
    incident = IncidentFactory(
        school=cast.oakfield,
        reporter=cast.sam,
        response_due_at=None if due is None else NOW + due,
        acknowledged_at=NOW if acknowledged else None,
    )
    badge = rows.deadline_badge(incident)
    assert f'class="badge text-bg-{tone}"' in badge and f">{label}</span>" in badge
    assert (f'<span class="small text-body-secondary">{detail}</span>' in badge) is bool(detail)
    assert ("data-due=" in badge) is (due is not None and not acknowledged)


def _old_badge(incident, now) -> str:
    tag = OLD.from_string("{% load old_rows %}{% old_deadline_badge incident now %}")
    return _normal(tag.render(Context({"incident": incident, "now": now})))


@pytest.mark.parametrize(
    "offset",
    [
        timedelta(days=3, hours=1, minutes=59, seconds=59),
        timedelta(hours=4, seconds=1),
        timedelta(hours=4),  # the warning starts
        timedelta(hours=4, seconds=-1),
        timedelta(minutes=2),
        timedelta(minutes=1, seconds=59),
        timedelta(seconds=61),
        timedelta(seconds=1),
        timedelta(0),  # overdue from the very moment it is due
        timedelta(seconds=-1),
        timedelta(seconds=-119),
        timedelta(hours=-25, minutes=-1),
    ],
)
def test_a_kept_badge_at_any_moment_is_the_old_markup(offset):
    """The queue keeps each row's badge made ready (rows.badge) and finishes it at each view: at
    every moment, the same markup as the old template over deadline_parts."""
    due = NOW + timedelta(hours=9, minutes=7, seconds=13)
    clock = SimpleNamespace(status=Status.SUBMITTED, acknowledged_at=None, response_due_at=due)
    now = due - offset
    kept = rows.badge(clock)
    assert _normal(kept.at(now)) == _old_badge(clock, now)
    assert kept.at(now) == rows.deadline_badge(clock, now)
    for fixed in (
        SimpleNamespace(status=Status.SUBMITTED, acknowledged_at=None, response_due_at=None),
        SimpleNamespace(status=Status.SUBMITTED, acknowledged_at=NOW, response_due_at=due),
        SimpleNamespace(status=Status.TRIAGE, acknowledged_at=None, response_due_at=due),
    ):
        assert _normal(rows.badge(fixed).at(now)) == _old_badge(fixed, now)
