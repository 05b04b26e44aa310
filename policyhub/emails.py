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
