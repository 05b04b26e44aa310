"""Who may manage a policy, read two ways: from the database (services, Celery, commands) and from
the memberships a request already fetched (the policy page). Both readings must agree for everyone,
people with two roles, people of another trust and deactivated people included."""

import pytest

from accounts.models import Membership, Role
from policyhub import services
from policyhub.models import Policy
from tests.factories import SchoolFactory, TrustFactory, person

pytestmark = pytest.mark.django_db


def test_the_request_reading_agrees_with_the_database_for_everyone(cast):
    elsewhere = SchoolFactory(trust=TrustFactory(name="Other Trust", slug="other"), slug="elsewhere", code="ELS")
    outsider = person("Oscar Other", elsewhere, Role.HEAD, Role.TRUST_ADMIN)
    # Two roles at two schools: trust admin at Brookside, head at the school of another trust.
    both = person("Bea Both", cast.brookside, Role.TRUST_ADMIN)
    Membership.objects.create(user=both, school=elsewhere, role=Role.HEAD)
    leaver = person("Lee Leaver", cast.oakfield, Role.HEAD)
    leaver.is_active = False
    leaver.save()
    policies = [
        Policy.objects.create(school=cast.oakfield, title="Oakfield's own"),
        Policy.objects.create(school=cast.brookside, title="Brookside's own"),
        Policy.objects.create(trust=cast.trust, title="Riverside model"),
        Policy.objects.create(trust=elsewhere.trust, title="Other model"),
        Policy.objects.create(school=elsewhere, title="Elsewhere's own"),
    ]
    people = [cast.helen, cast.dina, cast.sam, cast.gary, cast.carol, cast.tom, cast.priya, cast.olive]
    people += [cast.bethan, outsider, both, leaver]
    answers = {}
    for user in people:
        memberships = list(Membership.objects.for_user(user))
        for policy in policies:
            from_db = services.can_manage(user, policy)
            assert services.can_manage(user, policy, memberships) == from_db, (user.full_name, policy.title)
            answers[user.full_name, policy.title] = from_db
    # The table is not trivially all-no or all-yes: each kind of manager is found.
    assert answers["Helen Hart", "Oakfield's own"] and not answers["Helen Hart", "Brookside's own"]
    assert answers["Tom Reed", "Riverside model"] and not answers["Tom Reed", "Other model"]
    assert answers["Bea Both", "Riverside model"] and answers["Bea Both", "Elsewhere's own"]
    assert not answers["Bea Both", "Other model"] and not answers["Oscar Other", "Riverside model"]
    assert answers["Oscar Other", "Other model"] and not answers["Lee Leaver", "Oakfield's own"]
