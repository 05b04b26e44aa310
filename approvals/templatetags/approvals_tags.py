from django import template

from approvals.models import AccountConcern, AccountStatus, OfficialAccount

register = template.Library()


@register.inclusion_tag("approvals/_case_account_form.html")
def case_account(incident):
    """On the owner's case page: the official accounts the case is about, and a form to name one.
    Two queries, whatever the school's size."""
    linked = list(
        AccountConcern.objects.filter(incident=incident).select_related("account").order_by("linked_at", "pk")
    )
    taken = {c.account_id for c in linked}
    choices = [
        a
        for a in OfficialAccount.objects.filter(school_id=incident.school_id, status=AccountStatus.OPEN)
        if a.pk not in taken
    ]
    return {"incident": incident, "linked": linked, "choices": choices}
