"""The governors' termly pack for one school and one term ([9] item 1): the figures of the term next
to the previous term's, as rows that the page, the CSV and the PDF all read (so the three never
disagree). Counts and rates only; the page adds, for governors, the list of breaches the board
upheld (by case reference, as the governors' review list shows them).
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.html import format_html_join

from incidents import rows as rows_module
from incidents.models import NON_BREACH_OUTCOMES, GovernorReview, Incident, ReviewDecision, Status
from policyhub.models import Clause

from . import figures as F
from . import figures_cache, stamps
from .terms import Term, calendar_for, parse

PAGE_SIZE = 50


def _n(value) -> str:
    return "—" if value is None else str(value)


def _pct(value) -> str:
    return "—" if value is None else f"{value} %"


def _hours(value) -> str:
    return "—" if value is None else f"{value:g} h"


@dataclass
class Pack:
    school: object
    term: Term
    previous: Term
    this: F.Figures
    before: F.Figures
    months: list
    series: list
    policy: F.PolicyState
    terms: list  # recent terms, for the choice of term
    # The figures' cache tag (reporting/figures_cache.py): the same tag, the same figures.
    kept_as: str = ""
    stamp: tuple = ()  # the school's, read before anything was worked out (reporting/stamps.py)

    @property
    def sections(self) -> list:
        """[(heading, [(label, this term, previous term)])]: every figure of the pack, as text."""
        return [*self.figure_sections, self.policy_section]

    @property
    def policy_section(self) -> tuple:
        """(heading, rows) of the policy in force today."""
        policy = self.policy
        version = policy.version
        review = "—"
        if policy.next_review_date:
            review = f"{policy.next_review_date:%-d %B %Y}" + (" (overdue)" if policy.review_overdue else "")
        return (
            "Policy in force (today)",
            [
                ("Version", f"version {version.number}" if version else "none in force", "—"),
                (
                    "Acknowledged by staff",
                    f"{policy.acknowledged} of {policy.required} ({_pct(policy.pct)})" if version else "—",
                    "—",
                ),
                ("Next review", review, "—"),
            ],
        )

    @property
    def figure_sections(self) -> list:
        """The sections worked out from the terms' figures alone (all but the policy in force)."""
        a, b = self.this, self.before

        def counts(names: dict, mine: dict, theirs: dict) -> list:
            keys = [k for k in names if k in mine or k in theirs]
            return [(names[k], _n(mine.get(k, 0)), _n(theirs.get(k, 0))) for k in keys]

        ages_a, ages_b = a.allegation_ages, b.allegation_ages
        ages = [("Allegation cases resolved", _n(ages_a.resolved), _n(ages_b.resolved))]
        for (label, target, n, share), (_l, _t, n_b, share_b) in zip(
            ages_a.resolved_within, ages_b.resolved_within, strict=True
        ):
            target_text = "all but the exceptional" if target == 100 else f"target {target} %"
            ages.append((f"Resolved {label} ({target_text})", f"{n} ({_pct(share)})", f"{n_b} ({_pct(share_b)})"))
        ages.append(("Resolved beyond twelve months", _n(ages_a.beyond), _n(ages_b.beyond)))
        ages.append(("Allegation cases open now", _n(ages_a.open), "—"))
        clocks_b = {label: rest for label, *rest in b.clocks}
        clocks = []
        for label, met, late, missed, running in a.clocks:
            before = clocks_b.get(label)
            clocks.append(
                (
                    label,
                    f"{met} met, {late} late, {missed} missed, {running} running",
                    "—" if before is None else "{} met, {} late, {} missed, {} running".format(*before),
                )
            )
        for label, rest in clocks_b.items():
            if label not in {c[0] for c in a.clocks}:
                clocks.append((label, "—", "{} met, {} late, {} missed, {} running".format(*rest)))
        return [
            (
                "Cases received",
                [("All cases", _n(a.received), _n(b.received))]
                + counts(F.CATEGORY_LABELS, a.by_category, b.by_category),
            ),
            ("By route", counts(F.ROUTE_LABELS, a.by_route, b.by_route)),
            ("By outcome", counts(F.OUTCOME_LABELS, a.by_outcome, b.by_outcome)),
            (
                "First responses",
                [
                    ("Due in the term", _n(a.due), _n(b.due)),
                    ("Within the deadline", _n(a.within), _n(b.within)),
                    (f"Within the deadline (target {F.RESPONSE_TARGET} %)", _pct(a.within_pct), _pct(b.within_pct)),
                    ("Median time to first response", _hours(a.median_hours), _hours(b.median_hours)),
                    ("Longest time to first response", _hours(a.worst_hours), _hours(b.worst_hours)),
                    ("Overdue (no first response by the deadline)", _n(a.overdue), _n(b.overdue)),
                    ("Escalated to the chair", _n(a.escalated), _n(b.escalated)),
                ],
            ),
            (
                "The board's decisions",
                [
                    ("Breaches upheld", _n(a.upheld), _n(b.upheld)),
                    ("Not upheld (referred back)", _n(a.not_upheld), _n(b.not_upheld)),
                ],
            ),
            ("Allegations against staff: case age against the targets", ages),
            ("Allegation clocks that fell due", clocks),
            ("Low-level concerns (counts only)", [("Low-level concerns received", _n(a.low_level), _n(b.low_level))]),
            ("Referrals made", counts(F.REFERRAL_LABELS, a.referrals, b.referrals)),
            ("Take-down requests made, by where they stand", counts(F.TAKEDOWN_LABELS, a.takedowns, b.takedowns)),
        ]


def choose_term(calendar, slug: str, today: date) -> tuple[Term, bool]:
    """The term asked for by its key ("2026-spring"), or the current one; False if the key was not
    understood."""
    if slug:
        try:
            year, key = parse(slug)
        except ValueError:
            return calendar.containing(today), False
        if 2000 <= year <= today.year + 1:
            return calendar.term(year, key), True
        return calendar.containing(today), False
    return calendar.containing(today), True


def build(user, school, term: Term, *, calendar=None, now: datetime | None = None, stamp: tuple | None = None) -> Pack:
    """The pack: a fixed number of queries whatever the number of cases (both terms' figures in one
    set of statements, reporting/figures.terms_figures), none but the stamp's when all is kept
    (reporting/figures_cache.py). `stamp`: the school's, if the caller read it first."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    stamp = stamps.stamp(school.pk) if stamp is None else stamp
    calendar = calendar or kept_calendar(school, stamp)
    previous = calendar.previous(term)
    (months, series, this, before), kept_as = figures_cache.pack_figures(user, school, term, previous, now, stamp)
    # Today's policy in force and its acknowledgements: the same for every viewer of the school.
    policy = figures_cache.kept(("policy", school.pk, today, stamp), lambda: F.policy_state(school, today))
    return Pack(
        school=school,
        term=term,
        previous=previous,
        this=this,
        before=before,
        months=months,
        series=series,
        policy=policy,
        terms=calendar.recent(today),
        kept_as=kept_as,
        stamp=stamp,
    )


def kept_calendar(school, stamp: tuple):
    """The school's terms (reporting/terms.calendar_for), kept under its stamp (term dates move it)."""
    return figures_cache.kept(("calendar", school.pk, school.nation, stamp), lambda: calendar_for(school))


def upheld_page(user, school, term: Term, page_number, stamp: tuple | None = None) -> Page:
    """The breaches the board upheld in the term at `school`, among the cases `user` reads as a
    governor (under_review_for): none for a trust admin. The count and the page (its rows and its
    list items, `lines`: upheld_lines) are kept under the school's `stamp`
    (reporting/figures_cache.py; nothing here changes with time alone, and cited clauses move the
    stamp). Three queries when nothing is kept, none when all is."""
    stamp = stamps.stamp(school.pk) if stamp is None else stamp
    lo, hi = term.bounds

    def upheld():  # built only when something is worked out
        return (
            GovernorReview.objects.filter(decision=ReviewDecision.UPHOLD, decided_at__gte=lo, decided_at__lt=hi)
            .filter(
                Exists(
                    Incident.objects.under_review_for(user).filter(
                        pk=OuterRef("incident_id"), school=school, status=Status.CLOSED
                    )
                )
            )
            .exclude(incident__outcome__in=NON_BREACH_OUTCOMES)
            .order_by("decided_at", "pk")
            .values_list("incident_id", "incident__reference", "incident__outcome", "decided_at")
        )

    # What the list is made of: the viewer's rule (as SQL), the school and the term.
    written = (Incident.objects.written_rule("under_review_for", user), school.pk, lo, hi)
    count = figures_cache.kept(("upheld-count", written, stamp), lambda: upheld().count())
    page = Paginator(range(count), PAGE_SIZE).get_page(page_number)
    first = (page.number - 1) * PAGE_SIZE

    def rows_and_lines():
        rows = list(upheld()[first : first + PAGE_SIZE]) if count else []
        return rows, upheld_lines(rows)

    page.object_list, page.lines = figures_cache.kept(("upheld-page", page.number, written, stamp), rows_and_lines)
    return page


def upheld_lines(rows: list) -> str:
    """The upheld breaches' list items: reference (a link to the case), outcome, the clauses cited
    and when the board upheld it. One query for the clauses of every row; written in Python, as the
    case lists are (incidents/rows.py), with the markup the template wrote (tests/reporting)."""
    cited: dict[int, list[str]] = {}
    ordering = [f"clause__{name}" for name in Clause._meta.ordering]
    through = Incident.clauses.through.objects.filter(incident_id__in={row[0] for row in rows})
    for incident_id, ref in through.order_by(*ordering).values_list("incident_id", "clause__ref") if rows else ():
        cited.setdefault(incident_id, []).append(ref)
    url = rows_module.case_urls()

    def clauses(incident_id) -> str:
        refs = cited.get(incident_id)
        if not refs:
            return "no clause cited"
        return f"clause{pluralize(len(refs))} {', '.join(refs)}"

    return format_html_join(
        "",
        '<li><a href="{}">{}</a> — {}; {}; upheld {}</li>',
        (
            (
                url(reference),
                reference,
                rows_module.OUTCOME_LABELS.get(outcome, outcome),
                clauses(pk),
                rows_module.local_time(at),
            )
            for pk, reference, outcome, at in rows
        ),
    )
