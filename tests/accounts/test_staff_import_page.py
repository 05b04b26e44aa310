"""The staff list import page (accounts/staff_import_views.py): the same preview as the command,
nothing saved before the confirm, the confirm re-reads the same content, and who may use it."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import staff_import
from accounts.models import AuditEvent, Membership, Role, User
from incidents.models import Involved
from tests.auth import verified_login
from tests.factories import SchoolFactory, TrustFactory, person
from tests.incidents.factories import report

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "staff"
URL = reverse("staff_import")
CONFIRM = reverse("staff_import_confirm")


def upload(client, school, data, *, deactivate=False, name="staff.csv"):
    data = data.encode() if isinstance(data, str) else data
    form = {"school": school.pk, "file": SimpleUploadedFile(name, data, content_type="text/csv")}
    if deactivate:
        form["deactivate_missing"] = "on"
    return client.post(URL, form)


def counts(response) -> dict:
    html = response.content.decode()
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', html)}


def digest(response) -> str:
    return re.search(r'name="digest" value="([0-9a-f]+)"', response.content.decode())[1]


def snapshot():
    return (
        sorted(User.objects.values_list("email", "full_name")),
        sorted(Membership.objects.values_list("user_id", "school_id", "role")),
    )


def test_preview_shows_the_commands_counts_and_saves_nothing_then_confirm_saves(client, cast):
    verified_login(client, cast.helen)
    data = (FIXTURES / "sims_staff_details.csv").read_bytes()
    before = snapshot()
    response = upload(client, cast.oakfield, data)
    assert response.status_code == 200
    expected = staff_import.plan(staff_import.parse(data), cast.oakfield).counts()
    assert counts(response) == expected == {"created": 5, "updated": 0, "unchanged": 0, "deactivated": 0}
    assert snapshot() == before
    assert not AuditEvent.objects.filter(object_type="staff_import").exists()

    response = client.post(CONFIRM, {"digest": digest(response)})
    assert response.status_code == 302 and response["Location"] == URL
    maggie = User.objects.get(email="m.ashworth@brambleton.sch.example")
    assert maggie.full_name == "Maggie Ashworth" and not maggie.has_usable_password()
    assert set(Membership.objects.filter(user=maggie).values_list("role", flat=True)) == {Role.HEAD, Role.STAFF}
    [event] = AuditEvent.objects.filter(object_type="staff_import")
    assert event.actor_id == cast.helen.pk and event.detail["created"] == 5 and event.detail["via"] == "page"
    assert "Staff list imported" in client.get(URL).content.decode()

    # The same file again: nothing would change.
    again = upload(client, cast.oakfield, data)
    assert counts(again) == {"created": 0, "updated": 0, "unchanged": 5, "deactivated": 0}


def test_errors_are_listed_with_their_lines_and_there_is_no_confirm(client, cast):
    verified_login(client, cast.helen)
    before = snapshot()
    response = upload(client, cast.oakfield, (FIXTURES / "errors_with_lines.csv").read_bytes())
    assert response.status_code == 400
    html = response.content.decode()
    lines = re.findall(r"<tr><td>(\d+)</td><td>", html)
    assert lines == ["5", "6", "8", "9"]
    assert "Unknown role &quot;Caretaker&quot;" in html
    assert 'name="digest"' not in html
    # The JSON of the command and the page show the same errors.
    plan = staff_import.plan(staff_import.parse((FIXTURES / "errors_with_lines.csv").read_bytes()), cast.oakfield)
    assert [str(e["line"]) for e in plan.as_json()["errors"]] == lines
    # Nothing to confirm: a confirm without a preview changes nothing.
    assert client.post(CONFIRM, {"digest": "0" * 64}).status_code == 302
    assert snapshot() == before


def test_a_non_utf8_file_is_a_clear_error_not_a_server_error(client, cast):
    verified_login(client, cast.helen)
    response = upload(client, cast.oakfield, (FIXTURES / "excel_windows_1252.csv").read_bytes())
    assert response.status_code == 400
    assert "not UTF-8" in response.content.decode()


def test_confirm_rereads_the_content_against_the_database_as_it_is_now(client, cast):
    verified_login(client, cast.helen)
    response = upload(client, cast.oakfield, "Email,Name,Role\nnew.one@example.org,New One,Volunteer\n")
    assert counts(response)["created"] == 1
    # Meanwhile someone else imported the same person.
    staff_import.run("Email,Name,Role\nnew.one@example.org,New One,Volunteer\n", cast.oakfield)
    assert client.post(CONFIRM, {"digest": digest(response)}).status_code == 302
    assert User.objects.filter(email="new.one@example.org").count() == 1
    event = AuditEvent.objects.filter(object_type="staff_import", actor=cast.helen).get()
    assert event.detail["created"] == 0 and event.detail["unchanged"] == 1


def test_a_stale_preview_is_refused(client, cast):
    verified_login(client, cast.helen)
    first = upload(client, cast.oakfield, "Email\nfirst@example.org\n")
    upload(client, cast.oakfield, "Email\nsecond@example.org\n")  # another tab
    response = client.post(CONFIRM, {"digest": digest(first)})
    assert response.status_code == 302
    assert not User.objects.filter(email__in=["first@example.org", "second@example.org"]).exists()


def test_deactivate_preview_lists_leavers_and_their_open_cases(client, cast):
    case = report(cast.oakfield, cast.sam)  # owned by Helen
    hugo = person("Hugo Hale", cast.oakfield, Role.HEAD, Role.STAFF)  # a co-head: sees Helen's cases
    verified_login(client, hugo)
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    response = upload(client, cast.oakfield, f"Email,Role\n{cast.sam.email},Teacher\n", deactivate=True)
    html = response.content.decode()
    assert counts(response)["deactivated"] == 4  # Helen, Dina, Gary, Carol; Tom and Priya keep their roles
    leavers = re.search(r'<ul id="import-leavers">.*</ul>', html, re.S)[0]
    assert cast.helen.email in leavers and f'href="/incidents/{case.reference}/"' in leavers
    assert case.description not in html
    # Case references on the page: an audited read (accounts/audit_reads.py CASE_READS).
    assert AuditEvent.objects.filter(id__gt=last, action="view", detail__view="staff_import").count() == 1
    assert Membership.objects.filter(user=cast.helen, school=cast.oakfield).count() == 2  # not yet
    client.post(CONFIRM, {"digest": digest(response)})
    assert not Membership.objects.filter(user=cast.helen, school=cast.oakfield).exists()
    assert User.objects.filter(pk=cast.helen.pk).exists()


def test_the_preview_never_shows_a_case_the_viewer_may_not_see(client, cast):
    """The chair owns a case about Helen, the head. Helen imports a list without the chair: the
    preview must not show her that case's reference (the subject never sees a trace of it); a trust
    admin sees no case reference at all."""
    about_helen = report(cast.oakfield, cast.sam, involved=Involved.STAFF, subject=cast.helen)
    assert about_helen.owner_id == cast.carol.pk
    parent_post = report(cast.oakfield, cast.dina)  # owned by Helen
    file = f"Email,Role\n{cast.sam.email},Teacher\n{cast.dina.email},DSL\n"
    for viewer in (cast.helen, cast.tom):
        verified_login(client, viewer)
        last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
        html = upload(client, cast.oakfield, file, deactivate=True).content.decode()
        assert cast.carol.email in html  # she is leaving ...
        assert about_helen.reference not in html  # ... but what she owns here is not for this viewer
        if viewer == cast.tom:
            assert parent_post.reference not in html
        assert not AuditEvent.objects.filter(id__gt=last, action="view", detail__view="staff_import").exists()
        client.logout()


def test_trust_admin_imports_at_another_school_of_the_trust_but_not_another_trust(client, cast):
    verified_login(client, cast.tom)  # a trust admin at Oakfield
    response = upload(client, cast.brookside, "Email\nnew@brookside.example.org\n")
    assert response.status_code == 200
    client.post(CONFIRM, {"digest": digest(response)})
    assert Membership.objects.filter(user__email="new@brookside.example.org", school=cast.brookside).exists()

    elsewhere = SchoolFactory(trust=TrustFactory(), slug="elsewhere")
    assert upload(client, elsewhere, "Email\nx@example.org\n").status_code == 404
    assert not User.objects.filter(email="x@example.org").exists()


@pytest.mark.parametrize("who", ["sam", "gary", "carol", "dina", "priya"])
def test_staff_governors_dsl_and_dpo_are_refused(client, cast, who):
    verified_login(client, getattr(cast, who))
    assert client.get(URL).status_code == 403
    assert upload(client, cast.oakfield, "Email\nx@example.org\n").status_code == 403
    assert client.post(CONFIRM, {"digest": "x"}).status_code == 403
    assert not User.objects.filter(email="x@example.org").exists()


def test_a_volunteer_is_refused(client, cast):
    volunteer = person("Val Unteer", cast.oakfield, Role.VOLUNTEER)
    client.force_login(volunteer)
    assert client.get(URL).status_code == 403


def test_a_head_of_another_school_gets_404(client, cast):
    verified_login(client, cast.olive)  # head at Brookside
    before = snapshot()
    response = upload(client, cast.oakfield, "Email\nx@example.org\n", deactivate=True)
    assert response.status_code == 404
    assert snapshot() == before
    # Her own school is fine; the form lists only hers.
    page = client.get(URL).content.decode()
    assert cast.brookside.name in page and cast.oakfield.name not in page


def test_a_head_at_one_school_and_staff_at_another_may_import_only_where_head(client, cast):
    member_of_both = person("Hana Both", cast.oakfield, Role.STAFF)
    Membership.objects.create(user=member_of_both, school=cast.brookside, role=Role.HEAD)
    verified_login(client, member_of_both)
    assert upload(client, cast.oakfield, "Email\nx@example.org\n").status_code == 404
    assert upload(client, cast.brookside, "Email\nx@example.org\n").status_code == 200
