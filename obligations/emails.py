"""Emails about declarations, training and advice: what it is, a reference and a link, never what
was declared or asked (registered in incidents/emails.py MESSAGES by kind)."""

from django.conf import settings
from django.urls import reverse

from incidents.emails import FOOTER, message


def _link(name, *args) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


def _declaration(notification, subject, lead):
    declaration = notification.target
    link = _link("obligations:declaration", declaration.public_id)
    return (
        f"PolicyHub {declaration.reference}: {subject}",
        f"{lead}\n\nReference: {declaration.reference}\nSchool: {declaration.school.name}\n\n"
        f"Open it here: {link}\n{FOOTER}",
    )


@message("declaration_made")
def declaration_made(notification):
    return _declaration(
        notification,
        "a declaration to acknowledge",
        "A member of staff has made a declaration under the social-media policy.",
    )


@message("declaration_acknowledged")
def declaration_acknowledged(notification):
    return _declaration(notification, "your declaration was acknowledged", "Your declaration has been acknowledged.")


@message("declaration_reconfirm")
def declaration_reconfirm(notification):
    return _declaration(
        notification,
        "please confirm your declaration again",
        "A year has passed since you last confirmed this declaration. Confirm that it still "
        "stands, or say that it no longer applies.",
    )


@message("training_expiry")
def training_expiry(notification):
    training = notification.target
    link = _link("obligations:my_training")
    expires = f"{training.expires_on:%-d %B %Y}" if training.expires_on else "soon"
    return (
        f"PolicyHub: your {training.get_topic_display().lower()} training expires {expires}",
        f"Your {training.get_topic_display().lower()} training at {training.school.name} expires on {expires}. "
        f"Ask your head teacher about renewing it.\n\nYour training record: {link}\n{FOOTER}",
    )


def _advice(notification, subject, lead):
    advice = notification.target
    link = _link("obligations:advice", advice.public_id)
    return (
        f"PolicyHub {advice.reference}: {subject}",
        f"{lead}\n\nReference: {advice.reference}\nSchool: {advice.school.name}\n\nOpen it here: {link}\n{FOOTER}",
    )


@message("advice_asked")
def advice_asked(notification):
    return _advice(notification, "a question about the social-media policy", "A member of staff has asked for advice.")


@message("advice_answered")
def advice_answered(notification):
    return _advice(notification, "your question has been answered", "Your question has an answer.")


@message("advice_overdue")
def advice_overdue(notification):
    return _advice(
        notification,
        "a question is waiting for an answer",
        "A question from a member of staff has waited two working days for an answer.",
    )
