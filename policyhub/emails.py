"""Policy emails, one function per message. They carry a link, never policy text or anyone's name."""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse


def acknowledgement_reminder(*, user, version) -> None:
    """Ask a staff member to read and acknowledge the policy version now in force."""
    link = settings.SITE_URL.rstrip("/") + reverse("policy:page")
    send_mail(
        subject="Please read and acknowledge the staff social-media policy",
        message=(
            "A new version of your school's staff social-media policy is in force.\n\n"
            f"Please read it and confirm that you have: {link}\n\n"
            "You will be reminded every few days until you have acknowledged it.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )
