"""Template filters for linked and merged reports (incidents/merging.py)."""

from django import template

from .. import merging

register = template.Library()


@register.filter
def merged_progress(incident) -> str:
    """A merged report's status as its reporter may read it: the survivor's progress only."""
    return merging.progress(incident)
