"""`{% timeline_rows %}`, `{% evidence_rows %}`, `{% message_rows %}`: the case page's repeated rows,
written in Python (incidents/case_rows.py) instead of a template loop."""

from django import template

from .. import case_rows

register = template.Library()


@register.simple_tag
def timeline_rows(entries, detailed=False):
    return case_rows.timeline_rows(entries, bool(detailed))


@register.simple_tag(takes_context=True)
def evidence_rows(context, items, detailed=False, withdraw_form=None):
    return case_rows.evidence_rows(items, bool(detailed), withdraw_form, context.get("csrf_token"))


@register.simple_tag
def message_rows(thread, detailed=False):
    return case_rows.message_rows(thread, bool(detailed))
