"""Domain rules of the policy services, called directly (views are tested through HTTP elsewhere)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from policyhub import services
from policyhub.models import Clause, Policy, PolicyAdoption, PolicyVersion, VersionStatus
from tests.dispatch_helpers import published
from tests.policyhub.policy_data import draft, school_policy, structure, trust_policy

pytestmark = pytest.mark.django_db


def test_publishing_archives_the_version_in_force(cast):
    v1 = trust_policy(cast)
    v2 = draft(v1.policy, structure(salt=" v2"))
    services.policy_version_publish(actor=cast.tom, version=v2, effective_date=dt.date(2026, 1, 5))
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == (VersionStatus.ARCHIVED, VersionStatus.ACTIVE)
    assert v2.approved_by == cast.tom and v2.published_at is not None
    assert v2.effective_date == dt.date(2026, 1, 5)


def test_two_active_versions_of_one_policy_are_impossible_in_the_database(cast):
    v1 = trust_policy(cast)
    v2 = draft(v1.policy)
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.filter(pk=v2.pk).update(status=VersionStatus.ACTIVE, effective_date=dt.date(2026, 1, 1))


def test_publishing_a_version_twice_is_refused_and_changes_nothing(cast):
    v1 = trust_policy(cast)
    with pytest.raises(services.PolicyStateError):
        services.policy_version_publish(actor=cast.tom, version=v1, effective_date=dt.date(2030, 1, 1))
    v1.refresh_from_db()
    assert v1.status == VersionStatus.ACTIVE and v1.effective_date == dt.date(2025, 9, 1)


def test_stale_copy_of_an_archived_version_cannot_be_republished(cast):
    v1 = trust_policy(cast)
    stale = PolicyVersion.objects.get(pk=v1.pk)
    v2 = draft(v1.policy)
    services.policy_version_publish(actor=cast.tom, version=v2, effective_date=dt.date(2026, 1, 1))
    with pytest.raises(services.PolicyStateError):
        services.policy_version_publish(actor=cast.tom, version=stale, effective_date=dt.date(2026, 2, 1))
    assert PolicyVersion.objects.get(pk=v2.pk).status == VersionStatus.ACTIVE


def test_an_active_version_cannot_be_edited(cast):
    v1 = trust_policy(cast)
    before = list(Clause.objects.filter(version=v1).values_list("ref", "text"))
    with pytest.raises(services.PolicyStateError, match="new draft"):
        services.policy_version_update_draft(actor=cast.tom, version=v1, structure=structure(1, 1))
    assert list(Clause.objects.filter(version=v1).values_list("ref", "text")) == before


def test_a_new_draft_copies_sections_clauses_parents_and_topics(cast):
    data = structure()
    data["sections"][0]["clauses"][0]["topics"] = ["images", "contact_parents"]
    v1 = trust_policy(cast, data)
    v2 = services.policy_version_new_draft(actor=cast.tom, from_version=v1)
    assert (v2.number, v2.status) == (2, VersionStatus.DRAFT)
    assert services.version_structure(v2) == services.version_structure(v1)
    child = Clause.objects.get(version=v2, ref="1.2.1")
    assert child.parent.version_id == v2.pk and child.parent.ref == "1.2"


def test_a_draft_cannot_be_copied(cast):
    v2 = draft(trust_policy(cast).policy)
    with pytest.raises(services.PolicyStateError):
        services.policy_version_new_draft(actor=cast.tom, from_version=v2)


def test_updating_a_draft_replaces_its_clauses(cast):
    v2 = draft(trust_policy(cast).policy)
    services.policy_version_update_draft(actor=cast.tom, version=v2, structure=structure(1, 1, sub=False))
    assert list(Clause.objects.filter(version=v2).values_list("ref", flat=True)) == ["1.1"]


def test_a_structure_with_a_dangling_parent_is_refused(cast):
    v2 = draft(trust_policy(cast).policy)
    bad = structure(1, 2)
    bad["sections"][0]["clauses"][0]["parent"] = "9.9"
    with pytest.raises(services.PolicyStateError, match="no clause 9.9"):
        services.policy_version_update_draft(actor=cast.tom, version=v2, structure=bad)


def test_head_imports_a_draft_of_the_schools_own_policy(cast):
    version = services.policy_import_draft(
        actor=cast.helen, owner=cast.oakfield, structure=structure(), title="Our policy", source_name="p.txt"
    )
    assert version.policy.school == cast.oakfield and version.policy.title == "Our policy"
    assert version.status == VersionStatus.DRAFT and version.number == 1 and version.source_name == "p.txt"
    again = services.policy_import_draft(actor=cast.helen, owner=cast.oakfield, structure=structure(), title="x")
    assert again.policy == version.policy and again.number == 2


@pytest.mark.parametrize("who", ["sam", "gary", "tom", "olive"])
def test_only_the_head_imports_a_school_policy(cast, who):
    with pytest.raises(PermissionDenied):
        services.policy_import_draft(actor=getattr(cast, who), owner=cast.oakfield, structure=structure(), title="x")
    assert not Policy.objects.exists()


@pytest.mark.parametrize("who", ["helen", "sam"])
def test_only_a_trust_admin_manages_the_trust_policy(cast, who):
    v2 = draft(trust_policy(cast).policy)
    with pytest.raises(PermissionDenied):
        services.policy_version_publish(actor=getattr(cast, who), version=v2, effective_date=dt.date(2026, 1, 1))
    assert PolicyVersion.objects.get(pk=v2.pk).status == VersionStatus.DRAFT


def test_publishing_a_schools_first_own_policy_adopts_it(cast):
    version = school_policy(cast)
    assert PolicyAdoption.objects.get(school=cast.oakfield).policy == version.policy


def test_publish_queues_the_acknowledgement_notices_after_commit(cast, django_capture_on_commit_callbacks):
    v2 = draft(trust_policy(cast).policy)
    with published() as sent:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.policy_version_publish(actor=cast.tom, version=v2, effective_date=dt.date(2026, 1, 1))
        assert sent == []  # nothing before the commit
        assert len(callbacks) == 1
        callbacks[0]()
    assert [(p.name, p.args, p.countdown) for p in sent] == [
        ("policyhub.tasks.send_acknowledgement_notices", (v2.pk,), None)
    ]


def test_a_publish_that_rolls_back_queues_nothing(cast, django_capture_on_commit_callbacks):
    v2 = draft(trust_policy(cast).policy)
    with (
        published() as sent,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.policy_version_publish(actor=cast.tom, version=v2, effective_date=dt.date(2026, 1, 1))
        raise RuntimeError("the request failed after the publish")
    assert sent == []
    v2.refresh_from_db()
    assert v2.status == VersionStatus.DRAFT


def test_head_adopts_the_trust_model_policy(cast):
    trust = trust_policy(cast, adopt=False)
    school_policy(cast)
    services.policy_adopt(actor=cast.helen, school=cast.oakfield, policy=trust.policy)
    assert PolicyAdoption.objects.get(school=cast.oakfield).policy == trust.policy
    with pytest.raises(services.PolicyStateError, match="already"):
        services.policy_adopt(actor=cast.helen, school=cast.oakfield, policy=trust.policy)


def test_a_school_cannot_adopt_another_schools_policy(cast):
    theirs = school_policy(cast, cast.brookside)
    with pytest.raises(PermissionDenied):
        services.policy_adopt(actor=cast.helen, school=cast.oakfield, policy=theirs.policy)


def test_a_policy_with_nothing_in_force_cannot_be_adopted(cast):
    policy = Policy.objects.create(trust=cast.trust, title="Empty")
    draft(policy)
    with pytest.raises(services.PolicyStateError, match="no version in force"):
        services.policy_adopt(actor=cast.helen, school=cast.oakfield, policy=policy)
