"""Template hooks other apps' pages use, so they need not import this app's models:
`{% case_declarations incident %}` on the owner's case page, `{% clause_faq clause %}` on a clause page."""

from django import template
from django.db.models import Q

from ..models import AdviceRequest, Declaration, DeclarationStatus

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
    return {"clause_faq": list(published_for_clause(clause))}


def published_for_clause(clause):
    """Published questions on this clause, or on the clause with the same number in another version of
    the same policy (a question stays with its clause when the policy is revised)."""
    return (
        AdviceRequest.objects.filter(published_at__isnull=False)
        .filter(Q(clauses=clause) | Q(clauses__ref=clause.ref, clauses__version__policy_id=clause.version.policy_id))
        .distinct()
        .order_by("-published_at")[:20]
    )
