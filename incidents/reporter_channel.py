"""The reporter's channel ([8] item 3): messages between a case's reporter and its owners.

Three actions of incidents/transitions.TABLE write here:
- `message_reporter`: an owner (head, DSL, the chair when the case is theirs) writes to the reporter;
- `message_owner`: the reporter writes to the case's owners, while the case is open and for
  REPORTER_WINDOW_DAYS after it was last closed (after that, a new concern is a new report);
- `what_we_did`: the owner tells the reporter, once the case is closed, what was done (one account
  per closing; a later word is a message).

What each side reads (the pages call `thread_for_owner` / `thread_for_reporter`): the owners read
the whole thread of the case with names; the reporter reads the messages of their own thread
(`reporter=` them), with no names on the school's side. Each message writes an internal timeline
entry naming it, without its text. Emails carry the reference and a link, never the text
(incidents/emails.py), and are never sent to the subject (incidents/notify.py refuses).
Named reporter_channel, not messages: views import django.contrib.messages as `messages`.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User

from . import access, case_lists
from .errors import Invalid
from .models import MESSAGE_MAX_LENGTH, CaseMessage, Incident, MessageKind, TimelineEntry, TimelineKind
from .notify import notify
from .reporter_channel_rules import reporter_window_open
from .transitions import OWNERS, check

log = logging.getLogger(__name__)

TIMELINE_NOTES = {
    MessageKind.TO_REPORTER: "Message to the reporter.",
    MessageKind.TO_OWNER: "Message from the reporter.",
    MessageKind.WHAT_WE_DID: "“What we did” sent to the reporter.",
}


# --- Services ------------------------------------------------------------------------------------


def clean_body(body: str) -> str:
    """The message as sent: surrounding blank space removed; empty or too long is refused."""
    body = (body or "").strip()
    if not body:
        raise Invalid("Please write your message. Nothing was sent.")
    if len(body) > MESSAGE_MAX_LENGTH:
        raise Invalid(
            f"Please keep your message to {MESSAGE_MAX_LENGTH} characters (it has {len(body)}). Nothing was sent."
        )
    return body


def _locked(incident: Incident) -> Incident:
    """The case's row, locked (the order incidents/services.py locks in) and read afresh: a message
    is checked against the case as it is now (closed meanwhile, the reporter's window passed)."""
    return Incident.objects.select_for_update().select_related("reporter").get(pk=incident.pk)


def _write(incident: Incident, actor, kind: str, body: str, now: datetime) -> CaseMessage:
    message = CaseMessage.objects.create(
        incident=incident, reporter=incident.reporter, author=actor, kind=kind, body=body, sent_at=now
    )
    # Internal: the owners' timeline says a message was exchanged; its text lives in the thread only.
    TimelineEntry.objects.create(
        incident=incident,
        actor=actor,
        kind=TimelineKind.WHAT_WE_DID if kind == MessageKind.WHAT_WE_DID else TimelineKind.MESSAGE,
        note=TIMELINE_NOTES[kind],
        internal=True,
        data={"message": message.pk, "kind": kind},
    )
    log.info("Incident %s: %s message %s by user %s", incident.reference, kind, message.pk, actor.pk)
    return message


def _tell_reporter(incident: Incident, message: CaseMessage, email_kind: str, actor) -> None:
    reporter = incident.reporter
    if reporter.pk == actor.pk or not reporter.is_active:
        return
    notify(recipient=reporter, kind=email_kind, key=f"message:{message.pk}:{reporter.pk}", incident=incident)


def owners_of(incident: Incident) -> list:
    """Everyone who holds an owner's relation to the case now (head, DSL, the chair when it is
    theirs), read through incidents/access.py: so the guards hold (never the subject; on a case
    about a head, no head or DSL of the school)."""
    candidates = (
        User.objects.filter(
            is_active=True,
            memberships__school_id=incident.school_id,
            # Only these roles give an owner's relation (access.RELATIONS): the rest of the staff
            # are not asked one by one.
            memberships__role__in=(Role.HEAD, Role.CHAIR, Role.DSL),
        )
        .exclude(pk=incident.subject_id or 0)
        .distinct()
        .order_by("pk")
    )
    return [person for person in candidates if access.relation_roles(person, incident) & OWNERS]


def message_reporter(*, incident: Incident, actor, body: str, now: datetime | None = None) -> CaseMessage:
    """An owner writes to the case's reporter, at any stage (the reporter is emailed a link)."""
    body = clean_body(body)
    now = now or timezone.now()
    with transaction.atomic():
        incident = _locked(incident)
        check(actor, incident, "message_reporter")
        message = _write(incident, actor, MessageKind.TO_REPORTER, body, now)
        _tell_reporter(incident, message, "message_for_reporter", actor)
    return message


def message_owner(*, incident: Incident, actor, body: str, now: datetime | None = None) -> CaseMessage:
    """The reporter writes to the case's owners (each is emailed a link), while the case is open and
    for REPORTER_WINDOW_DAYS after it closes."""
    body = clean_body(body)
    now = now or timezone.now()
    with transaction.atomic():
        incident = _locked(incident)
        check(actor, incident, "message_owner")  # the window, against the clock (a requirement of the row)
        problem = reporter_window_open(incident, now)  # and against `now` when a caller gives it
        if problem:
            raise Invalid(problem)
        message = _write(incident, actor, MessageKind.TO_OWNER, body, now)
        for person in owners_of(incident):
            if person.pk != actor.pk:
                notify(
                    recipient=person,
                    kind="message_for_owner",
                    key=f"message:{message.pk}:{person.pk}",
                    incident=incident,
                )
    return message


def what_we_did(*, incident: Incident, actor, body: str, now: datetime | None = None) -> CaseMessage:
    """The owner closes the loop: a short account, for the reporter, of what was done. Once the case
    is closed, one per closing (reopened and closed again, another may be written)."""
    body = clean_body(body)
    now = now or timezone.now()
    with transaction.atomic():
        incident = _locked(incident)
        check(actor, incident, "what_we_did")
        message = _write(incident, actor, MessageKind.WHAT_WE_DID, body, now)
        _tell_reporter(incident, message, "what_we_did", actor)
    return message


# --- What each side reads ------------------------------------------------------------------------


def thread_for_owner(incident: Incident) -> list[CaseMessage]:
    """The whole thread of the case, with who wrote each message (one query, whatever its length)."""
    return case_lists.messages(incident)


def thread_for_reporter(incident: Incident, user) -> list[CaseMessage]:
    """The reporter's own thread on the case: their messages and those written for them. Never
    another reporter's, never who on the school's side wrote (the page says "the school")."""
    return list(CaseMessage.objects.filter(incident=incident, reporter=user))
