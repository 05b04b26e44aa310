"""The retention page (/retention/) and its legal-hold and pension-age actions: who may see and do
what, the DPO seeing no content, the subject never seeing their case, and a constant query count."""

import json
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent
from dataprotection.retention import add_years
from incidents.models import Category, Incident, Involved, Route, Status, TimelineEntry, TimelineKind
from tests.incidents.factories import IncidentFactory, fresh, sign_in

pytestmark = pytest.mark.django_db

CANARY = "CANARY-retention-51c2 the Hendricks twins"
PAGE = "retention:upcoming"


def closed_rows(cast, n=1, *, days_until_due=10, school=None, **fields):
    """n closed cases (default rule: 6 years) whose closing entry makes them due in `days_until_due`."""
    closed = add_years(timezone.now() + timedelta(days=days_until_due), -6)
    fields.setdefault("description", CANARY)
    fields.setdefault("involved_detail", CANARY)
    with time_machine.travel(closed, tick=False):
        made = IncidentFactory.create_batch(
            n, school=school or cast.oakfield, reporter=cast.sam, status=Status.CLOSED, **fields
        )
        TimelineEntry.objects.bulk_create(
            TimelineEntry(incident=i, kind=TimelineKind.TRANSITION, from_status="outcome_proposed", to_status="closed")
            for i in made
        )
    return made


def about_staff(cast, subject, **fields):
    return closed_rows(cast, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=subject, **fields)[0]


def page(client, user, **params):
    sign_in(client, user)
    return client.get(reverse(PAGE), params)


# --- Who sees what ---------------------------------------------------------------------------------


def test_dpo_sees_what_will_be_deleted_next_month_by_reference_only(client, cast):
    [due] = closed_rows(cast)
    [later] = closed_rows(cast, days_until_due=60)
    [held] = closed_rows(cast, days_until_due=5, legal_hold=True)

    response = page(client, cast.priya)

    assert response.status_code == 200
    html = response.content.decode()
    assert due.reference in html and held.reference in html
    assert later.reference not in html
    assert "On legal hold: kept" in html and "Will be deleted" in html
    # No content: not the report, not the people in it, no link into the case.
    for secret in (CANARY, "Hendricks", cast.sam.full_name, cast.sam.email):
        assert secret not in html
    assert reverse("incidents:detail", args=[due.reference]) not in html


def test_head_sees_their_school_cases_with_links_but_not_a_case_about_a_head(client, cast):
    [due] = closed_rows(cast)
    about_head = about_staff(cast, cast.helen, subject_is_head=True)

    html = page(client, cast.helen).content.decode()

    assert reverse("incidents:detail", args=[due.reference]) in html
    assert about_head.reference not in html  # the chair owns it; the head never sees it
    assert about_head.reference in page(client, cast.priya).content.decode()  # the DPO does


def test_the_subject_never_sees_their_case_here_whatever_their_role(client, cast):
    about_priya = about_staff(cast, cast.priya)
    [other] = closed_rows(cast)

    html = page(client, cast.priya, reference=about_priya.reference).content.decode()

    assert other.reference in html
    assert about_priya.reference not in html.replace(f'value="{about_priya.reference}"', "")
    assert "Nothing to show for that reference" in html
    sign_in(client, cast.priya)
    url = reverse("retention:hold", args=[about_priya.reference])
    assert client.post(url, {"reason": "Tribunal"}).status_code == 404


def test_another_schools_head_sees_none_of_ours_and_gets_404_on_our_cases(client, cast):
    [ours] = closed_rows(cast)
    [theirs] = closed_rows(cast, school=cast.brookside)

    html = page(client, cast.olive).content.decode()

    assert theirs.reference in html and ours.reference not in html
    assert client.post(reverse("retention:hold", args=[ours.reference]), {"reason": "x"}).status_code == 404
    assert client.post(reverse("retention:release", args=[ours.reference]), {"reason": "x"}).status_code == 404
    assert client.post(reverse("retention:pension_age", args=[ours.reference]), {}).status_code == 404
    assert not fresh(ours).legal_hold


@pytest.mark.parametrize("who", ["sam", "dina", "gary", "carol", "tom", "bethan"])
def test_every_other_role_gets_403(client, cast, who):
    [case] = closed_rows(cast)
    sign_in(client, getattr(cast, who))

    assert client.get(reverse(PAGE)).status_code == 403
    assert client.post(reverse("retention:hold", args=[case.reference]), {"reason": "x"}).status_code == 403
    assert client.post(reverse("retention:release", args=[case.reference]), {"reason": "x"}).status_code == 403
    assert not fresh(case).legal_hold


def test_anonymous_is_sent_to_sign_in(client, cast):
    [case] = closed_rows(cast)
    for response in (
        client.get(reverse(PAGE)),
        client.post(reverse("retention:hold", args=[case.reference]), {"reason": "x"}),
    ):
        assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not fresh(case).legal_hold


def test_wrong_methods_get_405(client, cast):
    [case] = closed_rows(cast)
    sign_in(client, cast.priya)
    assert client.post(reverse(PAGE)).status_code == 405
    for name in ("retention:hold", "retention:release", "retention:pension_age"):
        assert client.get(reverse(name, args=[case.reference])).status_code == 405


def test_the_page_is_in_the_navigation_of_dpos_and_heads_only(client, cast):
    link = f'href="{reverse(PAGE)}"'
    assert link in page(client, cast.priya).content.decode()
    assert link in page(client, cast.helen).content.decode()
    sign_in(client, cast.sam)
    assert link not in client.get(reverse("home")).content.decode()


# --- Legal hold ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["priya", "helen"])
def test_dpo_or_head_places_a_legal_hold_with_a_reason_on_the_timeline_and_in_the_audit_log(client, cast, who):
    [case] = closed_rows(cast)
    actor = getattr(cast, who)
    sign_in(client, actor)
    reason = "Employment tribunal claim lodged by the Hendricks family"

    response = client.post(reverse("retention:hold", args=[case.reference]), {"reason": reason})

    assert response.status_code == 302
    assert fresh(case).legal_hold
    entry = TimelineEntry.objects.filter(incident=case, data__legal_hold="placed").get()
    assert entry.internal and entry.actor == actor and reason in entry.note
    event = AuditEvent.objects.filter(action=AuditAction.CHANGE, object_type="incident", object_id=str(case.pk)).get()
    assert event.detail == {"legal_hold": "placed"} and event.actor == actor
    assert "Hendricks" not in json.dumps([event.detail, event.object_ref])


def test_a_hold_needs_a_reason(client, cast):
    [case] = closed_rows(cast)
    sign_in(client, cast.priya)

    response = client.post(reverse("retention:hold", args=[case.reference]), {"reason": "  "})

    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not fresh(case).legal_hold
    assert not TimelineEntry.objects.filter(incident=case, data__legal_hold="placed").exists()


def test_a_stale_hold_changes_nothing_and_says_so(client, cast):
    [case] = closed_rows(cast, legal_hold=True)
    sign_in(client, cast.priya)

    response = client.post(reverse("retention:hold", args=[case.reference]), {"reason": "Again"}, follow=True)

    assert "already on legal hold" in response.content.decode()
    assert not TimelineEntry.objects.filter(incident=case, data__has_key="legal_hold").exists()


def test_release_puts_the_case_back_in_the_schedule(client, cast):
    [case] = closed_rows(cast, legal_hold=True)
    sign_in(client, cast.helen)

    response = client.post(
        reverse("retention:release", args=[case.reference]), {"reason": "Claim withdrawn"}, follow=True
    )

    assert response.status_code == 200
    assert not fresh(case).legal_hold
    assert TimelineEntry.objects.filter(incident=case, data__legal_hold="released").exists()
    assert "Will be deleted" in response.content.decode()


def test_a_hold_can_be_placed_on_an_open_case_found_by_reference(client, cast):
    case = IncidentFactory(school=cast.oakfield, reporter=cast.sam, status=Status.INVESTIGATING)
    html = page(client, cast.priya, reference=case.reference.lower()).content.decode()
    assert "never while open" in html and reverse("retention:hold", args=[case.reference]) in html

    client.post(reverse("retention:hold", args=[case.reference]), {"reason": "Police investigation"})
    assert fresh(case).legal_hold


# --- The subject's pension age (allegations) --------------------------------------------------------


def test_the_head_records_the_subjects_pension_age_and_it_moves_the_date(client, cast):
    allegation = about_staff(cast, cast.sam, route=Route.ALLEGATION)
    sign_in(client, cast.helen)
    assert "Save the pension age" in client.get(reverse(PAGE), {"reference": allegation.reference}).content.decode()

    client.post(reverse("retention:pension_age", args=[allegation.reference]), {"retirement_date": "2061-09-30"})

    assert fresh(allegation).subject_retirement_date == date(2061, 9, 30)
    html = client.get(reverse(PAGE), {"reference": allegation.reference}).content.decode()
    assert "30 Sep 2061" in html
    event = AuditEvent.objects.filter(action=AuditAction.CHANGE, object_id=str(allegation.pk)).get()
    assert "2061" not in json.dumps(event.detail)


def test_the_dpo_cannot_record_the_pension_age(client, cast):
    allegation = about_staff(cast, cast.sam, route=Route.ALLEGATION)
    sign_in(client, cast.priya)

    response = client.post(
        reverse("retention:pension_age", args=[allegation.reference]), {"retirement_date": "2061-09-30"}
    )

    assert response.status_code == 403
    assert fresh(allegation).subject_retirement_date is None


# --- Query counts ----------------------------------------------------------------------------------


def _queries(client, user, url) -> int:
    sign_in(client, user)
    client.get(url)  # warm the session and the two-factor check
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["priya", "helen"])
def test_the_page_makes_the_same_number_of_queries_at_5_and_at_60_cases(client, cast, who):
    user = getattr(cast, who)
    url = reverse(PAGE)
    closed_rows(cast, 3)
    closed_rows(cast, 2, legal_hold=True)
    small = _queries(client, user, url)
    assert Incident.objects.count() == 5

    closed_rows(cast, 40)
    closed_rows(cast, 10, legal_hold=True)
    closed_rows(cast, 10, days_until_due=400)
    large = _queries(client, user, url)

    assert small == large
    html = client.get(url).content.decode()
    assert html.count("Will be deleted") == 43 and html.count("On legal hold: kept") == 12


# --- The category rules in the Django admin --------------------------------------------------------


def test_category_rules_are_edited_in_the_admin_and_child_protection_ones_are_refused(db):
    from django.contrib import admin
    from django.core.exceptions import ValidationError

    from dataprotection.models import RetentionRule

    assert RetentionRule in admin.site._registry
    with pytest.raises(ValidationError, match="25 years"):
        RetentionRule(category=Category.PREVENT, years_after_closure=3).full_clean()
    RetentionRule(category=Category.MEDIA_ENQUIRY, years_after_closure=3).full_clean()
