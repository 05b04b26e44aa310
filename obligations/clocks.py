"""What happens when a deadline on a declaration, training record or advice request falls due.

incidents/clocks.py sweeps and fires every Deadline; these effects are registered in its EFFECTS
table for the kinds that name an object of this app as `target`. Each runs inside the firing
transaction and sends content-free emails keyed by the deadline, so a second firing sends nothing."""

from incidents import clocks
from incidents.models import DeadlineKind
from incidents.notify import notify

from .models import AdviceStatus, DeclarationStatus


def _send(people, *, kind, deadline, target):
    for person in dict.fromkeys(people):
        if person.is_active:
            notify(
                recipient=person,
                kind=kind,
                key=f"deadline:{deadline.pk}:{kind}:{person.pk}",
                deadline=deadline,
                target=target,
            )


def _declaration_reconfirm(*, deadline, incident, now):
    declaration = deadline.target
    if declaration is None or declaration.status == DeclarationStatus.WITHDRAWN:
        return
    _send([declaration.declarer], kind="declaration_reconfirm", deadline=deadline, target=declaration)


def _training_expiry(*, deadline, incident, now):
    training = deadline.target
    if training is None:
        return
    _send([training.person], kind="training_expiry", deadline=deadline, target=training)


def _advice_answer(*, deadline, incident, now):
    advice = deadline.target
    if advice is None or advice.status != AdviceStatus.OPEN:
        return
    from accounts.models import Role

    heads = [m.user for m in advice.school.memberships.filter(role=Role.HEAD).select_related("user")]
    _send([h for h in heads if h.pk != advice.asker_id], kind="advice_overdue", deadline=deadline, target=advice)


clocks.EFFECTS.update(
    {
        DeadlineKind.DECLARATION_RECONFIRM: _declaration_reconfirm,
        DeadlineKind.TRAINING_EXPIRY: _training_expiry,
        DeadlineKind.ADVICE_ANSWER: _advice_answer,
    }
)
