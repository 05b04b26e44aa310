import pytest
from django.urls import reverse

from accounts.models import Membership, Role
from tests.auth import verified_login
from tests.factories import SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db

SECTIONS = {
    "Report a concern": "sam",
    "Triage queue": "helen",
    "Governor reviews": "gary",
    "Trust overview": "tom",
    "Data protection": "priya",
}


@pytest.mark.parametrize(
    ("who", "sees", "hidden"),
    [
        ("sam", {"Report a concern", "My reports"}, {"Triage queue", "Governor reviews", "Trust overview"}),
        ("helen", {"Report a concern", "Triage queue"}, {"Governor reviews", "Trust overview"}),
        ("dina", {"Report a concern", "Triage queue"}, {"Governor reviews"}),
        # Governors and chairs report concerns too ([10]: the policy covers them).
        ("gary", {"Governor reviews", "Report a concern"}, {"Triage queue", "Trust overview"}),
        ("carol", {"Triage queue", "Governor reviews", "Report a concern"}, {"Trust overview"}),
        ("tom", {"Trust overview"}, {"Report a concern", "Triage queue", "Governor reviews"}),
        ("priya", {"Data protection"}, {"Report a concern", "Triage queue", "Trust overview"}),
    ],
)
def test_home_shows_each_role_what_it_can_use(client, cast, who, sees, hidden):
    verified_login(client, getattr(cast, who))
    page = client.get(reverse("home")).content.decode()
    for heading in sees:
        assert heading in page, f"{who} should see {heading}"
    for heading in hidden:
        assert heading not in page, f"{who} should not see {heading}"


def test_user_without_membership_is_told_what_to_do(client):
    client.force_login(UserFactory())
    assert "not a member of any school" in client.get(reverse("home")).content.decode()


def test_home_page_has_landmarks_and_a_skip_link(client, cast):
    client.force_login(cast.sam)
    page = client.get(reverse("home")).content.decode()
    for fragment in ['<main id="main"', 'href="#main"', "<nav ", 'aria-label="Main"', "<header", "<footer"]:
        assert fragment in page


@pytest.mark.parametrize("schools", [1, 12])
def test_home_query_count_does_not_grow_with_memberships(client, cast, django_assert_max_num_queries, schools):
    for _ in range(schools):
        Membership.objects.create(user=cast.tom, school=SchoolFactory(trust=cast.trust), role=Role.TRUST_ADMIN)
    verified_login(client, cast.tom)
    # One more than before two-factor sign-in: the session's verified device is read each request;
    # one more for the trust admin's list of schools short of a second DPO.
    # The same on PostgreSQL: the audit actor's settings go with the statements that write
    # (accounts/actor.py).
    with django_assert_max_num_queries(8):
        assert client.get(reverse("home")).status_code == 200
