"""The kept access rule writes its SQL once (incidents/compiled_rule.py). Whatever is built on it must
run exactly the SQL, and return exactly the rows, of the same rule built afresh, in every way the app
uses a rule: lists, filters, joins, counts, aggregates, and as a subquery of another query (where the
case table is renamed and a reused text would bind to the wrong table). Checked for everyone in the
security world (people with two or more roles included), on every entry point, twice each (the first
use writes the text, the second reuses it)."""

import pytest
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.sql.where import WhereNode
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership
from incidents import compiled_rule, models, selectors
from incidents.choices import Status
from incidents.models import Evidence, Incident, IncidentQuerySet, Task, TimelineEntry

pytestmark = pytest.mark.django_db

ENTRY_POINTS = ("visible_to", "owned_by", "under_review_for", "counted_for", "figures_for")

# Each use: the rule's queryset -> what to evaluate (a queryset is listed; anything else is a value).
USES = {
    "list": lambda qs: qs.order_by("-received_at", "-pk"),
    "filtered": lambda qs: qs.filter(reporter__isnull=False).exclude(status=Status.CLOSED).order_by("pk"),
    "joined": lambda qs: qs.select_related("school", "reporter", "subject", "owner").order_by("pk"),
    "survivor state": lambda qs: selectors.with_survivor_state(qs.filter(status=Status.MERGED)).order_by("pk"),
    "only": lambda qs: qs.only("reference", "status").order_by("pk")[:5],
    "count": lambda qs: qs.count(),
    "exists": lambda qs: qs.filter(status=Status.CLOSED).exists(),
    "first": lambda qs: qs.order_by("pk").first(),
    "aggregate": lambda qs: qs.aggregate(n=Count("pk"), closed=Count("pk", filter=Q(status=Status.CLOSED))),
    "grouped": lambda qs: list(qs.values("category").annotate(n=Count("pk")).order_by("category")),
    "distinct count": lambda qs: qs.filter(clauses__isnull=False).distinct().count(),
    "pk in values": lambda qs: Incident.objects.filter(pk__in=qs.values("pk")).order_by("pk"),
    "related in queryset": lambda qs: Evidence.objects.filter(incident__in=qs).order_by("pk"),
    "tasks in values": lambda qs: Task.objects.filter(incident__in=qs.values("pk")).order_by("pk"),
    "exists subquery": lambda qs: TimelineEntry.objects.filter(Exists(qs.filter(pk=OuterRef("incident")))).order_by(
        "pk"
    ),
    "merged into": lambda qs: Incident.objects.filter(merged_into__in=qs).order_by("pk"),
    "nested twice": lambda qs: Evidence.objects.filter(
        incident__in=Incident.objects.filter(pk__in=qs.values("pk")).values("pk")
    ).order_by("pk"),
    "or": lambda qs: (qs | Incident.objects.filter(status=Status.MERGED)).order_by("pk"),
    "or, rule second": lambda qs: (Incident.objects.filter(status=Status.MERGED) | qs).order_by("pk"),
    "and, rule second": lambda qs: (Incident.objects.filter(category="parent_post") & qs).order_by("pk"),
    "union": lambda qs: list(
        qs.order_by()
        .values_list("pk", flat=True)
        .union(Incident.objects.order_by().filter(status=Status.MERGED).values_list("pk", flat=True))
    ),
}


def _in_a_request(user):
    memberships = list(Membership.objects.for_user(user))
    user.memberships_of_request = lambda: memberships
    return user


def _people(world):
    return sorted({v for v in vars(world).values() if isinstance(v, type(world.helen))}, key=lambda u: u.pk)


def _run(use, qs):
    """The statements `use` runs on `qs`, and what it returns."""
    with CaptureQueriesContext(connection) as ran:
        value = USES[use](qs)
        if hasattr(value, "query"):
            value = list(value.values_list("pk", flat=True)) if value.model is not dict else list(value)
    return [q["sql"] for q in ran], value


@pytest.fixture(autouse=True)
def _empty_cache():
    models._built_rules.rules.clear()
    yield
    models._built_rules.rules.clear()


# Every use for every person on the case pages' rule; the other entry points with the uses that
# differ in kind (a list, a count, a subquery, a combination).
CHECKED = [("visible_to", use) for use in USES] + [
    (entry_point, use)
    for entry_point in ENTRY_POINTS[1:]
    for use in ("list", "count", "aggregate", "pk in values", "merged into", "or, rule second")
]


def test_every_use_of_the_kept_rule_runs_the_sql_of_a_freshly_built_one(world):
    checked = 0
    for user in _people(world):
        for entry_point, use in CHECKED:
            expected = _run(use, getattr(IncidentQuerySet(Incident), entry_point)(user))
            # The first use of a kept rule writes its text, the later ones reuse it.
            kept = getattr(Incident.objects, entry_point)(_in_a_request(user))
            assert isinstance(kept.query.where.children[0], compiled_rule.CompiledPart)
            assert _run(use, kept) == expected, (user.email, entry_point, use)
            checked += 1
    assert checked >= 15 * len(CHECKED)


def test_an_update_through_the_kept_rule_runs_the_sql_of_a_fresh_one(world):
    helen = _in_a_request(world.helen)
    Incident.objects.owned_by(helen).count()  # the text is written

    def update(qs):
        with CaptureQueriesContext(connection) as ran, transaction.atomic():
            changed = qs.exclude(status=Status.CLOSED).update(links="https://example.org/changed")
            transaction.set_rollback(True)
        return [q["sql"] for q in ran if "SAVEPOINT" not in q["sql"]], changed

    expected = update(IncidentQuerySet(Incident).owned_by(world.helen))
    assert expected[1] > 0
    assert update(Incident.objects.owned_by(helen)) == expected


def test_the_second_use_compiles_none_of_the_rule(world, monkeypatch):
    """What the change is for: the rule's parts are written by the ORM once, not on every query."""
    compiled = []
    real = WhereNode.as_sql
    monkeypatch.setattr(WhereNode, "as_sql", lambda self, c, conn: compiled.append(self) or real(self, c, conn))
    helen = _in_a_request(world.helen)
    list(Incident.objects.visible_to(helen))
    assert compiled  # the first use writes the rule
    compiled.clear()
    list(Incident.objects.visible_to(helen))
    # Only the query's own top-level WHERE: none of the rule's OR and AND nodes or its subqueries.
    assert len(compiled) == 1


def test_the_comparison_sees_a_kept_text_reused_where_the_table_is_renamed(world, monkeypatch):
    """Control: with the renaming fallback removed, the kept text is reused inside a subquery, and
    the comparison above catches it (the test is not blind to the fault it guards against)."""
    monkeypatch.setattr(compiled_rule.CompiledPart, "relabeled_clone", lambda self, change_map: self)
    helen = _in_a_request(world.helen)
    expected = _run("pk in values", IncidentQuerySet(Incident).visible_to(world.helen))
    assert _run("pk in values", Incident.objects.visible_to(helen)) != expected
