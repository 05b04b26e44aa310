"""The read event of a case page names the case by its database id. The view that fetched the case
hands the id to the audit (accounts.audit_reads.fetched), so the event costs no second look-up; a
refusal (the view found nothing it may show) still looks the reference up, so the refused event names
the case too."""

import dataclasses

import pytest
from django.test import Client
from django.urls import reverse

from accounts import case_lookups
from accounts.models import AuditAction, AuditEvent
from tests.incidents.factories import IncidentFactory, fast_passwords, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)


@pytest.fixture
def looked_up(monkeypatch):
    """The references the audit looked up itself."""
    seen = []
    registry = case_lookups.lookups()
    real = registry.case_of_reference
    watched = dataclasses.replace(
        registry, case_of_reference=lambda reference: seen.append(reference) or real(reference)
    )
    monkeypatch.setattr(case_lookups, "_registered", watched)
    return seen


def _events(case):
    return list(AuditEvent.objects.filter(object_type="incident", object_ref=case.reference).order_by("pk"))


def test_a_case_page_names_the_case_the_view_fetched_without_looking_it_up(cast, looked_up):
    case = IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    head = Client()
    sign_in(head, cast.helen)
    assert head.get(reverse("incidents:detail", args=[case.reference])).status_code == 200
    [event] = _events(case)
    assert (event.action, event.object_id, event.actor_id) == (AuditAction.VIEW, str(case.pk), cast.helen.pk)
    assert event.detail["incident"] == case.pk
    assert looked_up == []


def test_a_refusal_still_names_the_case_it_refused(cast, looked_up):
    case = IncidentFactory(school=cast.oakfield, reporter=cast.sam, owner=cast.helen)
    other_head = Client()
    sign_in(other_head, cast.olive)
    assert other_head.get(reverse("incidents:detail", args=[case.reference])).status_code == 404
    [event] = _events(case)
    assert (event.action, event.object_id, event.actor_id) == (AuditAction.REFUSED, str(case.pk), cast.olive.pk)
    assert looked_up == [case.reference]
