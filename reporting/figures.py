"""The figures of the governors' pack and of the trust view ([9]): counts and rates, worked out in
the database, in a fixed number of queries whatever the number of cases.

Which cases count: `Incident.objects.figures_for(user)` (incidents/access.py FIGURES) — what the
person may count, plus a governor's or chair's whole school; never a case about the person
(a governor who is the subject of a case does not have it counted). Reports merged into another
case are counted once, with their survivor (status "merged" is left out).

What falls in a term (reporting/terms.py: from the term's first day to the next term's first day):
- cases by the day they were received (categories, routes, outcomes, first responses);
- board decisions by the day they were made;
- referrals by the day they were made, take-downs by the day they were requested;
- allegation clocks by the day they fell due;
- allegation case ages by the day the case was closed (incidents/allegations.termly_figures).
So a case received in one term and decided in the next counts as received in the first and decided
in the second. No figure names a person, and none of them names a case.
"""

import operator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import reduce
from statistics import median

from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber, TruncMonth
from django.utils import timezone

from accounts.models import ACKNOWLEDGING_ROLES, Membership
from incidents import allegations
from incidents.allegation_clocks import DUE
from incidents.deadlines import LONDON
from incidents.models import (
    Category,
    Deadline,
    DeadlineState,
    GovernorReview,
    Incident,
    Outcome,
    Referral,
    ReferralKind,
    ReviewDecision,
    Route,
    Status,
    TakedownRequest,
    TakedownStatus,
)
from policyhub import review
from policyhub.models import Acknowledgement, PolicyVersion, VersionStatus

from .terms import Term

# First responses: the target is every case answered within its deadline; a school below this
# share is highlighted on the trust view.
RESPONSE_TARGET = 95
# The response-time chart's bands, in hours (the last band is everything after the last mark).
RESPONSE_MARKS = (4, 8, 12, 16, 20, 24, 48)
CLOCK_KINDS = allegations.PANEL_KINDS
CLOCK_LABELS = allegations.LABELS

CATEGORY_LABELS = dict(Category.choices)
ROUTE_LABELS = {"": "Not yet triaged", **dict(Route.choices)}
OUTCOME_LABELS = {"": "No outcome yet", **dict(Outcome.choices)}
REFERRAL_LABELS = dict(ReferralKind.choices)
TAKEDOWN_LABELS = dict(TakedownStatus.choices)


def _took():
    return ExpressionWrapper(F("acknowledged_at") - F("received_at"), output_field=DurationField())


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


def pct(part: int, whole: int) -> int | None:
    """A whole-number share, or None when there is nothing to share (shown as "—", never 0 %)."""
    return round(100 * part / whole) if whole else None


@dataclass
class Figures:
    """One school's figures for one term."""

    received: int = 0
    by_category: dict = field(default_factory=dict)
    by_route: dict = field(default_factory=dict)
    by_outcome: dict = field(default_factory=dict)
    responded: int = 0  # first response given
    due: int = 0  # first response given, or its deadline passed without one
    within: int = 0  # first response by its deadline
    overdue: int = 0  # the deadline passed without a first response (the sweep marked it)
    escalated: int = 0  # escalated to the chair
    worst_hours: float | None = None
    median_hours: float | None = None
    bands: list = field(default_factory=list)  # [(label, n)] of first-response times
    upheld: int = 0
    not_upheld: int = 0
    allegation_ages: object = None  # allegations.Figures
    clocks: list = field(default_factory=list)  # [(label, met, late, missed, running)]
    referrals: dict = field(default_factory=dict)
    takedowns: dict = field(default_factory=dict)
    # The first instant after `now` at which a figure changes with no row changing: a first response
    # or an allegation clock falls due (the day's change is the caller's: reporting/figures_cache.py).
    changes_at: datetime | None = None

    @property
    def within_pct(self) -> int | None:
        return pct(self.within, self.due)

    @property
    def low_level(self) -> int:
        return self.by_route.get(Route.LOW_LEVEL, 0)


def counted(user):
    """The cases counted for `user` (FIGURES), merged reports left out."""
    return Incident.objects.figures_for(user).exclude(status=Status.MERGED)


def _in(cases) -> Q:
    """A related row's case is one of `cases`. The SQL of `cases` (the access rule, by far the
    costliest part to write) is written once per set and reused by every figure that asks: a dozen
    a pack, once per school in the trust view (docs/performance.md)."""
    # Not raw text: the SQL Django wrote for `cases`, its values passed as parameters.
    return Q(incident_id__in=RawSQL(*written(cases)))  # nosec B611 # noqa: S611


def written(cases) -> tuple[str, tuple]:
    """The SQL and parameters of `cases`' ids, written once per set (kept on the queryset)."""
    sql = getattr(cases, "_written_pks", None)
    if sql is None:
        sql = cases._written_pks = cases.order_by().values("pk").query.sql_with_params()
    return sql


def earliest(*instants: datetime | None) -> datetime | None:
    """The earliest of `instants` that are set."""
    return min((t for t in instants if t is not None), default=None)


def _bands(row: dict) -> list:
    labels, previous = [], 0
    for i, mark in enumerate(RESPONSE_MARKS):
        cumulative = row[f"by{i}"] or 0
        start = RESPONSE_MARKS[i - 1] if i else 0
        labels.append((f"{start}–{mark} h", cumulative - previous))
        previous = cumulative
    labels.append((f"over {RESPONSE_MARKS[-1]} h", (row["responded"] or 0) - previous))
    return labels


def term_figures(user, cases, term: Term, *, now: datetime | None = None) -> Figures:
    """The figures of `cases` for one term (`terms_figures` for one)."""
    return terms_figures(user, cases, [term], now=now)[0]


def _each(terms: list[Term], field_name: str, *, dates: bool = False) -> tuple[Q, Case]:
    """The condition that `field_name` falls in one of `terms` (their instants, or their calendar days
    when `dates`), and which one: the term's place in `terms`, to group by."""
    spans = [(t.starts_on, t.period_end) if dates else t.bounds for t in terms]
    each = [Q(**{f"{field_name}__gte": lo, f"{field_name}__lt": hi}) for lo, hi in spans]
    which = Case(*(When(q, then=Value(k)) for k, q in enumerate(each)), output_field=IntegerField())
    return reduce(operator.or_, each), which


def terms_figures(user, cases, terms: list[Term], *, now: datetime | None = None) -> list[Figures]:
    """The figures of `cases` (already narrowed to one school and to what `user` may count) for each
    of `terms` (the pack: this term and the last; terms never overlap). The terms are counted
    together, one statement per table grouped by term: seven queries whatever the number of cases
    and of terms (each reads the terms' rows, never the school's older history)."""
    now = now or timezone.now()
    spans = sorted(t.bounds for t in terms)
    if any(a[1] > b[0] for a, b in zip(spans, spans[1:], strict=False)):
        raise ValueError("The terms overlap.")
    in_terms, term_of = _each(terms, "received_at")
    received = cases.filter(in_terms)
    responded = Q(acknowledged_at__isnull=False)
    marks = {
        f"by{i}": Count("pk", filter=responded & Q(acknowledged_at__lte=F("received_at") + timedelta(hours=h)))
        for i, h in enumerate(RESPONSE_MARKS)
    }
    figures = [Figures() for _term in terms]
    # 1. Received cases, grouped by term, category, route and outcome, with the first-response counts.
    rows = (
        received.annotate(term=term_of)
        .values("term", "category", "route", "outcome")
        .annotate(
            n=Count("pk"),
            responded=Count("pk", filter=responded),
            due=Count("pk", filter=responded | Q(response_due_at__lte=now)),
            within=Count("pk", filter=Q(acknowledged_at__lte=F("response_due_at"))),
            overdue=Count("pk", filter=Q(overdue_at__isnull=False)),
            escalated=Count("pk", filter=Q(escalated_at__isnull=False)),
            worst=Max(_took(), filter=responded),
            next_due=Min("response_due_at", filter=Q(acknowledged_at__isnull=True, response_due_at__gt=now)),
            **marks,
        )
        .order_by()
    )
    totals = [dict.fromkeys(("responded", "due", "within", "overdue", "escalated", *marks), 0) for _t in terms]
    worst: list = [None for _term in terms]
    for row in rows:
        k, f = row["term"], figures[row["term"]]
        f.received += row["n"]
        for name, key in (("by_category", "category"), ("by_route", "route"), ("by_outcome", "outcome")):
            counts = getattr(f, name)
            counts[row[key]] = counts.get(row[key], 0) + row["n"]
        for key in totals[k]:
            totals[k][key] += row[key]
        if row["worst"] is not None and (worst[k] is None or row["worst"] > worst[k]):
            worst[k] = row["worst"]
        f.changes_at = earliest(f.changes_at, row["next_due"])
    for k, f in enumerate(figures):
        for key in ("responded", "due", "within", "overdue", "escalated"):
            setattr(f, key, totals[k][key])
        f.worst_hours = _hours(worst[k])
        f.bands = _bands(totals[k])
    # 2. The median time to first response: each term's middle one or two rows, by their place in
    # the term's answered cases in order (one query for all the terms).
    middle = {k: {(f.responded - 1) // 2 + 1, f.responded // 2 + 1} for k, f in enumerate(figures) if f.responded}
    if middle:
        took = (
            received.filter(responded)
            .annotate(
                term=term_of,
                took=_took(),
                place=Window(RowNumber(), partition_by=[term_of], order_by=[_took().asc(), F("pk").asc()]),
            )
            .filter(reduce(operator.or_, (Q(term=k, place__in=sorted(places)) for k, places in middle.items())))
            .values_list("term", "took")
        )
        found: dict[int, list] = {}
        for k, value in took:
            found.setdefault(k, []).append(value)
        for k, values in found.items():
            figures[k].median_hours = _hours(median(values))
    # 3. The board's decisions in the terms.
    decided, term_of = _each(terms, "decided_at")
    reviews = (
        GovernorReview.objects.filter(decided)
        .filter(_in(cases))
        .annotate(term=term_of)
        .values("term", "decision")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in reviews:
        f = figures[row["term"]]
        if row["decision"] == ReviewDecision.UPHOLD:
            f.upheld += row["n"]
        else:
            f.not_upheld += row["n"]
    # 4. Allegation case ages against the KCSIE targets (the allegations module's own rule).
    ages = allegations.terms_figures(
        user, [(t.starts_on, t.period_end) for t in terms], today=now.astimezone(LONDON).date(), cases=cases
    )
    for f, age in zip(figures, ages, strict=True):
        f.allegation_ages = age
    # 5. Allegation clocks that fell due in the terms: the deadline step of each (not reminders).
    # Written without negating a JSON comparison: a missing key compares as NULL, and NOT NULL is
    # not true, so `~Q(data__late=True)` would drop every row that was never late.
    late = Q(data__late=True)
    on_time = Q(data__late__isnull=True) | Q(data__late=False)
    met = Q(data__has_key="met_on") | Q(state=DeadlineState.DONE)
    fell_due, term_of = _each(terms, "due_at")
    clocks = (
        Deadline.objects.filter(fell_due, kind__in=CLOCK_KINDS)
        .exclude(state=DeadlineState.CANCELLED)
        .filter(Q(data__step=DUE) | ~Q(data__has_key="step"))
        .filter(_in(cases))
        .annotate(term=term_of)
        .values("term", "kind")
        .annotate(
            met=Count("pk", filter=met & on_time),
            late=Count("pk", filter=late),
            missed=Count("pk", filter=~met & on_time & (Q(state=DeadlineState.FIRED) | Q(due_at__lte=now))),
            running=Count("pk", filter=~met & Q(state=DeadlineState.PENDING, due_at__gt=now)),
            next_due=Min("due_at", filter=~met & Q(state=DeadlineState.PENDING, due_at__gt=now)),
        )
        .order_by()
    )
    by_kind = {(row["term"], row["kind"]): row for row in clocks}
    for (k, _kind), row in by_kind.items():
        figures[k].changes_at = earliest(figures[k].changes_at, row["next_due"])
    for k, f in enumerate(figures):
        f.clocks = [
            (CLOCK_LABELS[kind], *(by_kind[k, kind][name] for name in ("met", "late", "missed", "running")))
            for kind in CLOCK_KINDS
            if (k, kind) in by_kind
        ]
    # 6. Referrals made in the terms, by whom to; 7. take-down requests made, by where they stand now.
    for attr, model, made, key in (
        ("referrals", Referral, "made_on", "kind"),
        ("takedowns", TakedownRequest, "requested_on", "status"),
    ):
        made_in, term_of = _each(terms, made, dates=True)
        rows = (
            model.objects.filter(made_in)
            .filter(_in(cases))
            .annotate(term=term_of)
            .values_list("term", key)
            .annotate(n=Count("pk"))
            .order_by()
        )
        for k, value, n in rows:
            getattr(figures[k], attr)[value] = n
    return figures


# --- Cases per month, for the chart ------------------------------------------------------------------


def per_month(cases, term: Term) -> tuple[list, list]:
    """([month label], [(category key, label, [n per month])]) for the term's received cases: one query."""
    lo, hi = term.bounds
    rows = (
        cases.filter(received_at__gte=lo, received_at__lt=hi)
        .annotate(month=TruncMonth("received_at", tzinfo=LONDON))
        .values_list("month", "category")
        .annotate(n=Count("pk"))
        .order_by()
    )
    months, day = [], term.starts_on.replace(day=1)
    while day < term.period_end:
        months.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    grid: dict[str, list[int]] = {}
    for month, category, n in rows:
        key = month.date() if isinstance(month, datetime) else month
        if key in months:
            grid.setdefault(category, [0] * len(months))[months.index(key)] += n
    series = [(k, CATEGORY_LABELS.get(k, k), grid[k]) for k in sorted(grid, key=lambda k: CATEGORY_LABELS.get(k, k))]
    return [f"{m:%b %Y}" for m in months], series


# --- The policy in force ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyState:
    version: PolicyVersion | None
    required: int  # people who must acknowledge it
    acknowledged: int
    today: date

    @property
    def pct(self) -> int | None:
        return pct(self.acknowledged, self.required)

    @property
    def next_review_date(self) -> date | None:
        return self.version.next_review_date if self.version else None

    @property
    def review_overdue(self) -> bool:
        # The same rule as the policy page and the review clock (policyhub/review.py).
        state = review.state(self.version, self.today) if self.version else None
        return state is not None and state.overdue


def policy_state(school, today: date) -> PolicyState:
    """The version in force at `school` today and how many of those who must acknowledge it have:
    two queries."""
    version = PolicyVersion.objects.in_force_on(school, today)
    if version is None:
        return PolicyState(None, 0, 0, today)
    counts = _acknowledgements({version.pk: [school.pk]})
    required, done = counts.get(school.pk, (0, 0))
    return PolicyState(version, required, done, today)


def _acknowledgements(schools_by_version: dict[int, list[int]]) -> dict[int, tuple[int, int]]:
    """{school id: (people who must acknowledge, of whom acknowledged)} for each school's version in
    force: one query, whatever the number of schools."""
    if not schools_by_version:
        return {}
    done = Q(pk__in=[])
    for version_id, school_ids in schools_by_version.items():
        acknowledged = Acknowledgement.objects.filter(user=OuterRef("user"), version_id=version_id)
        done |= Q(school__in=school_ids) & Q(Exists(acknowledged))
    rows = (
        Membership.objects.filter(
            school__in=[s for ids in schools_by_version.values() for s in ids],
            role__in=ACKNOWLEDGING_ROLES,
            user__is_active=True,
        )
        .values("school")
        .annotate(required=Count("user", distinct=True), done=Count("user", distinct=True, filter=done))
        .order_by()
    )
    return {row["school"]: (row["required"], row["done"]) for row in rows}


def policies_in_force(schools, today: date) -> dict[int, PolicyState]:
    """policy_state for many schools: two queries."""
    versions = (
        PolicyVersion.objects.filter(
            policy__adoptions__school__in=[s.pk for s in schools],
            status__in=[VersionStatus.ACTIVE, VersionStatus.ARCHIVED],
            effective_date__lte=today,
        )
        .annotate(school_id=F("policy__adoptions__school"))
        .order_by("-effective_date", "-number")
    )
    in_force: dict[int, PolicyVersion] = {}
    for version in versions:
        in_force.setdefault(version.school_id, version)
    by_version: dict[int, list[int]] = {}
    for school_id, version in in_force.items():
        by_version.setdefault(version.pk, []).append(school_id)
    counts = _acknowledgements(by_version)
    return {
        s.pk: PolicyState(in_force.get(s.pk), *counts.get(s.pk, (0, 0)), today)
        if s.pk in in_force
        else PolicyState(None, 0, 0, today)
        for s in schools
    }


# --- The trust view: every school side by side ---------------------------------------------------------


@dataclass
class SchoolRow:
    school: object
    term: Term
    previous: Term
    now: dict  # figure -> value, this term
    before: dict  # the same, previous term
    policy: PolicyState

    @property
    def within_pct(self):
        return pct(self.now["within"], self.now["due"])

    @property
    def within_pct_before(self):
        return pct(self.before["within"], self.before["due"])

    @property
    def below_target(self) -> bool:
        value = self.within_pct
        return value is not None and value < RESPONSE_TARGET


TRUST_COUNTS = ("received", "due", "within", "overdue", "escalated", "low_level", "upheld", "not_upheld")


def _period_q(terms: dict[int, Term], field_name: str, *, dates: bool = False) -> Q:
    """Each school's own term: schools with the same dates share one condition."""
    groups: dict[tuple, list[int]] = {}
    for school_id, term in terms.items():
        bounds = (term.starts_on, term.period_end) if dates else term.bounds
        groups.setdefault(bounds, []).append(school_id)
    school = "school" if field_name == "received_at" else "incident__school"
    q = Q(pk__in=[])
    for (lo, hi), ids in groups.items():
        q |= Q(**{f"{school}__in": ids, f"{field_name}__gte": lo, f"{field_name}__lt": hi})
    return q


def trust_rows(user, schools, terms: dict[int, Term], previous: dict[int, Term], today: date, now=None) -> list:
    """One row per school, this term and the previous one: five queries whatever the number of
    schools and cases (the term rows are read by the caller)."""
    now = now or timezone.now()
    cases = counted(user).filter(school__in=[s.pk for s in schools])
    responded = Q(acknowledged_at__isnull=False)
    figures = {}
    for suffix, period in (("", terms), ("_before", previous)):
        got = _period_q(period, "received_at")
        figures.update(
            {
                f"received{suffix}": Count("pk", filter=got),
                f"due{suffix}": Count("pk", filter=got & (responded | Q(response_due_at__lte=now))),
                f"within{suffix}": Count("pk", filter=got & Q(acknowledged_at__lte=F("response_due_at"))),
                f"overdue{suffix}": Count("pk", filter=got & Q(overdue_at__isnull=False)),
                f"escalated{suffix}": Count("pk", filter=got & Q(escalated_at__isnull=False)),
                f"low_level{suffix}": Count("pk", filter=got & Q(route=Route.LOW_LEVEL)),
            }
        )
    per_school = {row["school"]: row for row in cases.values("school").annotate(**figures).order_by()}
    reviews = {}
    for suffix, period in (("", terms), ("_before", previous)):
        decided = _period_q(period, "decided_at")
        rows = (
            GovernorReview.objects.filter(decided)
            .filter(_in(cases))
            .values("incident__school")
            .annotate(
                upheld=Count("pk", filter=Q(decision=ReviewDecision.UPHOLD)),
                not_upheld=Count("pk", filter=~Q(decision=ReviewDecision.UPHOLD)),
            )
            .order_by()
        )
        for row in rows:
            reviews.setdefault(row["incident__school"], {}).update(
                {f"upheld{suffix}": row["upheld"], f"not_upheld{suffix}": row["not_upheld"]}
            )
    policies = policies_in_force(schools, today)
    result = []
    for school in schools:
        row = {**per_school.get(school.pk, {}), **reviews.get(school.pk, {})}
        now_, before = ({k: row.get(f"{k}{suffix}", 0) for k in TRUST_COUNTS} for suffix in ("", "_before"))
        result.append(SchoolRow(school, terms[school.pk], previous[school.pk], now_, before, policies[school.pk]))
    return result
