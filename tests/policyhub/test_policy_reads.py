"""The policy page's reads written once (policyhub/views.py, accounts/prepared.py) give what the
querysets they stand for give: the versions a person may read at a school (whoever they are, at
whichever school, drafts and other policies around), a version's sections and clauses, and a
person's acknowledgement. Compared row for row, field for field, related objects included."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership
from policyhub import views
from policyhub.models import Acknowledgement, Policy, PolicyAdoption, PolicyVersion, VersionStatus
from tests.factories import Role, SchoolFactory, person
from tests.policyhub.policy_data import draft, published, sign_in, structure, trust_policy

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _same(found, expected, *related):
    assert [_fields(o) for o in found] == [_fields(o) for o in expected]
    for name in related:
        assert [_fields(getattr(o, name)) if getattr(o, name) else None for o in found] == [
            _fields(getattr(o, name)) if getattr(o, name) else None for o in expected
        ]


def _queryset(user, school):
    """views._adopted_versions, for a person and a school."""
    return (
        PolicyVersion.objects.visible_to(user)
        .filter(policy__adoptions__school=school, status__in=[VersionStatus.ACTIVE, VersionStatus.ARCHIVED])
        .select_related("policy", "approved_by")
        .order_by("-number")
    )


@pytest.fixture
def policies(cast):
    """The trust's model policy in three versions (one archived, one in force, a draft), adopted by
    Oakfield; Brookside's own policy, in force, with a draft; a third school's policy nobody here reads."""
    model = trust_policy(cast, structure(2, 2), adopt=False)
    PolicyAdoption.objects.create(school=cast.oakfield, policy=model.policy)
    published(model.policy, structure(3, 2, salt=" again"), by=cast.tom, day=dt.date(2026, 1, 5))
    draft(model.policy, structure(1, 1), by=cast.tom)
    own = Policy.objects.create(school=cast.brookside, title="Brookside's own policy")
    PolicyAdoption.objects.create(school=cast.brookside, policy=own)
    published(own, by=cast.olive)
    draft(own, by=cast.olive)
    elsewhere = SchoolFactory(trust=None, name="Far School", slug="far", code="FAR", urn="100077")
    stranger = person("Stella Far", elsewhere, Role.HEAD)
    far = Policy.objects.create(school=elsewhere, title="Far policy")
    PolicyAdoption.objects.create(school=elsewhere, policy=far)
    published(far, by=stranger)
    return model.policy


def test_the_versions_read_are_those_of_the_rule_for_everyone_everywhere(cast, policies):
    # Two roles at two schools at once; someone who left; an admin of the trust.
    Membership.objects.create(user=cast.sam, school=cast.brookside, role=Role.HEAD)
    leaver = person("Lee Left", cast.oakfield, Role.STAFF)
    leaver.is_active = False
    leaver.save()
    people = [cast.helen, cast.sam, cast.gary, cast.tom, cast.olive, cast.bethan, cast.priya, leaver]
    seen = set()
    for user in people:
        for school in (cast.oakfield, cast.brookside):
            expected = list(_queryset(user, school))
            with CaptureQueriesContext(connection) as queries:
                found = views._ADOPTED.objects(user.pk, school.pk)
                names = [(v.policy.title, v.approved_by.email if v.approved_by else None) for v in found]
            assert len(queries) == 1, "policy and approver come with the versions"
            _same(found, expected, "policy", "approved_by")
            assert names == [(v.policy.title, v.approved_by.email if v.approved_by else None) for v in expected]
            seen.add((user.pk, school.pk, len(found)))
    counts = {n for _, _, n in seen}
    assert {0, 1, 2} <= counts, counts  # none, one and two versions: the comparison saw each


def test_sections_clauses_and_the_acknowledgement_are_those_of_the_managers(cast, policies):
    versions = list(PolicyVersion.objects.filter(policy=policies))
    Acknowledgement.objects.create(user=cast.sam, version=versions[0])
    Acknowledgement.objects.create(user=cast.helen, version=versions[1])
    for version in versions:
        with CaptureQueriesContext(connection) as queries:
            sections = views._SECTIONS.objects(version.pk, known={"version": version})
            clauses = views._CLAUSES.objects(version.pk, known={"version": version})
            assert all(s.version is version for s in sections) and all(c.version is version for c in clauses)
        assert len(queries) == 2
        _same(sections, version.sections.all())
        _same(clauses, version.clauses.all())
        for user in (cast.sam, cast.helen):
            expected = Acknowledgement.objects.filter(user=user, version=version).first()
            found = views._ACKNOWLEDGEMENT.objects(user.pk, version.pk)
            _same(found, [expected] if expected else [])
    assert views._ACKNOWLEDGEMENT.objects(cast.sam.pk, versions[0].pk)[0].user_id == cast.sam.pk
    assert views._ACKNOWLEDGEMENT.objects(cast.sam.pk, versions[1].pk) == []


def test_the_policy_page_shows_the_version_in_force_of_the_school_s_policy(client, cast, policies):
    sign_in(client, cast.sam)
    page = client.get("/policy/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Riverside social-media policy" in text and "Brookside" not in text.split("<main", 1)[1]
    assert [v.number for v in page.context["versions"]] == [2, 1]
    assert page.context["version"].number == 2
