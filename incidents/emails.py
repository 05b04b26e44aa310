"""One function per message. Each takes a Notification and returns (subject, body).

Notifications carry a reference, a category and a link: never the content of a report or the
names in it. They are registered in MESSAGES by kind.
"""

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.urls import reverse

from .deadlines import format_local

MESSAGES: dict[str, Callable] = {}


def message(kind: str):
    def register(fn):
        MESSAGES[kind] = fn
        return fn

    return register


def build(notification) -> tuple[str, str]:
    try:
        fn = MESSAGES[notification.kind]
    except KeyError:
        raise ValueError(f"No message is defined for notification kind {notification.kind!r}") from None
    return fn(notification)


def case_link(incident) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("incidents:detail", args=[incident.reference])


def _case_lines(incident) -> str:
    return f"Reference: {incident.reference}\nCategory: {incident.get_category_display()}\n"


def _case_message(incident, subject: str, lead: str, *, action: str = "Open it") -> tuple[str, str]:
    """The usual shape: the subject after the reference; a sentence; reference, category, link."""
    return (
        f"PolicyHub {incident.reference}: {subject}",
        f"{lead}\n\n{_case_lines(incident)}\n{action} here: {case_link(incident)}\n{FOOTER}",
    )


FOOTER = "\nFor the details, sign in to PolicyHub. This email deliberately contains no details of the report.\n"


@message("reminder")
def reminder(notification) -> tuple[str, str]:
    incident = notification.incident
    due = format_local(incident.response_due_at)
    return (
        f"PolicyHub {incident.reference}: first response due {due}",
        f"A report at your school is waiting for its first response.\n\n{_case_lines(incident)}"
        f"Due: {due}\n\nAcknowledge it here: {case_link(incident)}\n{FOOTER}",
    )


@message("escalation")
def escalation(notification) -> tuple[str, str]:
    incident = notification.incident
    due = format_local(incident.response_due_at)
    return (
        f"PolicyHub {incident.reference}: first response overdue",
        f"A report at your school was not acknowledged by its deadline ({due}) and has been escalated to you.\n\n"
        f"{_case_lines(incident)}\nOpen it here: {case_link(incident)}\n{FOOTER}",
    )


@message("escalation_trust")
def escalation_trust(notification) -> tuple[str, str]:
    incident = notification.incident
    link = settings.SITE_URL.rstrip("/") + reverse("home")
    return (
        f"PolicyHub {incident.reference}: a response deadline was missed at {incident.school.name}",
        f"A report at {incident.school.name} was not acknowledged by its deadline. The chair of governors "
        f"has been told.\n\n{_case_lines(incident)}\nTrust overview: {link}\n{FOOTER}",
    )


@message("lado_due")
def lado_due(notification) -> tuple[str, str]:
    incident = notification.incident
    return (
        f"PolicyHub {incident.reference}: LADO referral deadline passed",
        "A case on the allegation route has no LADO referral recorded, and the one-working-day deadline has "
        f"passed.\n\n{_case_lines(incident)}\nOpen it here: {case_link(incident)}\n{FOOTER}",
    )


@message("governor_review_due")
def governor_review_due(notification) -> tuple[str, str]:
    return _case_message(
        notification.incident,
        "governor review waiting",
        "A breach outcome is waiting for the board's review.",
        action="Review it",
    )


# --- The workflow's messages (incidents/services.py) ---------------------------------------------


@message("report_received")
def report_received(notification) -> tuple[str, str]:
    incident = notification.incident
    due = format_local(incident.response_due_at) if incident.response_due_at else "within the policy's window"
    return (
        f"PolicyHub {incident.reference}: new report for you to acknowledge",
        f"A new report at your school needs its first response.\n\n{_case_lines(incident)}Due: {due}\n\n"
        f"Open it here: {case_link(incident)}\n{FOOTER}",
    )


@message("dsl_alert")
def dsl_alert(notification) -> tuple[str, str]:
    return _case_message(
        notification.incident,
        "safeguarding report — please look now",
        "A report at your school may involve a child at risk, or is a safeguarding, Prevent or illegal-content "
        "concern. As designated safeguarding lead, please look at it now.",
        action="Open it",
    )


@message("acknowledged")
def acknowledged(notification) -> tuple[str, str]:
    return _case_message(
        notification.incident,
        "your report has been received",
        "Your report has been received and acknowledged.",
        action="Follow its progress",
    )


@message("governor_review")
def governor_review(notification) -> tuple[str, str]:
    return _case_message(
        notification.incident,
        "an outcome for the board to review",
        "A breach outcome has been referred to the governors for review.",
        action="Review it",
    )


@message("review_decided")
def review_decided(notification) -> tuple[str, str]:
    return _case_message(
        notification.incident,
        "the governors have decided",
        "The governors have reviewed the outcome of a case you own.",
        action="Open it",
    )


@message("case_rerouted")
def case_rerouted(notification) -> tuple[str, str]:
    return _case_message(
        notification.incident,
        "a case routed to you",
        "A case at your school has been routed to you as chair of governors: its subject now holds the head "
        "role, so no head teacher or DSL of the school can open it.",
        action="Open it",
    )


@message("trust_review")
def trust_review(notification) -> tuple[str, str]:
    return _case_message(
        notification.incident,
        "a governors' review for the trust to decide",
        "No governor without a conflict of interest remains to review a breach outcome at your school, so the "
        "trust decides it.",
        action="Review it",
    )


# --- Tasks on a case (incidents/assignments.py): the reference, "a task" and a link, never its title ---


def _task_message(notification, subject: str, lead: str) -> tuple[str, str]:
    incident = notification.incident
    due = ""
    if notification.deadline_id and notification.deadline.reason:
        # The deadline's reason starts "due Thu 3 Dec 17:00 — ...": the time only, no content.
        verb = "was" if notification.deadline.kind == "task_due" else "is"
        due = f"\nIt {verb} {notification.deadline.reason.split(' — ')[0]}.\n"
    return (
        f"PolicyHub {incident.reference}: {subject}",
        f"{lead}\n{due}\nReference: {incident.reference}\n\nOpen it here: {case_link(incident)}\n{FOOTER}",
    )


@message("task_assigned")
def task_assigned(notification) -> tuple[str, str]:
    return _task_message(notification, "a task for you", "You have been given a task on a case at your school.")


@message("task_reminder")
def task_reminder(notification) -> tuple[str, str]:
    return _task_message(notification, "a task is due soon", "A task given to you on a case is due soon.")


@message("task_overdue")
def task_overdue(notification) -> tuple[str, str]:
    return _task_message(
        notification,
        "a task is overdue",
        "A task given to you on a case has passed its due date. The case's owner has been told.",
    )


@message("task_escalation")
def task_escalation(notification) -> tuple[str, str]:
    return _task_message(notification, "a task is overdue", "A task on a case you own has passed its due date.")


@message("task_done")
def task_done(notification) -> tuple[str, str]:
    return _task_message(notification, "a task is done", "A task you gave on a case has been completed.")


@message("task_cancelled")
def task_cancelled(notification) -> tuple[str, str]:
    return _task_message(
        notification, "a task was cancelled", "A task given to you on a case was cancelled: you need do nothing more."
    )


@message("report_merged")
def report_merged(notification) -> tuple[str, str]:
    # Never the other case's reference, its reporter or anything about it (incidents/merging.py).
    return _case_message(
        notification.incident,
        "your report is being handled with a related report",
        "Your report is now being handled together with a related report. You can still follow it.",
        action="Follow its progress",
    )


# --- The reporter's channel (incidents/reporter_channel.py): a link, never the message ------------


def _thread_message(incident, subject: str, lead: str) -> tuple[str, str]:
    return (
        f"PolicyHub {incident.reference}: {subject}",
        f"{lead}\n\nReference: {incident.reference}\n\nRead it here: {case_link(incident)}#messages\n{FOOTER}",
    )


@message("message_for_reporter")
def message_for_reporter(notification) -> tuple[str, str]:
    return _thread_message(
        notification.incident, "a message about your report", "There is a new message about a report you made."
    )


@message("message_for_owner")
def message_for_owner(notification) -> tuple[str, str]:
    return _thread_message(
        notification.incident, "a message from the reporter", "The reporter of a case you handle has sent a message."
    )


@message("what_we_did")
def what_we_did(notification) -> tuple[str, str]:
    return _thread_message(
        notification.incident,
        "what was done about your report",
        "The school has written to tell you what was done about a report you made.",
    )


@message("takedown_no_action")
def takedown_no_action(notification) -> tuple[str, str]:
    hours = (notification.deadline.data or {}).get("hours", settings.TAKEDOWN_FOLLOW_UP_HOURS)
    return _case_message(
        notification.incident,
        "no action from the platform: consider escalating",
        f"A platform has not acted on a take-down request on a case you own within {hours} hours. Consider "
        "escalating it: the Professionals Online Safety Helpline (POSH), for staff, or Report Harmful Content. "
        "Record the escalation on the case.",
        action="Open it",
    )


# Allegation clocks (incidents/allegation_clocks.py): which clock, and when it was due; nothing more.
def _allegation_clock(notification) -> tuple[str, str]:
    deadline = notification.deadline
    due = datetime.fromisoformat(deadline.data["due_at"]) if "due_at" in deadline.data else deadline.due_at
    return deadline.get_kind_display().replace(" (allegation)", "").lower(), format_local(due)


@message("allegation_reminder")
def allegation_reminder(notification) -> tuple[str, str]:
    what, due = _allegation_clock(notification)
    return _case_message(notification.incident, f"{what} due {due}", f"On an allegation case, the {what} is due {due}.")


@message("allegation_overdue")
def allegation_overdue(notification) -> tuple[str, str]:
    what, due = _allegation_clock(notification)
    return _case_message(
        notification.incident,
        f"{what} overdue",
        f"On an allegation case, the {what} was due {due} and is not recorded yet.",
    )


@message("allegation_escalation")
def allegation_escalation(notification) -> tuple[str, str]:
    incident = notification.incident
    what, due = _allegation_clock(notification)
    link = settings.SITE_URL.rstrip("/") + reverse("home")
    return (
        f"PolicyHub {incident.reference}: {what} a working day overdue",
        f"On an allegation case at {incident.school.name}, the {what} was due {due} and is still not recorded. "
        f"Please take it up with the case manager.\n\n{_case_lines(incident)}\nPolicyHub: {link}\n{FOOTER}",
    )


@message("allegation_escalation_trust")
def allegation_escalation_trust(notification) -> tuple[str, str]:
    incident = notification.incident
    what, due = _allegation_clock(notification)
    link = settings.SITE_URL.rstrip("/") + reverse("home")
    return (
        f"PolicyHub {incident.reference}: an allegation deadline was missed at {incident.school.name}",
        f"On an allegation case at {incident.school.name}, the {what} was due {due} and is still not recorded. The "
        f"chair of governors has been told.\n\n{_case_lines(incident)}\nTrust overview: {link}\n{FOOTER}",
    )
