"""Closure days from a CSV file, in the admin: all or nothing, with every bad line named."""

import io

import pytest
from django.urls import reverse

from incidents.clocks import response_deadline_for
from incidents.models import SchoolClosure
from tests.auth import verified_login
from tests.factories import UserFactory
from tests.incidents.clock_helpers import received

pytestmark = pytest.mark.django_db
URL = "admin:incidents_schoolclosure_import"


@pytest.fixture
def admin_client(client):
    verified_login(client, UserFactory(is_staff=True, is_superuser=True))
    return client


def _upload(client, school, text, name="closures.csv"):
    data = io.BytesIO(text.encode())
    data.name = name
    return client.post(reverse(URL), {"school": school.pk, "file": data})


def test_closure_days_are_imported_and_move_deadlines(admin_client, cast):
    response = _upload(admin_client, cast.oakfield, "date,label\n2025-11-24,INSET day\n25/11/2025,Snow day\n")
    assert response.status_code == 302
    assert dict(SchoolClosure.objects.values_list("date", "label")) == {
        received("2025-11-24 00:00").date(): "INSET day",
        received("2025-11-25 00:00").date(): "Snow day",
    }
    due, _ = response_deadline_for(school=cast.oakfield, category="parent_post", received=received("2025-11-22 09:00"))
    assert due.due == received("2025-11-26 17:00")


def test_a_bad_line_imports_nothing_and_is_named(admin_client, cast):
    response = _upload(admin_client, cast.oakfield, "2025-11-24,INSET day\nnext tuesday,Snow\n2025-13-01,x\n")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Line 2: “next tuesday” is not a date" in page and "Line 3:" in page
    assert not SchoolClosure.objects.exists()


def test_importing_again_updates_labels_without_duplicates(admin_client, cast):
    _upload(admin_client, cast.oakfield, "2025-11-24,INSET day\n")
    _upload(admin_client, cast.oakfield, "2025-11-24,Training day\n")
    assert list(SchoolClosure.objects.values_list("label", flat=True)) == ["Training day"]


def test_a_binary_file_is_refused(admin_client, cast):
    data = io.BytesIO(b"\x89PNG\r\n\x1a\n\xff\xfe")
    data.name = "closures.csv"
    response = admin_client.post(reverse(URL), {"school": cast.oakfield.pk, "file": data})
    assert "not a text (CSV) file" in response.content.decode()
    assert not SchoolClosure.objects.exists()


def test_only_admin_users_reach_the_import(client, cast):
    verified_login(client, cast.helen)
    response = client.get(reverse(URL))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
