"""Everyone the policy covers ([10] item 6): volunteers, agency and contract staff acknowledge the
policy and report as staff do; governors and chairs report too (they do not acknowledge: the brief
asks it of the workforce). Each rule from outside: the service, the page and the compliance table."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import ACKNOWLEDGING_ROLES, REPORTING_ROLES, Role
from accounts.two_factor import PRIVILEGED_ROLES
from incidents import services as incident_services
from policyhub import services
from tests.auth import verified_login
from tests.factories import person
from tests.incidents.factories import policy_for, report

pytestmark = pytest.mark.django_db

NEW_ROLES = [Role.VOLUNTEER, Role.AGENCY_STAFF, Role.CONTRACT_STAFF]


def sign_in(client, user):
    verified_login(client, user)


@pytest.mark.parametrize("role", NEW_ROLES)
def test_the_new_roles_must_acknowledge_and_can(cast, role):
    version = policy_for(cast.oakfield)
    worker = person("Wendy Worker", cast.oakfield, role)
    assert worker in services.staff_required_to_acknowledge(version)
    assert worker in services.outstanding_acknowledgements(version)
    assert worker.pk in {u.pk for u in services.school_compliance(school=cast.oakfield, version=version)}
    services.acknowledgement_record(user=worker, version=version)
    assert worker not in services.outstanding_acknowledgements(version)


@pytest.mark.parametrize("who", ["gary", "carol", "tom", "priya"])
def test_governors_trust_admins_and_dpos_are_not_asked_to_acknowledge(cast, who):
    version = policy_for(cast.oakfield)
    user = getattr(cast, who)
    assert user not in services.staff_required_to_acknowledge(version)
    with pytest.raises(PermissionDenied):
        services.acknowledgement_record(user=user, version=version)


@pytest.mark.parametrize("role", NEW_ROLES)
def test_the_policy_page_asks_the_new_roles_to_acknowledge(client, cast, role):
    policy_for(cast.oakfield)
    worker = person("Wendy Worker", cast.oakfield, role)
    client.force_login(worker)  # not a privileged role: no second factor (accounts.two_factor)
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert reverse("policy:page") in home.content.decode()
    page = client.get(reverse("policy:page")).content.decode()
    assert 'action="' + reverse("policy:acknowledge", args=[policy_for(cast.oakfield).pk]) in page


@pytest.mark.parametrize("role", [*NEW_ROLES, Role.GOVERNOR, Role.CHAIR])
def test_the_new_roles_governors_and_chairs_open_the_report_page_and_report(client, cast, role):
    reporter = person("Rory Reporter", cast.oakfield, role)
    sign_in(client, reporter)
    assert client.get(reverse("incidents:report")).status_code == 200
    incident = report(cast.oakfield, reporter)
    assert incident.reporter_id == reporter.pk
    assert client.get(reverse("incidents:mine")).status_code == 200


@pytest.mark.parametrize("who", ["tom", "priya"])
def test_trust_admins_and_dpos_still_do_not_report(client, cast, who):
    user = getattr(cast, who)
    sign_in(client, user)
    assert client.get(reverse("incidents:report")).status_code == 403
    with pytest.raises(incident_services.NotAllowed):
        report(cast.oakfield, user)


def test_a_volunteer_at_one_school_reports_only_there(cast):
    volunteer = person("Val Unteer", cast.oakfield, Role.VOLUNTEER)
    with pytest.raises(incident_services.NotAllowed):
        report(cast.brookside, volunteer)


def test_a_governor_who_reported_does_not_decide_its_review(cast):
    from incidents.transitions import review_panel

    incident = report(cast.oakfield, cast.gary)
    panel = review_panel(incident)
    assert cast.gary not in panel.deciders and cast.carol in panel.deciders


def test_the_role_sets():
    assert {Role.VOLUNTEER, Role.AGENCY_STAFF, Role.CONTRACT_STAFF, Role.STAFF} == ACKNOWLEDGING_ROLES
    assert {Role.GOVERNOR, Role.CHAIR, Role.HEAD, Role.DSL} <= REPORTING_ROLES
    assert not {Role.TRUST_ADMIN, Role.DPO} & REPORTING_ROLES
    # They see what staff see: no second factor required.
    assert not set(NEW_ROLES) & PRIVILEGED_ROLES
