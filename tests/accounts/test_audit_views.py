"""Reading the audit trail: case reads are recorded; owners see a case's history; the trust's log."""

import pytest
from django.urls import reverse

from accounts.audit import record
from accounts.models import AuditAction, AuditEvent
from tests.incidents.clock_helpers import received, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(cast):
    return report(cast, at=received("2025-11-19 10:30"))


def _login(client, user):
    """Privileged users must have passed two-factor first."""
    from tests.auth import verified_login

    verified_login(client, user)


def test_opening_a_case_records_one_view_with_actor_and_path(client, cast, case):
    _login(client, cast.helen)
    before = AuditEvent.objects.count()
    assert client.get(reverse("incidents:detail", args=[case.reference])).status_code == 200
    views = AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="incident", object_id=str(case.pk))
    assert views.count() == 1
    event = views.get()
    assert (event.actor_id, event.path, event.school_id) == (
        cast.helen.pk,
        f"/incidents/{case.reference}/",
        cast.oakfield.pk,
    )
    assert AuditEvent.objects.filter(action=AuditAction.VIEW).count() == 1
    assert AuditEvent.objects.count() > before


def test_a_refused_case_read_is_recorded_as_refused_and_logged(client, cast, case, caplog):
    _login(client, cast.olive)
    assert client.get(reverse("incidents:detail", args=[case.reference])).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW).exists()
    refused = AuditEvent.objects.get(action=AuditAction.REFUSED)
    assert (refused.actor_id, refused.object_id) == (cast.olive.pk, str(case.pk))
    assert any("refused" in r.getMessage() for r in caplog.records)


def test_the_owner_sees_the_case_access_history(client, cast, case):
    _login(client, cast.olive)
    client.get(reverse("incidents:detail", args=[case.reference]))
    _login(client, cast.helen)
    client.get(reverse("incidents:detail", args=[case.reference]))
    page = client.get(reverse("audit:case_history", args=[case.reference]))
    assert page.status_code == 200
    text = page.content.decode()
    assert cast.olive.email in text and "Refused" in text and cast.helen.email in text


def test_the_reporter_may_not_see_the_access_history(client, cast, case):
    client.force_login(cast.sam)
    assert client.get(reverse("audit:case_history", args=[case.reference])).status_code == 403


def test_another_school_gets_404_for_the_access_history(client, cast, case):
    _login(client, cast.olive)
    assert client.get(reverse("audit:case_history", args=[case.reference])).status_code == 404


def test_the_trust_admin_reads_and_filters_the_log(client, cast):
    record(AuditAction.VIEW, actor=cast.helen, object_type="incident", object_id=1, school_id=cast.oakfield.pk)
    record(AuditAction.EXPORT, actor=cast.olive, object_type="incident", object_id=2, school_id=cast.brookside.pk)
    _login(client, cast.tom)
    page = client.get(reverse("audit:log"), {"action": AuditAction.EXPORT})
    assert page.status_code == 200
    rows = page.context["page"].object_list
    assert [e.actor_email for e in rows] == [cast.olive.email]


def test_the_log_csv_is_injection_safe_and_its_export_is_audited(client, cast):
    record(AuditAction.SIGN_IN_FAILED, school_id=cast.oakfield.pk, detail={}, actor=None)
    AuditEvent.objects.create(action=AuditAction.VIEW, actor_email="=HYPERLINK(1)", school_id=cast.oakfield.pk)
    _login(client, cast.tom)
    response = client.get(reverse("audit:log"), {"format": "csv"})
    body = response.content.decode()
    assert response["Content-Disposition"].startswith("attachment")
    assert "'=HYPERLINK(1)" in body and ",=HYPERLINK" not in body
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=cast.tom, object_type="audit_log").count() == 1


def test_a_trust_admin_of_another_trust_sees_nothing_of_ours(client, cast):
    from accounts.models import Membership, Role
    from tests.factories import SchoolFactory, TrustFactory, UserFactory

    other = UserFactory()
    Membership.objects.create(user=other, school=SchoolFactory(trust=TrustFactory()), role=Role.TRUST_ADMIN)
    record(AuditAction.VIEW, actor=cast.helen, object_type="incident", object_id=1, school_id=cast.oakfield.pk)
    _login(client, other)
    seen = client.get(reverse("audit:log")).context["page"].object_list
    assert seen, "their own sign-in is in their log"
    assert [e for e in seen if e.school_id == cast.oakfield.pk or e.actor_id == cast.helen.pk] == []


@pytest.mark.parametrize("who", ["sam", "helen", "gary"])
def test_the_log_is_not_for_other_roles(client, cast, who):
    _login(client, getattr(cast, who))
    assert client.get(reverse("audit:log")).status_code == 403


@pytest.mark.parametrize("size", [10, 200])
def test_the_log_page_query_count_does_not_grow(client, cast, django_assert_max_num_queries, size):
    for i in range(size):
        record(AuditAction.VIEW, actor=cast.helen, object_type="incident", object_id=i, school_id=cast.oakfield.pk)
    _login(client, cast.tom)
    # The same on PostgreSQL: the audit actor's settings go with the statements that write.
    with django_assert_max_num_queries(12):
        assert client.get(reverse("audit:log")).status_code == 200


def test_the_case_page_links_owners_to_the_access_history(client, cast, case):
    history = reverse("audit:case_history", args=[case.reference])
    _login(client, cast.helen)
    assert history in client.get(reverse("incidents:detail", args=[case.reference])).content.decode()
    client.force_login(cast.sam)  # the reporter
    assert history not in client.get(reverse("incidents:detail", args=[case.reference])).content.decode()
