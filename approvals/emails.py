"""The approvals' emails, one function per kind (registered in incidents.emails.MESSAGES).

Content-free like every PolicyHub email: what kind of thing it is, its number and a link. Never a
platform, a purpose, a pupil, a case reference or anyone's name.
"""

from django.conf import settings
from django.urls import reverse

from incidents.emails import message

FOOTER = "\nFor the details, sign in to PolicyHub. This email deliberately contains no details.\n"


def link(target) -> str:
    name = "approvals:account" if target._meta.model_name == "officialaccount" else "approvals:authorisation"
    return settings.SITE_URL.rstrip("/") + reverse(name, args=[target.pk])


def _message(notification, subject: str, lead: str, action: str = "Open it") -> tuple[str, str]:
    target = notification.target
    return f"PolicyHub: {subject}", f"{lead}\n\n{target.label}\n{action} here: {link(target)}\n{FOOTER}"


@message("approval_request")
def approval_request(notification):
    return _message(
        notification,
        "a request waiting for your decision",
        "A member of staff at your school has made a request that needs an approver's decision.",
        "Decide it",
    )


@message("approval_overdue")
def approval_overdue(notification):
    return _message(
        notification,
        "a request is past its decision date",
        "A request at your school has been waiting for a decision longer than the policy allows.",
        "Decide it",
    )


@message("approval_decided")
def approval_decided(notification):
    return _message(notification, "your request has been decided", "An approver has decided your request.")


@message("approval_expired")
def approval_expired(notification):
    return _message(
        notification,
        "an approval has expired",
        "An approval you were given has reached its end date. Ask again if you still need it.",
    )


@message("account_review_due")
def account_review_due(notification):
    return _message(
        notification,
        "an official account is due for its yearly review",
        "An official school account you run or approve is due for its yearly review.",
        "Review it",
    )


@message("account_admin_left")
def account_admin_left(notification):
    return _message(
        notification,
        "an official account needs a new administrator",
        "Someone who ran an official school account has left the school. Please name a replacement.",
        "Name one",
    )


@message("account_concern")
def account_concern(notification):
    return _message(
        notification,
        "a concern about an official account you run",
        "A concern has been reported "
        "about an official school account you run. The person handling it will contact you if "
        "they need you.",
        "See the account",
    )
