"""The deadline badge's inclusion tag as it was before incidents/rows.py, for the old-markup fixtures
of tests/incidents/test_rows.py (tests/fixtures/templates/old_rows/). The badge's wording comes from
rows.deadline_parts, moved unchanged out of the old tag; the markup is the old template's."""

from django import template

from incidents.rows import deadline_parts

register = template.Library()


@register.inclusion_tag("old_rows/_deadline_badge.html")
def old_deadline_badge(incident, now=None):
    return deadline_parts(incident, now)
