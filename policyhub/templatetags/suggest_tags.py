"""The triage form's clause list: suggested clauses first, the rest collapsed by section."""

from django import template

from policyhub.suggest import clause_picker as build_picker

register = template.Library()


@register.inclusion_tag("policyhub/_clause_picker.html")
def clause_picker(bound_field, *texts):
    """`{% clause_picker form.clauses incident.description incident.get_category_display %}`: the
    texts are what the concern says; they rank the clauses and are not stored or logged."""
    return {"picker": build_picker(bound_field, "\n".join(str(t) for t in texts if t))}
