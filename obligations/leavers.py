"""What a leaver leaves behind here: advice requests waiting for their answer as the school's only head."""

from django.urls import reverse

from accounts import leavers
from accounts.models import Role

from .models import AdviceRequest, AdviceStatus


@leavers.holding
def unanswered_advice(user, school):
    if not school.memberships.filter(user=user, role=Role.HEAD).exists():
        return []
    if school.memberships.filter(role=Role.HEAD).exclude(user=user).exists():
        return []  # another head answers them
    waiting = AdviceRequest.objects.filter(school=school, status=AdviceStatus.OPEN).order_by("asked_at")
    return [
        leavers.Holding(
            "Question waiting for an answer", a.reference, reverse("obligations:advice", args=[a.public_id])
        )
        for a in waiting
    ]
