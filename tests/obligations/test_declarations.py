"""Declarations ([10] item 3): staff declare; the head (the DSL for pupils, the chair for a head's
own) acknowledges; yearly re-confirmation is a deadline fired by the real sweep; only the declarer,
head, DSL and DPO ever see one; a case about the declarer shows "declared on …" to its owner."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from incidents import clocks
from incidents.models import Deadline, DeadlineKind, DeadlineState, Notification
from incidents.notify import notification_send
from obligations import access, services
from obligations.models import Declaration, DeclarationKind, DeclarationStatus
from tests.incidents.clock_helpers import received, report
from tests.policyhub.policy_data import sign_in

pytestmark = pytest.mark.django_db
SECRET = "CANARY-nephew Jamie in class 4B"


def _declare(cast, who=None, kind=DeclarationKind.FAMILY, **extra):
    return services.declare(
        declarer=who or cast.sam,
        school=cast.oakfield,
        kind=kind,
        details=SECRET,
        now=received("2025-11-20 10:00"),
        **extra,
    )


def _send_all():
    for n in Notification.objects.filter(sent_at__isnull=True):
        notification_send(notification_id=n.pk)


def test_a_declaration_asks_the_head_and_the_emails_carry_no_content(cast):
    declaration = _declare(cast)
    _send_all()
    assert {m.to[0] for m in mail.outbox} == {cast.helen.email}  # not the DSL: not about pupils online
    assert all(SECRET not in m.body and "Jamie" not in m.subject for m in mail.outbox)
    assert declaration.reference in mail.outbox[0].body
    assert declaration.status == DeclarationStatus.AWAITING


def test_a_pupil_connection_asks_the_dsl_too_and_the_dsl_may_acknowledge(cast):
    declaration = _declare(cast, kind=DeclarationKind.CONNECTION)
    _send_all()
    assert {m.to[0] for m in mail.outbox} == {cast.helen.email, cast.dina.email}
    services.acknowledge_declaration(actor=cast.dina, declaration=declaration, note="Seen; keep it private.")
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.ACKNOWLEDGED and declaration.acknowledged_by == cast.dina


def test_the_dsl_may_not_acknowledge_a_second_job_and_a_refusal_changes_nothing(cast):
    declaration = _declare(cast, kind=DeclarationKind.BUSINESS)
    with pytest.raises(PermissionDenied):
        services.acknowledge_declaration(actor=cast.dina, declaration=declaration, note="")
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.AWAITING


def test_an_approach_needs_what_the_member_of_staff_did(cast):
    with pytest.raises(ValidationError):
        _declare(cast, kind=DeclarationKind.APPROACH)
    assert not Declaration.objects.exists()
    declaration = _declare(cast, kind=DeclarationKind.APPROACH, response="Declined the request, did not reply.")
    assert declaration.response.startswith("Declined")


def test_a_heads_declaration_goes_to_the_chair_not_to_themselves_or_another_head(cast):
    declaration = _declare(cast, who=cast.helen)
    _send_all()
    assert {m.to[0] for m in mail.outbox} == {cast.carol.email}
    assert not access.may_acknowledge(cast.helen, declaration)
    services.acknowledge_declaration(actor=cast.carol, declaration=declaration, note="")
    assert access.sees("declaration", cast.carol, declaration)


def test_yearly_reconfirmation_is_a_deadline_the_sweep_fires_once(cast):
    declaration = _declare(cast)
    deadline = Deadline.objects.get(kind=DeadlineKind.DECLARATION_RECONFIRM, state=DeadlineState.PENDING)
    assert deadline.target == declaration
    assert deadline.due_at == received("2025-11-20 10:00") + timedelta(days=365)
    assert clocks.deadlines_sweep(now=deadline.due_at - timedelta(minutes=1)) == 0
    assert clocks.deadlines_sweep(now=deadline.due_at) == 1
    assert clocks.deadlines_sweep(now=deadline.due_at + timedelta(minutes=1)) == 0  # the next minute's sweep
    _send_all()
    reminders = [m for m in mail.outbox if "confirm your declaration again" in m.subject]
    assert [m.to[0] for m in reminders] == [cast.sam.email]
    assert SECRET not in reminders[0].body
    # Confirming starts the next year's clock; withdrawing stops it for good.
    services.reconfirm_declaration(actor=cast.sam, declaration=declaration, now=deadline.due_at + timedelta(days=2))
    nxt = Deadline.objects.get(kind=DeadlineKind.DECLARATION_RECONFIRM, state=DeadlineState.PENDING)
    assert nxt.due_at == deadline.due_at + timedelta(days=367)
    services.withdraw_declaration(actor=cast.sam, declaration=declaration)
    assert not Deadline.objects.filter(kind=DeadlineKind.DECLARATION_RECONFIRM, state=DeadlineState.PENDING).exists()


@pytest.mark.parametrize(
    "who, sees",
    [
        ("sam", True),
        ("helen", True),
        ("dina", True),
        ("priya", True),
        ("gary", False),
        ("carol", False),
        ("tom", False),
        ("olive", False),
        ("bethan", False),
    ],
)
def test_who_sees_a_declaration(cast, client, who, sees):
    declaration = _declare(cast)
    user = getattr(cast, who)
    assert access.sees("declaration", user, declaration) is sees
    assert Declaration.objects.filter(access.visible("declaration", user), pk=declaration.pk).exists() is sees
    sign_in(client, user)
    response = client.get(reverse("obligations:declaration", args=[declaration.public_id]))
    assert response.status_code == (200 if sees else 404)
    assert (SECRET in response.content.decode()) is sees
    listing = client.get(reverse("obligations:declarations"))
    assert (declaration.reference in listing.content.decode()) is (sees and listing.status_code == 200)


def test_a_head_who_is_also_a_governor_elsewhere_does_not_see_a_co_heads_declaration_through_the_chair_rule(cast):
    from tests.factories import member

    member(cast.olive, cast.oakfield, "chair")  # Olive: head at Brookside, chair at Oakfield
    declaration = _declare(cast)  # Sam's: the chair has no part in it
    assert not access.sees("declaration", cast.olive, declaration)
    assert not Declaration.objects.filter(access.visible("declaration", cast.olive)).exists()


def test_every_view_of_a_declaration_is_audited(cast, client):
    from accounts.models import AuditAction, AuditEvent

    declaration = _declare(cast)
    sign_in(client, cast.helen)
    client.get(reverse("obligations:declaration", args=[declaration.public_id]))
    event = AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="declaration").get()
    assert event.actor == cast.helen and event.object_ref == declaration.reference


def test_the_head_acknowledges_through_the_page_and_an_empty_post_is_refused(cast, client):
    declaration = _declare(cast)
    sign_in(client, cast.helen)
    url = reverse("obligations:declaration", args=[declaration.public_id])
    assert client.post(url, {"action": "nonsense"}).status_code == 400
    response = client.post(url, {"action": "acknowledge", "note": "Thanks"})
    assert response.status_code == 302
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.ACKNOWLEDGED and declaration.acknowledgement_note == "Thanks"
    assert client.post(url, {"action": "acknowledge", "note": "again"}).status_code == 400  # already done


def test_staff_declare_through_the_form_and_bad_input_keeps_what_they_typed(cast, client):
    sign_in(client, cast.sam)
    url = reverse("obligations:declare")
    response = client.post(url, {"kind": DeclarationKind.APPROACH, "details": "A pupil sent a follow request"})
    assert response.status_code == 400
    assert "A pupil sent a follow request" in response.content.decode()
    assert not Declaration.objects.exists()
    response = client.post(url, {"kind": DeclarationKind.FAMILY, "details": SECRET})
    assert response.status_code == 302
    assert Declaration.objects.get().details == SECRET


def test_a_case_about_the_declarer_shows_the_declaration_to_its_owner_only(cast, client):
    _declare(cast)
    incident = report(cast, at=received("2025-11-21 10:00"), subject=cast.sam)
    sign_in(client, cast.helen)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert "declared on 20 November 2025" in page
    assert SECRET not in page  # the kind and the date, not what was declared


def test_declaration_list_queries_do_not_grow(cast, client, django_assert_max_num_queries):
    from tests.factories import person

    sign_in(client, cast.helen)
    _declare(cast)
    with django_assert_max_num_queries(14) as small:
        client.get(reverse("obligations:declarations"))
    for i in range(15):
        services.declare(
            declarer=person(f"Extra Staff{i}", cast.oakfield, "staff", email=f"extra{i}@oakfield.example.org"),
            school=cast.oakfield,
            kind=DeclarationKind.BUSINESS,
            details="x",
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("obligations:declarations"))
