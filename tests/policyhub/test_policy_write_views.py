"""Every state-changing policy view: success, anonymous, wrong method, wrong role, other school, wrong state."""

import datetime as dt

import pytest
from django.urls import reverse

from policyhub.models import Acknowledgement, Clause, PolicyAdoption, PolicyVersion, VersionStatus
from tests.policyhub.policy_data import draft, school_policy, sign_in, structure, trust_policy

pytestmark = pytest.mark.django_db

DATES = {"effective_date": "2026-01-05", "next_review_date": "2027-01-05"}


def as_user(client, user):
    sign_in(client, user)
    return client


# --- publish ---------------------------------------------------------------------------------------


def test_head_publishes_a_draft_of_the_school_policy(client, cast):
    v1 = school_policy(cast)
    v2 = draft(v1.policy, by=cast.helen)
    response = as_user(client, cast.helen).post(reverse("policy:publish", args=[v2.pk]), DATES)
    assert response.status_code == 302
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status, v2.effective_date) == ("archived", "active", dt.date(2026, 1, 5))


def test_publish_form_is_shown_then_bad_dates_are_refused(client, cast):
    v2 = school_policy(cast, status=VersionStatus.DRAFT)
    client = as_user(client, cast.helen)
    assert client.get(reverse("policy:publish", args=[v2.pk])).status_code == 200
    response = client.post(
        reverse("policy:publish", args=[v2.pk]), {"effective_date": "2026-01-05", "next_review_date": "2025-01-01"}
    )
    assert response.status_code == 400 and "must be after" in response.content.decode()
    assert PolicyVersion.objects.get(pk=v2.pk).status == VersionStatus.DRAFT


def test_publish_anonymous_is_sent_to_sign_in(client, cast):
    v2 = school_policy(cast, status=VersionStatus.DRAFT)
    response = client.post(reverse("policy:publish", args=[v2.pk]), DATES)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_publish_wrong_method_is_405(client, cast):
    v2 = school_policy(cast, status=VersionStatus.DRAFT)
    assert as_user(client, cast.helen).put(reverse("policy:publish", args=[v2.pk])).status_code == 405


@pytest.mark.parametrize("who", ["sam", "dina", "gary", "tom"])
def test_publish_by_another_role_at_the_school_is_403(client, cast, who):
    v2 = school_policy(cast, status=VersionStatus.DRAFT)
    response = as_user(client, getattr(cast, who)).post(reverse("policy:publish", args=[v2.pk]), DATES)
    assert response.status_code == 403
    assert PolicyVersion.objects.get(pk=v2.pk).status == VersionStatus.DRAFT


def test_publish_by_another_schools_head_is_404(client, cast):
    v2 = school_policy(cast, status=VersionStatus.DRAFT)
    assert as_user(client, cast.olive).post(reverse("policy:publish", args=[v2.pk]), DATES).status_code == 404


def test_publishing_an_active_version_changes_nothing(client, cast):
    v1 = school_policy(cast)
    response = as_user(client, cast.helen).post(reverse("policy:publish", args=[v1.pk]), DATES, follow=True)
    assert "already published" in response.content.decode()
    v1.refresh_from_db()
    assert v1.effective_date == dt.date(2025, 9, 1)


# --- new draft -------------------------------------------------------------------------------------


def test_trust_admin_starts_a_new_draft_from_the_version_in_force(client, cast):
    v1 = trust_policy(cast)
    response = as_user(client, cast.tom).post(reverse("policy:new_draft", args=[v1.pk]))
    v2 = PolicyVersion.objects.get(policy=v1.policy, number=2)
    assert response.status_code == 302 and response["Location"] == reverse("policy:draft_edit", args=[v2.pk])
    assert v2.status == VersionStatus.DRAFT and v2.clauses.count() == v1.clauses.count()


def test_new_draft_anonymous_get_role_school_and_state(client, cast):
    v1 = trust_policy(cast)
    url = reverse("policy:new_draft", args=[v1.pk])
    assert "/accounts/login/" in client.post(url)["Location"]
    assert as_user(client, cast.tom).get(url).status_code == 405
    assert as_user(client, cast.helen).post(url).status_code == 403  # heads do not edit the trust's policy
    own = school_policy(cast, cast.brookside)
    assert as_user(client, cast.helen).post(reverse("policy:new_draft", args=[own.pk])).status_code == 404
    v2 = draft(v1.policy)
    response = as_user(client, cast.tom).post(reverse("policy:new_draft", args=[v2.pk]), follow=True)
    assert "still a draft" in response.content.decode()
    assert PolicyVersion.objects.filter(policy=v1.policy).count() == 2


# --- adopt -----------------------------------------------------------------------------------------


def test_head_adopts_the_trust_policy(client, cast):
    model = trust_policy(cast, adopt=False)
    response = as_user(client, cast.helen).post(reverse("policy:adopt", args=[model.policy.pk]))
    assert response.status_code == 302
    assert PolicyAdoption.objects.get(school=cast.oakfield).policy == model.policy


def test_adopt_anonymous_get_role_school_and_state(client, cast):
    model = trust_policy(cast, adopt=False)
    url = reverse("policy:adopt", args=[model.policy.pk])
    assert "/accounts/login/" in client.post(url)["Location"]
    assert as_user(client, cast.helen).get(url).status_code == 405
    assert as_user(client, cast.sam).post(url).status_code == 403
    assert as_user(client, cast.tom).post(url).status_code == 403  # trust admins do not choose for a school
    other = school_policy(cast, cast.brookside)
    assert as_user(client, cast.helen).post(reverse("policy:adopt", args=[other.policy.pk])).status_code == 404
    as_user(client, cast.helen).post(url)
    response = as_user(client, cast.helen).post(url, follow=True)
    assert "already works under" in response.content.decode()
    assert PolicyAdoption.objects.filter(school=cast.oakfield).count() == 1


# --- acknowledge -----------------------------------------------------------------------------------


def test_staff_member_acknowledges_the_version_in_force(client, cast):
    v1 = trust_policy(cast)
    response = as_user(client, cast.sam).post(reverse("policy:acknowledge", args=[v1.pk]), follow=True)
    assert "you have acknowledged version 1" in response.content.decode()
    assert Acknowledgement.objects.filter(user=cast.sam, version=v1).count() == 1
    as_user(client, cast.sam).post(reverse("policy:acknowledge", args=[v1.pk]))
    assert Acknowledgement.objects.filter(user=cast.sam, version=v1).count() == 1  # idempotent


def test_acknowledge_anonymous_get_role_school_and_state(client, cast):
    v1 = trust_policy(cast)
    url = reverse("policy:acknowledge", args=[v1.pk])
    assert "/accounts/login/" in client.post(url)["Location"]
    assert as_user(client, cast.sam).get(url).status_code == 405
    assert as_user(client, cast.gary).post(url).status_code == 403  # governors are not asked to acknowledge
    own = school_policy(cast, cast.brookside)
    assert as_user(client, cast.sam).post(reverse("policy:acknowledge", args=[own.pk])).status_code == 404
    v2 = draft(v1.policy)
    as_user(client, cast.tom).post(reverse("policy:publish", args=[v2.pk]), DATES)
    response = as_user(client, cast.sam).post(url, follow=True)
    assert "no longer in force" in response.content.decode()
    assert not Acknowledgement.objects.filter(user__in=[cast.sam, cast.gary]).exists()


# --- editing a draft -------------------------------------------------------------------------------


def section_post(version_or_structure_section, action="done", **changes):
    section = version_or_structure_section
    data = {
        "s-TOTAL_FORMS": "1",
        "s-INITIAL_FORMS": "1",
        "s-MIN_NUM_FORMS": "1",
        "s-MAX_NUM_FORMS": "1",
        "s-0-number": section["number"],
        "s-0-heading": section["heading"],
        "c-TOTAL_FORMS": str(len(section["clauses"])),
        "c-INITIAL_FORMS": str(len(section["clauses"])),
        "c-MIN_NUM_FORMS": "0",
        "c-MAX_NUM_FORMS": "500",
        "action": action,
    }
    for i, clause in enumerate(section["clauses"]):
        data[f"c-{i}-orig_ref"] = clause["ref"]
        data[f"c-{i}-ref"] = clause["ref"]
        data[f"c-{i}-parent"] = clause["parent"] or ""
        data[f"c-{i}-text"] = clause["text"]
        data[f"c-{i}-topics"] = clause["topics"]
    data.update(changes)
    return data


def test_manager_edits_a_draft_section_then_saves_it(client, cast):
    v2 = draft(trust_policy(cast).policy)
    client = as_user(client, cast.tom)
    first = structure()["sections"][0]
    response = client.post(
        reverse("policy:draft_section", args=[v2.pk, 0]), section_post(first, **{"s-0-heading": "Renamed"})
    )
    assert response.status_code == 302
    assert Clause.objects.filter(version=v2).count() == 8  # nothing saved yet
    assert "Renamed" in client.get(reverse("policy:draft_edit", args=[v2.pk])).content.decode()
    response = client.post(reverse("policy:draft_edit", args=[v2.pk]), {"action": "save"})
    assert response.status_code == 302
    assert v2.sections.get(order=1).heading == "Renamed"


def test_draft_edit_anonymous_method_role_school_and_state(client, cast):
    v1 = trust_policy(cast)
    v2 = draft(v1.policy)
    url = reverse("policy:draft_edit", args=[v2.pk])
    assert "/accounts/login/" in client.post(url, {"action": "save"})["Location"]
    assert as_user(client, cast.tom).put(url).status_code == 405
    assert as_user(client, cast.helen).post(url, {"action": "save"}).status_code == 403
    own = school_policy(cast, cast.brookside, status=VersionStatus.DRAFT)
    assert as_user(client, cast.helen).get(reverse("policy:draft_edit", args=[own.pk])).status_code == 404
    response = as_user(client, cast.tom).post(reverse("policy:draft_edit", args=[v1.pk]), {"action": "save"})
    assert response.status_code == 302 and response["Location"] == reverse("policy:version", args=[v1.pk])
    assert v1.sections.get(order=1).heading == "Heading 1"


def test_a_draft_published_meanwhile_is_not_overwritten_by_a_stale_editor(client, cast):
    v2 = draft(trust_policy(cast).policy)
    client = as_user(client, cast.tom)
    first = structure()["sections"][0]
    client.post(reverse("policy:draft_section", args=[v2.pk, 0]), section_post(first, **{"s-0-heading": "Late"}))
    PolicyVersion.objects.filter(policy=v2.policy, status="active").update(status="archived")
    PolicyVersion.objects.filter(pk=v2.pk).update(status="active", effective_date=dt.date(2026, 1, 1))
    client.post(reverse("policy:draft_edit", args=[v2.pk]), {"action": "save"})
    assert v2.sections.get(order=1).heading == "Heading 1"
