"""Staff acknowledge each version in force; the banner nags until they do; heads see who has (and a CSV)."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from policyhub import services
from policyhub.models import Acknowledgement
from policyhub.views import csv_safe
from tests.factories import Role, UserFactory, member
from tests.policyhub.policy_data import draft, sign_in, trust_policy

pytestmark = pytest.mark.django_db

BANNER = "A new version of the social-media policy is in force"


def test_staff_see_the_banner_on_every_page_until_they_acknowledge(client, cast):
    version = trust_policy(cast)
    sign_in(client, cast.sam)
    assert BANNER in client.get(reverse("home")).content.decode()
    client.post(reverse("policy:acknowledge", args=[version.pk]))
    assert BANNER not in client.get(reverse("home")).content.decode()
    html = client.get(reverse("policy:page")).content.decode()
    assert "You acknowledged version 1" in html and "I have read and understood" not in html


def test_a_new_version_brings_the_banner_back(client, cast):
    v1 = trust_policy(cast)
    services.acknowledgement_record(user=cast.sam, version=v1)
    services.policy_version_publish(actor=cast.tom, version=draft(v1.policy), effective_date=dt.date(2026, 1, 1))
    sign_in(client, cast.sam)
    assert BANNER in client.get(reverse("home")).content.decode()


def test_no_banner_for_roles_that_do_not_acknowledge_or_without_a_policy(client, cast):
    sign_in(client, cast.sam)
    assert BANNER not in client.get(reverse("home")).content.decode()
    trust_policy(cast)
    sign_in(client, cast.gary)
    assert BANNER not in client.get(reverse("home")).content.decode()


def test_head_sees_who_has_and_has_not_acknowledged(client, cast):
    version = trust_policy(cast)
    services.acknowledgement_record(user=cast.sam, version=version)
    sign_in(client, cast.helen)
    response = client.get(reverse("policy:compliance"))
    assert response.status_code == 200
    rows = {row.full_name: bool(row.acknowledged_at) for row in response.context["rows"]}
    assert rows == {"Helen Hart": False, "Dina Shah": False, "Sam Taylor": True}  # staff-role members of Oakfield
    assert response.context["percent"] == 33
    assert "1 of 3" in response.content.decode()


@pytest.mark.parametrize("who", ["sam", "dina", "gary", "priya"])
def test_compliance_is_403_for_other_roles(client, cast, who):
    trust_policy(cast)
    sign_in(client, getattr(cast, who))
    assert client.get(reverse("policy:compliance")).status_code == 403
    assert client.get(reverse("policy:compliance_csv")).status_code == 403


def test_compliance_only_lists_the_current_schools_staff(client, cast):
    trust_policy(cast)
    sign_in(client, cast.olive)
    names = [row.full_name for row in client.get(reverse("policy:compliance")).context["rows"]]
    assert names == ["Bethan Jones", "Olive Owen"]


def test_csv_export_lists_everyone_and_defuses_formulas(client, cast):
    version = trust_policy(cast)
    evil = member(UserFactory(full_name='=HYPERLINK("http://x")', email="evil@example.org"), cast.oakfield, Role.STAFF)
    services.acknowledgement_record(user=evil, version=version)
    sign_in(client, cast.helen)
    response = client.get(reverse("policy:compliance_csv"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Name", "Email", "Acknowledged", "Acknowledged at (UK time)"]
    by_email = {row[1]: row for row in rows[1:]}
    assert by_email["evil@example.org"][0] == '\'=HYPERLINK("http://x")'
    assert by_email["evil@example.org"][2] == "yes"
    assert by_email["sam@oakfield.example.org"][2:] == ["no", ""]


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx"])
def test_csv_safe_prefixes_formula_like_cells(value):
    assert csv_safe(value) == "'" + value


def test_csv_safe_leaves_ordinary_cells_alone():
    assert csv_safe("Sam Taylor") == "Sam Taylor" and csv_safe(None) == ""


def test_acknowledging_twice_keeps_one_record(cast):
    version = trust_policy(cast)
    first, created = services.acknowledgement_record(user=cast.sam, version=version)
    second, created_again = services.acknowledgement_record(user=cast.sam, version=version)
    assert created and not created_again and first.pk == second.pk
    assert Acknowledgement.objects.count() == 1
