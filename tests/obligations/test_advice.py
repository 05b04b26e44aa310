"""Advice requests ([10] item 4): staff ask the head; the answer cites clauses; the head may publish
a reworded question and answer on those clauses, never naming who asked."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from incidents import clocks
from incidents.models import Deadline, DeadlineKind, DeadlineState, Notification
from incidents.notify import notification_send
from obligations import services
from obligations.models import AdviceRequest, AdviceStatus
from tests.incidents.clock_helpers import received
from tests.policyhub.policy_data import sign_in, trust_policy

pytestmark = pytest.mark.django_db
QUESTION = "CANARY may I post photos of my own children at sports day?"


@pytest.fixture
def version(cast):
    return trust_policy(cast)


def _ask(cast, at="2025-11-21 10:00"):  # a Friday
    return services.ask_advice(asker=cast.sam, school=cast.oakfield, question=QUESTION, now=received(at))


def _send_all():
    for n in Notification.objects.filter(sent_at__isnull=True):
        notification_send(notification_id=n.pk)


def test_a_question_is_due_in_two_working_days_and_the_sweep_reminds_the_head(cast, version):
    advice = _ask(cast)
    deadline = Deadline.objects.get(kind=DeadlineKind.ADVICE_ANSWER)
    assert deadline.target == advice
    assert deadline.due_at == received("2025-11-25 17:00")  # Friday -> Monday -> Tuesday, close of business
    assert clocks.deadlines_sweep(now=deadline.due_at) == 1
    _send_all()
    assert sorted(m.to[0] for m in mail.outbox) == [cast.helen.email, cast.helen.email]  # asked, then overdue
    assert all(QUESTION not in m.body and "sports" not in m.subject for m in mail.outbox)


def test_an_answer_cites_clauses_stops_the_clock_and_tells_the_asker(cast, version):
    advice = _ask(cast)
    clause = version.clauses.get(ref="1.1")
    services.answer_advice(actor=cast.helen, advice=advice, answer="Yes, with care.", clauses=[clause])
    advice.refresh_from_db()
    assert advice.status == AdviceStatus.ANSWERED and list(advice.clauses.all()) == [clause]
    assert Deadline.objects.get(kind=DeadlineKind.ADVICE_ANSWER).state == DeadlineState.DONE
    _send_all()
    assert cast.sam.email in [m.to[0] for m in mail.outbox]


def test_the_asker_and_other_staff_cannot_answer_and_nothing_changes(cast, version):
    advice = _ask(cast)
    for who in (cast.sam, cast.dina, cast.olive):
        with pytest.raises(PermissionDenied):
            services.answer_advice(actor=who, advice=advice, answer="x", clauses=[])
    advice.refresh_from_db()
    assert advice.status == AdviceStatus.OPEN


def test_publishing_needs_a_clause_and_refuses_text_that_names_the_asker(cast, version):
    advice = _ask(cast)
    services.answer_advice(actor=cast.helen, advice=advice, answer="Yes.", clauses=[])
    with pytest.raises(ValidationError, match="clause"):
        services.publish_advice(actor=cast.helen, advice=advice, faq_question="Q?", faq_answer="A.")
    advice = _ask(cast)
    clause = version.clauses.get(ref="1.1")
    services.answer_advice(actor=cast.helen, advice=advice, answer="Yes.", clauses=[clause])
    with pytest.raises(ValidationError, match="names the person"):
        services.publish_advice(actor=cast.helen, advice=advice, faq_question="Sam asked about photos", faq_answer="A.")
    services.publish_advice(
        actor=cast.helen,
        advice=advice,
        faq_question="May staff post family photos?",
        faq_answer="Yes, if no pupils appear.",
    )


def test_the_published_version_shows_on_the_clause_page_to_everyone_and_the_question_does_not(cast, version, client):
    advice = _ask(cast)
    clause = version.clauses.get(ref="1.1")
    services.answer_advice(actor=cast.helen, advice=advice, answer="Yes, with care.", clauses=[clause])
    services.publish_advice(
        actor=cast.helen,
        advice=advice,
        faq_question="May staff post family photos?",
        faq_answer="Yes, if no pupils appear.",
    )
    sign_in(client, cast.bethan)  # Brookside staff: the same trust policy
    page = client.get(reverse("policy:clause", args=[clause.pk])).content.decode()
    assert "May staff post family photos?" in page
    assert QUESTION not in page and "Sam" not in page
    assert client.get(reverse("obligations:advice", args=[advice.public_id])).status_code == 404


@pytest.mark.parametrize(
    "who, sees", [("sam", True), ("helen", True), ("priya", True), ("dina", False), ("gary", False), ("olive", False)]
)
def test_who_sees_a_question(cast, version, client, who, sees):
    advice = _ask(cast)
    sign_in(client, getattr(cast, who))
    response = client.get(reverse("obligations:advice", args=[advice.public_id]))
    assert response.status_code == (200 if sees else 404)
    assert (QUESTION in response.content.decode()) is sees


def test_the_head_answers_through_the_page(cast, version, client):
    advice = _ask(cast)
    clause = version.clauses.get(ref="1.1")
    sign_in(client, cast.helen)
    url = reverse("obligations:advice", args=[advice.public_id])
    assert client.post(url, {"action": "answer", "answer": ""}).status_code == 400
    assert client.post(url, {"action": "answer", "answer": "Yes.", "clauses": [clause.pk]}).status_code == 302
    assert AdviceRequest.objects.get().status == AdviceStatus.ANSWERED


def test_staff_ask_through_the_page_and_may_withdraw(cast, version, client):
    sign_in(client, cast.sam)
    response = client.post(reverse("obligations:advice_list"), {"question": QUESTION})
    advice = AdviceRequest.objects.get()
    assert response["Location"] == reverse("obligations:advice", args=[advice.public_id])
    client.post(response["Location"], {"action": "withdraw"})
    advice.refresh_from_db()
    assert advice.status == AdviceStatus.WITHDRAWN
    assert Deadline.objects.get(kind=DeadlineKind.ADVICE_ANSWER).state == DeadlineState.CANCELLED
    assert clocks.deadlines_sweep(now=received("2026-01-01 09:00")) == 0
