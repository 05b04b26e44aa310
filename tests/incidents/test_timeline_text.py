"""The case page's timeline says which status a case moved from and to, in the words the page uses."""

import re

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from incidents import services
from incidents.models import Status, TimelineEntry, TimelineKind
from tests.incidents.factories import fast_passwords, policy_for, report, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)


def _text(response) -> str:
    """The page as a reader sees it: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_transition_shows_both_statuses_by_their_labels(client, cast):
    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam)
    sign_in(client, cast.helen)
    assert client.post(reverse("incidents:acknowledge", args=[incident.reference])).status_code == 302

    text = _text(client.get(reverse("incidents:detail", args=[incident.reference])))
    assert "Status changed: Submitted → In triage" in text


def test_the_reporter_sees_the_same_status_line(client, cast):
    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam)
    services.incident_acknowledge(incident=incident, actor=cast.helen)
    sign_in(client, cast.sam)
    text = _text(client.get(reverse("incidents:detail", args=[incident.reference])))
    assert "Status changed: Submitted → In triage" in text


@pytest.mark.parametrize("field", ["from_status", "to_status"])
def test_the_database_refuses_a_status_that_does_not_exist(cast, field):
    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam)
    with pytest.raises(IntegrityError), transaction.atomic():
        TimelineEntry.objects.create(incident=incident, kind=TimelineKind.TRANSITION, **{field: "lost"})


def test_every_status_has_a_label_on_the_entry():
    entry = TimelineEntry(kind=TimelineKind.TRANSITION, from_status=Status.OUTCOME_PROPOSED, to_status=Status.CLOSED)
    assert (entry.get_from_status_display(), entry.get_to_status_display()) == ("Outcome proposed", "Closed")
