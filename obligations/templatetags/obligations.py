"""Template hooks other apps' pages use, so they need not import this app's models:
`{% case_declarations incident %}` on the owner's case page, `{% clause_faq clause %}` on a clause page."""

from django import template

from ..models import Declaration, DeclarationStatus

register = template.Library()


@register.inclusion_tag("obligations/_case_declarations.html")
def case_declarations(incident):
    """What the subject of the case has declared at the case's school ("declared on …"), for its owner."""
    if not incident.subject_id:
        return {"case_declarations": []}
    found = Declaration.objects.filter(declarer_id=incident.subject_id, school_id=incident.school_id).exclude(
        status=DeclarationStatus.WITHDRAWN
    )
    return {"case_declarations": list(found.order_by("declared_at"))}


@register.inclusion_tag("obligations/_clause_faq.html")
def clause_faq(clause):
    from ..views import published_for_clause

    return {"clause_faq": list(published_for_clause(clause))}
