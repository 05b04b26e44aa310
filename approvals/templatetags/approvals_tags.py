from django import template

from accounts.prepared import PreparedObjects
from approvals.models import AccountConcern, AccountStatus, OfficialAccount

register = template.Library()

# On every view of a case by its owners: written once (accounts/prepared.py).
_LINKED = PreparedObjects(
    lambda case: AccountConcern.objects.filter(incident=case).select_related("account").order_by("linked_at", "pk"), 1
)
_OPEN = PreparedObjects(lambda school: OfficialAccount.objects.filter(school=school, status=AccountStatus.OPEN), 1)


@register.inclusion_tag("approvals/_case_account_form.html")
def case_account(incident):
    """On the owner's case page: the official accounts the case is about, and a form to name one.
    Two queries, whatever the school's size."""
    linked = _LINKED.objects(incident.pk, known={"incident": incident})
    taken = {c.account_id for c in linked}
    choices = [a for a in _OPEN.objects(incident.school_id) if a.pk not in taken]
    return {"incident": incident, "linked": linked, "choices": choices}
