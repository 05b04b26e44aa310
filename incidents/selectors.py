"""The read side of incidents: what the lists, counts and figures show, fetched in a fixed, small
number of queries whatever the number of cases. Views call these and render; template tags only
format what they are given (no queries in templates).

Every query starts from the queryset rules in incidents/models.py (visible_to, owned_by,
under_review_for, counted_for): a selector narrows what those allow, it never widens it. Each query
is written so PostgreSQL can answer it from an index made for it (incidents/models.py Meta.indexes;
tests/incidents/test_query_plans.py runs EXPLAIN on them at a realistic size).
"""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, Case, Count, IntegerField, Min, Q, Value, When
from django.utils import timezone

from accounts.audit_reads import shown

from . import access, rows
from .models import NON_BREACH_OUTCOMES, Incident, Status

PAGE_SIZE = 50
HOME_LIMIT = 5
CITING_LIMIT = 50
LIST_FIELDS = ("pk", "reference", "category", "status", "received_at")


# --- Lists -----------------------------------------------------------------------------------------


def with_survivor_state(reports):
    """A merged report shows its reporter only whether the case it joined is resolved
    (merging.progress): read with the list, not one query per merged row. A join on the case it
    joined, looked up by its key for each row shown; an EXISTS here was planned as a hash of every
    closed case in the database (a sequential scan of the table on each "My reports" page)."""
    return reports.annotate(
        survivor_closed=Case(
            When(merged_into__status=Status.CLOSED, then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    )


def _member_schools(user) -> list[int]:
    """The schools where `user` holds a role, from the memberships this request fetched."""
    viewer = access.Viewer.of(user)
    return sorted({s for ids in viewer.schools.values() for s in ids}) if viewer else []


def _empty_page(page_number) -> Page:
    page = Paginator([], PAGE_SIZE).get_page(page_number)
    page.lines = ""
    return page


def _kept_page(parts: tuple, cases, page_number, lines) -> Page:
    """A page of `cases()` whose count and rows (`lines(page of cases)`, its table rows) are kept under
    `parts`: the viewer's written rule, their schools and the stamp of all the rule can reach. `cases`
    is built only when something is worked out. `page.object_list` is a range as long as the page."""
    from reporting.figures_cache import kept

    count = kept((*parts, "count"), lambda: cases().count())
    page = Paginator(range(count), PAGE_SIZE).get_page(page_number)
    first = (page.number - 1) * PAGE_SIZE
    page.lines = kept((*parts, "page", page.number), lambda: lines(cases()[first : first + PAGE_SIZE]))
    return page


def my_reports_page(user, page_number) -> Page:
    """The person's own reports, newest first (index incident_reporter_received); `page.lines` are its
    table rows (rows.my_report_rows). Nothing in them changes with time alone, so the count and each
    page's rows are kept under the stamp of every case the person's rules reach (their schools' and
    their own reports', reporting/stamps.person_stamp) and the viewer's rule: one query when kept."""
    from reporting import stamps

    schools = _member_schools(user)
    parts = ("mine", Incident.objects.written_rule("visible_to", user), schools, stamps.person_stamp(user.pk, schools))

    def reports():
        reports = Incident.objects.visible_to(user).filter(reporter=user).order_by("-received_at", "-pk")
        return with_survivor_state(reports.only(*LIST_FIELDS))

    return _kept_page(parts, reports, page_number, rows.my_report_rows)


def open_owned(user):
    """The open cases `user` must act on. The condition matches the partial index
    incident_open_queue (WHERE NOT status = 'closed'), so closed cases are never read. A report
    merged into another case is handled there (incidents/merging.py)."""
    return Incident.objects.owned_by(user).exclude(status=Status.CLOSED).exclude(status=Status.MERGED)


def queue_page(user, filters: dict, page_number, many_schools: bool) -> Page:
    """The triage queue: open cases, those waiting for a first response first, soonest due first;
    `page.lines` are its rows (rows.queue_lines). The count and each page's rows but their
    first-response badges are kept under the stamp of the person's schools (every relation that
    owns a case is bound to them, incidents/access.py) and the viewer's rule; the badges, which
    change with the minute, are written from the kept clocks at each view: one query when kept."""
    from reporting import stamps

    schools = _member_schools(user)
    if not schools:  # owns nothing anywhere
        return _empty_page(page_number)
    wanted = {field: filters[field] for field in ("status", "category", "severity") if filters.get(field)}
    parts = (
        "queue",
        Incident.objects.written_rule("owned_by", user),
        schools,
        stamps.stamp_of(schools),
        sorted(wanted.items()),
        many_schools,
    )

    def cases():  # built only when something is worked out
        cases = open_owned(user).filter(**wanted).select_related("school")
        cases = cases.annotate(
            waiting=Case(When(status=Status.SUBMITTED, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        return cases.order_by("waiting", "response_due_at", "received_at", "pk")

    page = _kept_page(parts, cases, page_number, lambda page_cases: rows.queue_row_parts(page_cases, many_schools))
    page.lines = rows.queue_lines(page.lines)
    return page


def reviews_page(user, page_number) -> Page:
    """The governors' list: cases waiting for the board first, then those it upheld; `page.lines` are
    its table rows (rows.review_rows). Nothing in it changes with time alone, so its count and each
    page's rows are kept under the stamp of the person's schools (reporting/stamps.py: any change to
    their cases or memberships moves it) and the viewer's rule: one query when kept. The list is
    limited to the person's schools, as the governors' rule is, so that stamp covers all it reads."""
    from reporting import stamps

    schools = _member_schools(user)
    if not schools:  # a governor of no school: nothing to list
        return _empty_page(page_number)
    parts = ("reviews", Incident.objects.written_rule("under_review_for", user), schools, stamps.stamp_of(schools))

    def cases():  # built only when something is worked out
        return (
            Incident.objects.under_review_for(user)
            .filter(school__in=schools)
            .annotate(waiting=Case(When(status=Status.GOVERNOR_REVIEW, then=Value(0)), default=Value(1)))
            .order_by("waiting", "-updated_at", "pk")
            .only("reference", "category", "outcome", "status")
        )

    return _kept_page(parts, cases, page_number, rows.review_rows)


# --- Home --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Home:
    my_reports: list
    waiting: int  # open cases waiting for a first response (owners)
    overdue: int  # of those, how many are past their deadline
    open: int  # open cases in all (owners)
    reviews: int  # cases waiting for the board (governors)


def home(request, *, is_staff_member: bool, is_owner: bool, is_governor: bool) -> Home:
    """What the home page's cards show: at most one query per card the person sees, worked out once
    and kept until something they read changes: under the viewer's written rules, their schools and
    the stamp of every case those rules reach (reporting/stamps.person_stamp), and until the next
    moment a waiting case falls overdue. Kept, the page's summary costs the stamp alone."""
    from reporting import stamps
    from reporting.figures_cache import kept_until

    user = request.user
    cards = (("visible_to", is_staff_member), ("owned_by", is_owner), ("under_review_for", is_governor))
    if not any(wanted for _, wanted in cards):
        return Home(my_reports=[], waiting=0, overdue=0, open=0, reviews=0)
    now = timezone.now()
    schools = _member_schools(user)
    rules = tuple(Incident.objects.written_rule(entry, user) if wanted else None for entry, wanted in cards)
    parts = ("home", rules, schools, stamps.person_stamp(user.pk, schools))
    summary = kept_until(parts, now, lambda: _home(user, is_staff_member, is_owner, is_governor, now))
    if summary.my_reports:
        shown(request)  # the page shows cases: audited (accounts/audit_reads.py)
    return summary


def _home(user, is_staff_member: bool, is_owner: bool, is_governor: bool, now):
    """(Home, the moment its figures next change with time alone, or None)."""
    mine = []
    if is_staff_member:
        reports = Incident.objects.visible_to(user).filter(reporter=user).order_by("-received_at", "-pk")
        mine = list(with_survivor_state(reports.only(*LIST_FIELDS))[:HOME_LIMIT])
    counts = {"waiting": 0, "overdue": 0, "open": 0, "next_due": None}
    if is_owner:
        # Overdue from the moment the deadline passes, not from the next sweep: the home page must
        # not say "waiting" for a case that is already late (the summary is kept until the next such
        # moment, `next_due`). One query for the counts.
        waiting = Q(status=Status.SUBMITTED)
        counts = open_owned(user).aggregate(
            waiting=Count("pk", filter=waiting),
            overdue=Count("pk", filter=waiting & Q(response_due_at__lte=now)),
            open=Count("pk"),
            next_due=Min("response_due_at", filter=waiting & Q(response_due_at__gt=now)),
        )
    reviews = 0
    if is_governor:
        reviews = Incident.objects.under_review_for(user).filter(status=Status.GOVERNOR_REVIEW).count()
    summary = Home(
        my_reports=mine, waiting=counts["waiting"], overdue=counts["overdue"], open=counts["open"], reviews=reviews
    )
    return summary, counts["next_due"]


# --- Clauses -----------------------------------------------------------------------------------------------


def clause_citations(request, clause) -> dict:
    """The cases citing `clause` that the viewer may see: the first CITING_LIMIT and how many in all.
    Two queries whatever the number (the page, the total)."""
    citing = Incident.objects.visible_to(request.user).filter(clauses=clause).order_by("-received_at", "-pk")
    items = list(citing.only(*LIST_FIELDS)[:CITING_LIMIT])
    total = citing.count()
    if items:
        shown(request)  # the page shows cases: audited (accounts/audit_reads.py)
    return {"items": items, "total": total, "more": total - len(items)}


def kept_with_breach_counts(user, parts: tuple, compute):
    """`compute(counts)`, kept between views: `counts(clause_ids)` gives {clause id: how often it was
    found breached} over the cases `user` may count, for the clauses of one policy version (one
    query, driven by the citation table's clause index from the clause ids themselves: a join to the
    clauses by version hid how few citations there are, and PostgreSQL then read all of the school's
    closed cases instead). Kept under `parts` (what else the answer depends on), the person's rule
    and schools, and the stamp of every case the rule reaches (a citation names its case's school),
    which every change of a policy version, section, clause or acknowledgement also moves
    (reporting/stamps.py BY_EVERY): kept, the stamp alone is read."""
    from reporting import stamps
    from reporting.figures_cache import kept

    schools = _member_schools(user)
    rule = Incident.objects.written_rule("counted_for", user)

    def counts(clause_ids) -> dict[int, int]:
        if not clause_ids:
            return {}
        rows = (
            Incident.objects.counted_for(user)
            .filter(status=Status.CLOSED, clauses__in=sorted(clause_ids))
            .exclude(outcome="")
            .exclude(outcome__in=NON_BREACH_OUTCOMES)
            .values_list("clauses")
            .annotate(n=Count("pk"))
            .order_by()
        )
        return dict(rows)

    return kept(("breaches", parts, rule, schools, stamps.person_stamp(user.pk, schools)), lambda: compute(counts))
