"""The rows of the case lists (triage queue, my reports, governor reviews, the home page's and the
clause page's short lists, the person page) and the status and deadline badges, written in Python.

Why not templates: a list page renders up to 50 rows, and the template engine's per-row costs
(a `{% url %}` reverse() per row, an include with its own `{% load %}`, `get_*_display` walking the
choices, an inclusion tag per badge) were most of the page's CPU (docs/performance.md). Here a page
reverses the case URL once, labels come from dicts built once per process, and each row is one
format_html call, which escapes every value (nothing here is marked safe by hand).

The markup is the one the templates wrote; tests/incidents/test_rows.py renders the old templates
(tests/fixtures/templates/old_rows/) beside these and compares them. The badges are also the case
pages' (template tags `status_badge` and `deadline_badge` in incident_tags.py): one place each.
Like the template tags, nothing here queries the database: a merged report's progress comes with
the list (selectors.with_survivor_state); a merged report fetched otherwise costs one query.
"""

from datetime import datetime
from typing import NamedTuple
from urllib.parse import quote

from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from . import merging
from .deadlines import format_duration, format_local
from .models import Category, Outcome, Route, Severity, Status

DUE_SOON_SECONDS = 4 * 3600  # static/js/deadline-badge.js uses the same threshold

# Labels by value, built once per process (get_FOO_display builds its dict on every call). A value
# that is not a choice shows as itself, as get_FOO_display does.
CATEGORY_LABELS = dict(Category.choices)
STATUS_LABELS = dict(Status.choices)
SEVERITY_LABELS = dict(Severity.choices)
OUTCOME_LABELS = dict(Outcome.choices)
ROUTE_LABELS = dict(Route.choices)

# A canonical reference (incidents/references.py: the shape and the check character), reversed once
# per page; each row's reference replaces it.
_PLACEHOLDER = "X-ZZZZ-ZZZJ"
_NO_VALUE = "—"


def _label(labels: dict, value):
    return labels.get(value, value)


def case_url(reference: str) -> str:
    """The case page's URL for one reference, as `{% url 'incidents:detail' reference %}`."""
    return case_urls()(reference)


def case_urls():
    """A function reference -> case page URL, with one reverse() for all the page's rows. References
    are canonical (letters, digits, hyphens), so quoting leaves them as reverse() would."""
    head, tail = reverse("incidents:detail", args=[_PLACEHOLDER]).split(_PLACEHOLDER)
    return lambda reference: f"{head}{quote(reference, safe='')}{tail}"


def local_time(value) -> str:
    """ "Tue 26 May 17:00" in Europe/London; "" for no time (the `local_time` filter)."""
    return format_local(value) if value else ""


# --- Badges ---------------------------------------------------------------------------------------


def _status_pill(status) -> str:
    if status == Status.CLOSED:
        tone = "secondary"
    elif status == Status.SUBMITTED:
        tone = "warning"
    else:
        tone = "primary"
    return format_html('<span class="badge rounded-pill text-bg-{}">{}</span>', tone, _label(STATUS_LABELS, status))


# Every status's pill, written once per process (the pill depends on the status alone).
_STATUS_PILLS = {status: _status_pill(status) for status in Status.values}


def status_badge(incident):
    """The case's status as a pill. A merged report shows its survivor's progress only (all its
    reporter may know of the other case): read with the list, or one query."""
    if incident.status == Status.MERGED:
        progress = merging.progress(incident)
        tone = "secondary" if progress == "Resolved" else "primary"
        return format_html('<span class="badge rounded-pill text-bg-{}">{}</span>', tone, progress)
    pill = _STATUS_PILLS.get(incident.status)
    return pill if pill is not None else _status_pill(incident.status)


def deadline_parts(incident, now=None) -> dict:
    """Time left or overdue for the first response; "acknowledged" once the clock stopped.
    `due_iso` lets static/js/deadline-badge.js count down on the page."""
    now = now or timezone.now()
    due = incident.response_due_at
    if incident.acknowledged_at is not None or incident.status != Status.SUBMITTED:
        return {"tone": "success", "label": "Acknowledged", "detail": ""}
    if due is None:
        return {"tone": "secondary", "label": "Due time being worked out", "detail": ""}
    left = due - now
    if left.total_seconds() <= 0:
        late = format_duration(_minutes(-left))
        return {
            "tone": "danger",
            "label": f"Overdue by {late}",
            "detail": f"was due {format_local(due)}",
            "due_iso": due.isoformat(),
        }
    tone = "warning" if left.total_seconds() < DUE_SOON_SECONDS else "info"
    return {
        "tone": tone,
        "label": f"{format_duration(_minutes(left))} left",
        "detail": f"due {format_local(due)}",
        "due_iso": due.isoformat(),
    }


def _minutes(delta):
    return timezone.timedelta(minutes=max(1, int(delta.total_seconds() // 60)))


_BADGE = '<span class="badge text-bg-{}">{}</span>'
_DUE_BADGE = '<span class="badge text-bg-{}" data-due="{}">{}</span>'
_DETAIL = ' <span class="small text-body-secondary">{}</span>'


def deadline_badge(incident, now=None):
    """The first-response badge (deadline_parts), with `data-due` for the page's countdown script
    and the due time beside it. One format_html call."""
    parts = deadline_parts(incident, now)
    due_iso, detail = parts.get("due_iso"), parts["detail"]
    if due_iso:
        if detail:
            return format_html(_DUE_BADGE + _DETAIL, parts["tone"], due_iso, parts["label"], detail)
        return format_html(_DUE_BADGE, parts["tone"], due_iso, parts["label"])
    if detail:
        return format_html(_BADGE + _DETAIL, parts["tone"], parts["label"], detail)
    return format_html(_BADGE, parts["tone"], parts["label"])


_CHILD_AT_RISK = format_html('{}<span class="badge text-bg-danger">{}</span>', " ", "Child at risk")


# --- Table bodies ---------------------------------------------------------------------------------


class Clock(NamedTuple):
    """What a case's first-response badge is worked out from (deadline_parts reads these)."""

    status: str
    acknowledged_at: datetime | None
    response_due_at: datetime | None


def queue_row_parts(incidents, many_schools: bool) -> list[tuple[str, Clock]]:
    """The triage queue's rows as (markup up to the first-response cell, the case's clock): all of a
    row but its badge, which changes with the minute (incidents/selectors.queue_page keeps these)."""
    school = "<td>{}</td>" if many_schools else "{}"
    row = '<tr><th scope="row"><a href="{}">{}</a></th>' + school + "<td>{}{}</td><td>{}</td><td>{}</td><td>"
    url = case_urls()
    return [
        (
            format_html(
                row,
                url(i.reference),
                i.reference,
                i.school.name if many_schools else "",
                _label(CATEGORY_LABELS, i.category),
                _CHILD_AT_RISK if i.child_at_risk else "",
                _label(SEVERITY_LABELS, i.severity) or _NO_VALUE,
                status_badge(i),
            ),
            Clock(i.status, i.acknowledged_at, i.response_due_at),
        )
        for i in incidents
    ]


def queue_lines(parts: list[tuple[str, Clock]], now=None):
    """The queue's rows (queue.html) from queue_row_parts, each with its badge as of `now`."""
    now = now or timezone.now()
    return format_html_join("", "{}{}</td></tr>", ((head, deadline_badge(clock, now)) for head, clock in parts))


def my_report_rows(incidents):
    """A reporter's own reports (my_reports.html)."""
    url = case_urls()
    return format_html_join(
        "",
        '<tr><th scope="row"><a href="{}">{}</a></th><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                url(i.reference),
                i.reference,
                _label(CATEGORY_LABELS, i.category),
                local_time(i.received_at),
                status_badge(i),
            )
            for i in incidents
        ),
    )


_WAITING = format_html('<span class="badge text-bg-warning">{}</span>', "Waiting for your review")
_UPHELD = format_html('<span class="badge text-bg-secondary">{}</span>', "Upheld, closed")


def review_rows(incidents):
    """The governors' list (reviews.html): waiting for the board, or upheld and closed."""
    url = case_urls()
    return format_html_join(
        "",
        '<tr><th scope="row"><a href="{}">{}</a></th><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                url(i.reference),
                i.reference,
                _label(CATEGORY_LABELS, i.category),
                _label(OUTCOME_LABELS, i.outcome) or _NO_VALUE,
                _WAITING if i.status == Status.GOVERNOR_REVIEW else _UPHELD,
            )
            for i in incidents
        ),
    )


# --- Short lists ----------------------------------------------------------------------------------


def home_report_items(incidents):
    """The home page's "My reports" card: reference and status, no badge."""
    url = case_urls()
    return format_html_join(
        "",
        '<li><a href="{}">{}</a> · {}</li>',
        ((url(i.reference), i.reference, _label(STATUS_LABELS, i.status)) for i in incidents),
    )


def citing_items(incidents):
    """The clause page's cases citing the clause (policyhub/_clause_incidents.html)."""
    url = case_urls()
    return format_html_join(
        "",
        '<li><a href="{}">{}</a> · {} · {} · {}</li>',
        (
            (
                url(i.reference),
                i.reference,
                _label(CATEGORY_LABELS, i.category),
                _label(STATUS_LABELS, i.status),
                date_filter(timezone.localtime(i.received_at), "j M Y"),  # as `|date` (local time)
            )
            for i in incidents
        ),
    )


def person_items(incidents, low_level: bool):
    """The person page's two lists (person.html): low-level concerns with the day they came in, the
    other cases with their route."""
    url = case_urls()

    def third(incident):
        if low_level:
            return local_time(incident.received_at)
        return _label(ROUTE_LABELS, incident.route) or "not yet triaged"

    return format_html_join(
        "",
        '<li><a href="{}">{}</a> — {}, {}, {}</li>',
        (
            (
                url(i.reference),
                i.reference,
                _label(CATEGORY_LABELS, i.category),
                third(i),
                _label(STATUS_LABELS, i.status),
            )
            for i in incidents
        ),
    )
