from django import template
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q

from accounts.prepared import PreparedObjects
from approvals.models import AccountConcern, AccountStatus, OfficialAccount
from incidents.case_lists import present

register = template.Library()

# On every view of a case by its owners: written once (accounts/prepared.py).
_LINKED = PreparedObjects(
    lambda case: AccountConcern.objects.filter(incident=case).select_related("account").order_by("linked_at", "pk"), 1
)
_OPEN = PreparedObjects(lambda school: OfficialAccount.objects.filter(school=school, status=AccountStatus.OPEN), 1)


def accounts_presence() -> ExpressionWrapper:
    """Whether the section below has anything to show: the case is about an account, or its school
    has an open one (read with the case on its page: incidents.case_lists.presence). Each side on
    its own index."""
    about = Exists(AccountConcern.objects.filter(incident=OuterRef("pk")))
    open_here = Exists(OfficialAccount.objects.filter(school=OuterRef("school_id"), status=AccountStatus.OPEN))
    return ExpressionWrapper(Q(about) | Q(open_here), output_field=BooleanField())


@register.inclusion_tag("approvals/_case_account_form.html")
def case_account(incident):
    """On the owner's case page: the official accounts the case is about, and a form to name one.
    Two queries, whatever the school's size; none when the case read with its flags has nothing
    to show here (most schools have no official account)."""
    if not present(incident, "official_accounts"):
        return {"incident": incident, "linked": [], "choices": []}
    linked = _LINKED.objects(incident.pk, known={"incident": incident})
    taken = {c.account_id for c in linked}
    choices = [a for a in _OPEN.objects(incident.school_id) if a.pk not in taken]
    return {"incident": incident, "linked": linked, "choices": choices}
