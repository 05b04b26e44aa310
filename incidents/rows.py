"""The rows of the case lists (triage queue, my reports, governor reviews, the home page's and the
clause page's short lists, the person page) and the status and deadline badges, written in Python.

Why not templates: a list page renders up to 50 rows, and the template engine's per-row costs
(a `{% url %}` reverse() per row, an include with its own `{% load %}`, `get_*_display` walking the
choices, an inclusion tag per badge) were most of the page's CPU (docs/performance.md). Here a page
reverses the case URL once, labels come from dicts built once per process, and each row is one
format_html call, which escapes every value. Nothing is marked safe by hand but the queue's badges
and lines (`Badge.at`, `queue_lines`), which join pieces each escaped when it was written.

The markup is the one the templates wrote; tests/incidents/test_rows.py renders the old templates
(tests/fixtures/templates/old_rows/) beside these and compares them. The badges are also the case
pages' (template tags `status_badge` and `deadline_badge` in incident_tags.py): one place each.
Like the template tags, nothing here queries the database: a merged report's progress comes with
the list (selectors.with_survivor_state); a merged report fetched otherwise costs one query.
"""

from datetime import datetime
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote

from django.conf import settings
from django.template.defaultfilters import date as date_filter
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.html import conditional_escape, escape, format_html, format_html_join
from django.utils.safestring import SafeString

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


_URL_PARTS: dict[tuple, tuple[str, str]] = {}


def case_urls(url_name: str = "incidents:detail"):
    """A function reference -> the URL named `url_name` for that case (its page by default), with
    one reverse() per web process, URL configuration and script prefix, for all the page's rows or
    actions. References are canonical (letters, digits, hyphens), so quoting leaves them as reverse()
    would."""
    key = (url_name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    parts = _URL_PARTS.get(key)
    if parts is None:
        head, tail = reverse(url_name, args=[_PLACEHOLDER]).split(_PLACEHOLDER)
        parts = _URL_PARTS[key] = (head, tail)
    head, tail = parts
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
    tone, label, overdue = _due_state(due, now)
    return {
        "tone": tone,
        "label": label,
        "detail": f"{'was due' if overdue else 'due'} {format_local(due)}",
        "due_iso": due.isoformat(),
    }


def _due_state(due, now) -> tuple[str, SafeString, bool]:
    """(tone, label (escaped), overdue) of a waiting case due at `due`, at `now`: overdue from the very
    moment it is due; a warning under DUE_SOON_SECONDS; whole minutes, at least one."""
    left = (due - now).total_seconds()
    if left <= 0:
        return "danger", _label_of(max(1, int(-left // 60)), True), True
    return ("warning" if left < DUE_SOON_SECONDS else "info"), _label_of(max(1, int(left // 60)), False), False


@lru_cache(maxsize=8192)
def _label_of(minutes: int, overdue: bool) -> SafeString:
    """ "Overdue by 2 hours 5 minutes", "45 minutes left", escaped: the same few thousand texts, row
    after row."""
    text = format_duration(timezone.timedelta(minutes=minutes))
    return escape(f"Overdue by {text}" if overdue else f"{text} left")


_BADGE = '<span class="badge text-bg-{}">{}</span>'
_DETAIL = ' <span class="small text-body-secondary">{}</span>'


class Badge(NamedTuple):
    """A case's first-response badge, written as far as it can be before the moment it is shown:
    `fixed` is the whole badge when time does not change it (acknowledged, due time being worked
    out); otherwise the due time's pieces, escaped, and `at(now)` adds the tone and time left.
    Kept with the triage queue's rows (incidents/selectors.queue_page), so a kept page writes only
    what changes with the minute."""

    fixed: str
    due: datetime | None = None
    due_iso: str = ""
    due_detail: str = ""  # ' <span ...>due Tue 26 May 17:00</span>'
    late_detail: str = ""  # ' <span ...>was due Tue 26 May 17:00</span>'

    def at(self, now) -> SafeString:
        if self.due is None:
            return self.fixed
        tone, label, overdue = _due_state(self.due, now)
        detail = self.late_detail if overdue else self.due_detail
        # Every piece is escaped: the tone is one of three words, the label digits and units
        # (escaped all the same, by _label_of), the due time and its details were escaped by badge().
        # A format_html per row cost as much as the rest of the badge.
        return SafeString(  # nosec B703
            f'<span class="badge text-bg-{tone}" data-due="{self.due_iso}">{label}</span>{detail}'
        )


def badge(incident) -> Badge:
    """The first-response badge of a case (or of anything with its `status`, `acknowledged_at` and
    `response_due_at`), ready for `.at(now)`. The rule is deadline_parts'."""
    if incident.acknowledged_at is not None or incident.status != Status.SUBMITTED:
        return Badge(_ACKNOWLEDGED)
    due = incident.response_due_at
    if due is None:
        return Badge(_BEING_WORKED_OUT)
    when = format_local(due)
    return Badge(
        "",
        due,
        conditional_escape(due.isoformat()),
        format_html(_DETAIL, f"due {when}"),
        format_html(_DETAIL, f"was due {when}"),
    )


_ACKNOWLEDGED = format_html(_BADGE, "success", "Acknowledged")
_BEING_WORKED_OUT = format_html(_BADGE, "secondary", "Due time being worked out")


def deadline_badge(incident, now=None):
    """The first-response badge (deadline_parts), with `data-due` for the page's countdown script
    and the due time beside it."""
    return badge(incident).at(now or timezone.now())


_CHILD_AT_RISK = format_html('{}<span class="badge text-bg-danger">{}</span>', " ", "Child at risk")


# --- Table bodies ---------------------------------------------------------------------------------


def queue_row_parts(incidents, many_schools: bool) -> list[tuple[str, Badge]]:
    """The triage queue's rows as (markup up to the first-response cell, the case's badge made
    ready): all of a row but what changes with the minute (incidents/selectors.queue_page keeps
    these)."""
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
            badge(i),
        )
        for i in incidents
    ]


def queue_lines(parts: list[tuple[str, Badge]], now=None) -> SafeString:
    """The queue's rows (queue.html) from queue_row_parts, each with its badge as of `now`: pieces
    escaped when they were written, joined."""
    now = now or timezone.now()
    return SafeString("".join(f"{head}{kept.at(now)}</td></tr>" for head, kept in parts))  # nosec B703


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
