"""Template helpers for incidents. They format what the view gives them and run no queries: lists,
counts and figures are fetched by incidents/selectors.py, through the queryset rules in
incidents/models.py (visible_to, owned_by, under_review_for, counted_for). The list rows and the
badges are written in incidents/rows.py (one place for each badge's markup)."""

from functools import cache

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.template.loader import render_to_string

from incidents import rows
from incidents.forms import QueueFilterForm
from policyhub.templatetags.plain_crispy import current_locale

register = template.Library()


@register.filter
def local_time(value):
    """ "Tue 26 May 17:00" in Europe/London, the way deadlines are written everywhere."""
    return rows.local_time(value)


@register.filter
def due_why(reason):
    """A deadline's reason without its leading "due <time> — " (deadlines.py writes every reason that
    way): for pages that have just said the due time, so it is not said twice in one sentence."""
    head, sep, rest = (reason or "").partition(" — ")
    return rest if sep and head.startswith("due ") else reason


@register.simple_tag
def deadline_badge(incident, now=None):
    """Time left or overdue for the first response; "acknowledged" once the clock stopped."""
    return rows.deadline_badge(incident, now)


@register.simple_tag(takes_context=True)
def action_card(context, panel):
    """An action's card without a partial of its own (incidents/views._Panel.card: _action.html,
    written in Python), with the CSRF field Django's {% csrf_token %} writes: written once for the
    cards of one list (the render context of the template that lists them), as the token is one."""
    state = context.render_context
    if _CSRF_FIELD not in state:
        state[_CSRF_FIELD] = CsrfTokenNode().render(context)
    return panel.card(state[_CSRF_FIELD])


_CSRF_FIELD = object()  # action_card's key in the render context


@register.simple_tag
def queue_filters(filters):
    """The triage queue's filters (incidents/_queue_filters.html). `filters` None, when the view was
    asked for none (the queue as it opens, and its other pages): the unbound form, written once per
    web process, language and time zone; building and writing its three selects was a tenth of the
    queue's time (docs/performance.md)."""
    if filters is not None:
        return render_to_string(_QUEUE_FILTERS, {"filters": filters})
    return _unfiltered(current_locale())


_QUEUE_FILTERS = "incidents/_queue_filters.html"


@cache
def _unfiltered(_locale) -> str:
    """The unbound filter form's markup, in the language and time zone `_locale` names."""
    return render_to_string(_QUEUE_FILTERS, {"filters": QueueFilterForm()})


@register.simple_tag
def status_badge(incident):
    """The case's status pill (a merged report: its survivor's progress only)."""
    return rows.status_badge(incident)


# One tag per list: the rows of the whole table body or list, written in Python (incidents/rows.py).
for _rows in (
    rows.home_report_items,
    rows.citing_items,
    rows.person_items,
):
    register.simple_tag(_rows)
