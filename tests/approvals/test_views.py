"""The pages, over HTTP: the journey a teacher and the head take, the do-not-publish list (import,
audit of every look), the link from a case to an official account, query counts at two sizes, and
phone-width layout (no wide tables: every table is in the stacking card wrapper)."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent
from approvals import services
from approvals.models import (
    AccountConcern,
    AccountStatus,
    AuthorisationRequest,
    AuthorisationStatus,
    DoNotPublishEntry,
    OfficialAccount,
)
from incidents.models import Category, Involved, Notification
from tests.approvals.conftest import account_for, open_account, signed_in
from tests.incidents.factories import report

pytestmark = pytest.mark.django_db


def test_a_teacher_asks_for_a_class_account_and_to_post_trip_photos(world, client):
    signed_in(client, world.sam)
    form = {
        "platform": "Instagram",
        "name": "@oak_y6",
        "purpose": "Class news",
        "audience": "Year 6 parents",
        "moderation_plan": "Comments off",
        "administrators": [world.sam.pk],
    }
    response = client.post(reverse("approvals:account_new"), form)
    assert response.status_code == 400 and "at least two administrators" in response.content.decode()
    assert not OfficialAccount.objects.exists()
    response = client.post(reverse("approvals:account_new"), form | {"administrators": [world.sam.pk, world.tess.pk]})
    account = OfficialAccount.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("approvals:account", args=[account.pk])

    head = signed_in(type(client)(), world.helen)
    index = head.get(reverse("approvals:index")).content.decode()
    assert reverse("approvals:account", args=[account.pk]) in index  # waiting for her decision
    assert head.post(reverse("approvals:account_decide", args=[account.pk]), {"decision": "approve"}).status_code == 302
    assert OfficialAccount.objects.get().status == AccountStatus.OPEN

    photos = {
        "kind": world.post_kind.pk,
        "account": account.pk,
        "details": "Trip photos",
        "images_of_pupils": "on",
    }
    assert client.post(reverse("approvals:authorisation_new"), photos).status_code == 302
    request = AuthorisationRequest.objects.get()
    url = reverse("approvals:authorisation_decide", args=[request.pk])
    page = head.get(reverse("approvals:authorisation", args=[request.pk])).content.decode()
    assert reverse("approvals:do_not_publish") in page  # the approver is pointed at the list
    refused = head.post(url, {"decision": "approve"})
    assert refused.status_code == 400 and "Check the do-not-publish list" in refused.content.decode()
    assert AuthorisationRequest.objects.get().status == AuthorisationStatus.REQUESTED
    assert head.post(url, {"decision": "approve", "consent_checked": "on", "conditions": "No faces"}).status_code == 302
    request.refresh_from_db()
    assert request.status == AuthorisationStatus.APPROVED and request.consent_checked_by == world.helen
    assert "No faces" in client.get(reverse("approvals:authorisation", args=[request.pk])).content.decode()


# --- The do-not-publish list ----------------------------------------------------------------------------


def _upload(text: str, encoding="utf-8"):
    return SimpleUploadedFile("list.csv", text.encode(encoding), content_type="text/csv")


def test_the_list_imports_a_mis_export_with_bom_crlf_aliases_and_quotes(world, client):
    DoNotPublishEntry.objects.create(school=world.oakfield, name="Old Entry", class_name="5A", flags=["no_images"])
    signed_in(client, world.dina)
    text = (
        "\ufeffPupil Name , Tutor Group,Restrictions\r\n"
        '"O\'Brien, Amy",6B,No photos; no name\r\n'
        "\r\n"
        "  Ben Cole  ,6C,\r\n"
    )
    response = client.post(reverse("approvals:do_not_publish_import"), {"file": _upload(text, "utf-8")})
    assert response.status_code == 302
    rows = list(DoNotPublishEntry.objects.filter(school=world.oakfield).values_list("name", "class_name", "flags"))
    assert sorted(rows) == [("Ben Cole", "6C", ["no_images"]), ("O'Brien, Amy", "6B", ["no_images", "no_name"])]
    event = AuditEvent.objects.filter(object_type="do_not_publish", action=AuditAction.CHANGE).get()
    assert event.detail == {"op": "imported", "entries": 2, "replaced": 1} and event.actor == world.dina


@pytest.mark.parametrize(
    "text, problems",
    [
        ("name,class\nAmy,6B\n,6C\nCara,\n", ["Line 3: The pupil's name is missing.", "Line 4: The class is missing."]),
        ("name,form,flags\nAmy,6B,no pets\n", ["Line 2: Unknown flag 'no pets'"]),
        ("name,class\nAmy,6B\namy,6b\n", ["Line 3: The same pupil and class as line 2."]),
        ("pupil,teacher\nAmy,Mr Smith\n", ["Line 1: The header has no 'class' column."]),
        ("name,class\r\n\r\n", ["Line 1: The file has no pupils"]),
    ],
)
def test_a_file_with_any_bad_line_imports_nothing_and_names_every_line(world, client, text, problems):
    DoNotPublishEntry.objects.create(school=world.oakfield, name="Kept", class_name="5A", flags=["no_images"])
    signed_in(client, world.helen)
    response = client.post(reverse("approvals:do_not_publish_import"), {"file": _upload(text)})
    assert response.status_code == 400
    html = response.content.decode().replace("&#x27;", "'")
    for problem in problems:
        assert problem in html
    assert list(DoNotPublishEntry.objects.values_list("name", flat=True)) == ["Kept"]


def test_a_file_that_is_not_utf8_imports_nothing(world, client):
    signed_in(client, world.helen)
    response = client.post(
        reverse("approvals:do_not_publish_import"), {"file": _upload("name,class\nZoë,6B\n", "latin-1")}
    )
    assert response.status_code == 400 and "not UTF-8" in response.content.decode()
    assert not DoNotPublishEntry.objects.exists()


def test_every_look_at_the_list_is_audited_and_every_refused_look_too(world, client):
    DoNotPublishEntry.objects.create(school=world.oakfield, name="Amy Lee", class_name="6B", flags=["no_images"])
    url = reverse("approvals:do_not_publish")
    for name, status in [("helen", 200), ("dev", 200), ("dina", 200), ("sam", 403), ("carol", 403)]:
        client = signed_in(type(client)(), getattr(world, name))
        before = AuditEvent.objects.count()
        for query in ("", "?q=Amy", "?q=nobody"):
            response = client.get(url + query)
            assert response.status_code == status, name
            assert ("Amy Lee" in response.content.decode()) == (status == 200 and query != "?q=nobody")
        events = AuditEvent.objects.order_by("id")[before:]
        action = AuditAction.VIEW if status == 200 else AuditAction.REFUSED
        assert [(e.action, e.object_type, e.actor_id, e.school_id) for e in events] == [
            (action, "do_not_publish", getattr(world, name).pk, world.oakfield.pk)
        ] * 3, name
        assert "Amy" not in str([e.detail for e in events])


def test_adding_and_removing_a_pupil(world, client):
    signed_in(client, world.dev)
    assert (
        client.post(reverse("approvals:do_not_publish"), {"name": "Cara Hill", "class_name": "3A"}).status_code == 302
    )
    entry = DoNotPublishEntry.objects.get()
    assert entry.flags == [] and entry.flag_labels() == []
    bad = client.post(reverse("approvals:do_not_publish"), {"name": "", "class_name": "3A"})
    assert bad.status_code == 400 and DoNotPublishEntry.objects.count() == 1
    # Removing one of another school's list: as if it did not exist.
    other = DoNotPublishEntry.objects.create(school=world.brookside, name="X", class_name="1", flags=[])
    assert client.post(reverse("approvals:do_not_publish_remove", args=[other.pk])).status_code == 404
    assert client.post(reverse("approvals:do_not_publish_remove", args=[entry.pk])).status_code == 302
    assert list(DoNotPublishEntry.objects.all()) == [other]
    sam = signed_in(type(client)(), world.sam)
    assert sam.post(reverse("approvals:do_not_publish_remove", args=[other.pk])).status_code == 403


# --- A case about an official account -------------------------------------------------------------------


def test_the_case_owner_links_a_case_to_an_account_and_its_administrators_are_told_but_not_the_subject(world, client):
    account = open_account(world)  # run by Sam and Tess
    case = report(
        world.oakfield, world.una, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=world.tess
    )
    signed_in(client, world.helen)
    page = client.get(reverse("incidents:detail", args=[case.reference])).content.decode()
    assert reverse("approvals:concern_link") in page and "@oakfield_year6" in page
    response = client.post(reverse("approvals:concern_link"), {"incident": case.pk, "account": account.pk})
    assert response.status_code == 302 and response["Location"] == reverse("incidents:detail", args=[case.reference])
    assert AccountConcern.objects.filter(incident=case, account=account).exists()
    told = Notification.objects.filter(kind="account_concern")
    assert [n.recipient for n in told] == [world.sam]  # Tess is the subject: never told, not even this
    assert case.reference not in "".join(told[0].key) and told[0].incident is None
    # Tess's own view of the account shows no trace of the case.
    tess = signed_in(type(client)(), world.tess)
    assert case.reference not in tess.get(reverse("approvals:account", args=[account.pk])).content.decode()
    # Linking again tells nobody twice.
    client.post(reverse("approvals:concern_link"), {"incident": case.pk, "account": account.pk})
    assert told.count() == 1


@pytest.mark.parametrize("who", ["una", "sam", "olive", "dina"])
def test_only_the_case_owner_links_it(world, client, who):
    account = open_account(world)
    case = report(world.oakfield, world.una)
    signed_in(client, getattr(world, who))
    assert (
        client.post(reverse("approvals:concern_link"), {"incident": case.pk, "account": account.pk}).status_code == 404
    )
    assert not AccountConcern.objects.exists() and not Notification.objects.filter(kind="account_concern").exists()


# --- Query counts ---------------------------------------------------------------------------------------


def _grow(world, n):
    for i in range(n):
        account = account_for(world, name=f"@acc{OfficialAccount.objects.count()}")
        if i % 2:
            services.account_decide(user=world.helen, account=account, approve=True, reason="")
        services.authorisation_request(user=world.sam, school=world.oakfield, kind=world.media_kind, details="x")
        DoNotPublishEntry.objects.create(school=world.oakfield, name=f"Pupil {i}", class_name="6B", flags=["no_name"])


@pytest.mark.parametrize(
    "page, limit",
    [
        ("approvals:index", 14),
        ("approvals:register", 11),
        ("approvals:authorisations", 9),
        ("approvals:do_not_publish", 11),
    ],
)
def test_the_list_pages_do_not_grow_with_the_school(world, client, django_assert_max_num_queries, page, limit):
    """The same number of queries at 3 and at 30 of everything; the limits are PostgreSQL's count
    (SQLite's is two fewer: no savepoint queries)."""
    signed_in(client, world.helen)
    url = reverse(page)
    counts = []
    for size in (3, 30):
        _grow(world, size - OfficialAccount.objects.count())
        client.get(url)  # warm per-process caches (content types) out of the count
        with django_assert_max_num_queries(limit) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


# --- Phone width ----------------------------------------------------------------------------------------

TEMPLATES = Path(__file__).resolve().parents[2] / "approvals" / "templates" / "approvals"


def test_every_table_stacks_into_cards_on_a_phone():
    """static/css/policyhub.css turns a table inside .table-responsive into one card per row below
    768 px: no template of this app puts a table anywhere else."""
    tables = 0
    for path in TEMPLATES.glob("*.html"):
        html = path.read_text()
        for match in re.finditer(r"<table", html):
            tables += 1
            before = html[: match.start()]
            assert before.rstrip().endswith('<div class="table-responsive">'), path.name
    assert tables >= 3
