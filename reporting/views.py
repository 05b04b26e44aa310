"""The governors' termly pack (page, CSV, PDF) and the trust's view ([9]). Thin views: the figures
come from reporting/pack.py and reporting/figures.py; access is the page table (accounts/pages.py)
and, for the school, the schools where the person holds one of the page's roles."""

import csv

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.audit import record
from accounts.models import AuditAction
from accounts.pages import page, schools_for
from policyhub.views import csv_safe

from . import charts, figures, figures_cache, pack, pdf, stamps
from .terms import calendars_for

FIGURES = "reporting/_pack_figures.html"  # kept with the figures: nothing of the request in it
BODY = "reporting/_pack_body.html"  # kept with the figures, the person's schools and the address prefix
PACK = "incidents:termly_report"  # the pack keeps the termly report's name: links and tables use it


def _school(request, url_name: str):
    """The school asked for (?school=<id>) among those the person may report on, else the school
    they are working in (or their first). One they may not report on is a 404, as a missing one."""
    schools = sorted(schools_for(request.ctx, url_name), key=lambda s: s.name)
    if not schools:
        raise Http404
    asked = request.GET.get("school", "")
    if asked:
        found = next((s for s in schools if str(s.pk) == asked), None)
        if found is None:
            raise Http404
        return found, schools
    current = request.ctx.school
    return next((s for s in schools if current and s.pk == current.pk), schools[0]), schools


def _pack(request, url_name: str):
    school, schools = _school(request, url_name)
    stamp = stamps.stamp(school.pk)  # read first: it keys the calendar, the figures and the list
    calendar = pack.kept_calendar(school, stamp)
    term, understood = pack.choose_term(calendar, request.GET.get("term", ""), timezone.localdate())
    if not understood:
        messages.error(request, "That term was not recognised; showing the current term.")
    return pack.build(request.user, school, term, calendar=calendar, stamp=stamp), schools


def _filename(p: pack.Pack, ext: str) -> str:
    return f"governors-pack-{p.school.slug}-{p.term.slug}.{ext}"


def _audit(request, p: pack.Pack, fmt: str) -> None:
    record(
        AuditAction.EXPORT,
        request=request,
        actor=request.user,
        object_type="governors_pack",
        object_ref=f"{p.school.slug} {p.term.slug}",
        school_id=p.school.pk,
        detail={"format": fmt, "term": p.term.slug},
    )


def _figures_context(p: pack.Pack) -> dict:
    """What the figures' template shows: the pack's figures and terms, nothing else."""
    this = p.this
    outcome_rows = [(figures.OUTCOME_LABELS.get(k, k), n) for k, n in sorted(this.by_outcome.items())]
    return {
        "pack": p,
        "month_chart": charts.stacked_columns(
            "chart-months",
            f"Cases received per month, {p.term.label}, by category",
            p.months,
            p.series,
            "Stacked columns, one per month; the table after the chart gives the same figures.",
        ),
        "response_chart": charts.columns_with_line(
            "chart-response",
            f"Time to first response, {p.term.label}",
            this.bands,
            figures.RESPONSE_MARKS.index(24) + 1,
            "24-hour deadline",
            "Columns of cases by hours to their first response; a dashed line marks 24 hours. "
            "The table after the chart gives the same figures.",
        ),
        "outcome_chart": charts.bars(
            "chart-outcomes",
            f"Outcomes of the cases received, {p.term.label}",
            outcome_rows,
            "One bar per outcome; the table after the chart gives the same figures.",
        ),
        "outcome_rows": outcome_rows,
        # The month chart's figures, one row a month (a column a month would scroll sideways on a phone).
        "month_rows": [
            (month, sum(values[i] for _k, _l, values in p.series), [(lbl, v[i]) for _k, lbl, v in p.series if v[i]])
            for i, month in enumerate(p.months)
        ],
        "response_target": figures.RESPONSE_TARGET,
    }


@require_GET
@page(PACK)
def pack_page(request):
    p, schools = _pack(request, PACK)

    def body() -> str:
        figures_html = figures_cache.kept_html(p.kept_as, lambda: render_to_string(FIGURES, _figures_context(p)))
        query = f"school={p.school.pk}&term={p.term.slug}"
        return render_to_string(BODY, {"pack": p, "schools": schools, "query": query, "figures": figures_html})

    # What the body shows besides the figures' tag (which names the school, both terms, the stamp and
    # the day): the term's key, the school's nation (its usual term dates) and the person's schools.
    shown = (p.term.slug, p.school.nation, tuple((s.pk, s.name) for s in schools), get_script_prefix())
    context = {"body": figures_cache.kept(("pack-body", p.kept_as, timezone.localdate(), *shown), body)}
    # The upheld breaches by reference, for governors (under_review_for): empty for a trust admin.
    listing = pack.upheld_page(request.user, p.school, p.term, request.GET.get("page"), p.stamp)
    context.update({"page": listing, "total": p.this.upheld})
    return render(request, "reporting/pack.html", context)


@require_GET
@page("reporting:pack_csv")
def pack_csv(request):
    p, _schools = _pack(request, "reporting:pack_csv")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(p, "csv")}"'
    writer = csv.writer(response)
    writer.writerow(["School", "Section", "Figure", p.term.label, p.previous.label])
    for heading, rows in p.sections:
        for label, now_value, before_value in rows:
            writer.writerow([csv_safe(v) for v in (p.school.name, heading, label, now_value, before_value)])
    _audit(request, p, "csv")
    return response


@require_GET
@page("reporting:pack_pdf")
def pack_pdf(request):
    p, _schools = _pack(request, "reporting:pack_pdf")
    content = pdf.build(p, made_at=timezone.now())
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(p, "pdf")}"'
    _audit(request, p, "pdf")
    return response


@require_GET
@page("reporting:trust")
def trust(request):
    """Every school of the trust admin side by side, this term and the previous one."""
    schools = sorted(schools_for(request.ctx, "reporting:trust"), key=lambda s: s.name)
    today = timezone.localdate()
    calendars = calendars_for(schools)
    first = calendars[schools[0].pk] if schools else None
    slug = request.GET.get("term", "")
    chosen = None
    if first is not None:
        chosen, understood = pack.choose_term(first, slug, today)
        if not understood:
            messages.error(request, "That term was not recognised; showing the current term.")
    terms = {s.pk: calendars[s.pk].term(chosen.year, chosen.key) for s in schools} if chosen else {}
    previous = {pk: calendars[pk].previous(t) for pk, t in terms.items()}
    rows = figures.trust_rows(request.user, schools, terms, previous, today) if schools else []
    return render(
        request,
        "reporting/trust.html",
        {
            "rows": rows,
            "term": chosen,
            "terms": first.recent(today) if first else [],
            "target": figures.RESPONSE_TARGET,
            "below": [r for r in rows if r.below_target],
        },
    )
