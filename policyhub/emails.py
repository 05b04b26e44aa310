"""Policy emails, one function per message. They carry a link, never policy text or anyone's name.

Like case emails they are Notification rows, sent by incidents/notify.py (retries, fixed Message-IDs);
each function here builds a message from its row and is registered by kind (PolicyhubConfig.ready).
"""

from django.conf import settings
from django.urls import reverse

from incidents.emails import message

ACKNOWLEDGEMENT_REMINDER = "policy_ack_reminder"


@message(ACKNOWLEDGEMENT_REMINDER)
def acknowledgement_reminder(notification) -> tuple[str, str]:
    """Ask a staff member to read and acknowledge the policy version now in force."""
    link = settings.SITE_URL.rstrip("/") + reverse("policy:page")
    return (
        "Please read and acknowledge the staff social-media policy",
        "A new version of your school's staff social-media policy is in force.\n\n"
        f"Please read it and confirm that you have: {link}\n\n"
        "You will be reminded every few days until you have acknowledged it.\n",
    )


def _version_link(notification) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("policy:version", args=[notification.target_id])


@message("policy_review_soon")
def policy_review_soon(notification) -> tuple[str, str]:
    """Before a version's next review date (policyhub/review.py): to the heads, and the trust admins
    of a model policy."""
    return (
        "PolicyHub: the staff social-media policy is due for review soon",
        "The staff social-media policy you answer for reaches its next review date soon.\n\n"
        f"Review it, then record the review or publish a new version: {_version_link(notification)}\n",
    )


@message("policy_review_overdue")
def policy_review_overdue(notification) -> tuple[str, str]:
    return (
        "PolicyHub: the staff social-media policy is overdue for review",
        "The next review date of the staff social-media policy you answer for has passed without a review.\n\n"
        f"Review it, then record the review or publish a new version: {_version_link(notification)}\n",
    )
