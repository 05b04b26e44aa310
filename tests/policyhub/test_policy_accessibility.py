"""Basic accessibility markup on every policy page: one h1, landmarks, a label for every field, unique ids."""

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from policyhub import services
from policyhub.models import Clause
from policyhub.views import IMPORT_SESSION_KEY
from tests.policyhub.policy_data import draft, sign_in, structure, trust_policy

pytestmark = pytest.mark.django_db

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset"}


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.h1 = 0
        self.landmarks = set()
        self.ids: list[str] = []
        self.label_for: set[str] = set()
        self.fields: list[dict] = []
        self.label_depth = 0
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "h1":
            self.h1 += 1
        if tag in ("main", "header", "footer", "nav"):
            self.landmarks.add(tag)
        if tag == "label":
            self.label_depth += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        if tag == "script" and "src" not in attrs:
            self.inline_scripts += 1
        if tag in ("input", "select", "textarea") and attrs.get("type", "text") not in UNLABELLED_TYPES:
            self.fields.append({**attrs, "_in_label": self.label_depth > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self.label_depth -= 1


def check(html: str, url: str) -> None:
    page = Page()
    page.feed(html)
    assert page.h1 == 1, f"{url}: {page.h1} h1 elements"
    assert {"main", "header", "footer", "nav"} <= page.landmarks, url
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    assert not duplicates, f"{url}: repeated ids {duplicates}"
    for field in page.fields:
        labelled = field["_in_label"] or field.get("id") in page.label_for or field.get("aria-label")
        assert labelled, f"{url}: field {field.get('name')} has no label"
    assert page.inline_scripts == 0, f"{url}: inline script"


@pytest.fixture
def pages(cast, client):
    v1 = trust_policy(cast, structure())
    v2 = draft(v1.policy, structure(salt=" again"))
    services.policy_version_publish(actor=cast.tom, version=v2, effective_date=dt.date(2026, 1, 1))
    v3 = draft(v1.policy)
    clause = Clause.objects.filter(version=v2).first()
    return {
        "sam": [
            reverse("policy:page"),
            reverse("policy:page") + f"?version={v1.pk}",
            reverse("policy:search") + "?q=clause",
            reverse("policy:diff"),
            reverse("policy:clause", args=[clause.pk]),
            reverse("policy:version", args=[v1.pk]),
        ],
        "helen": [reverse("policy:compliance"), reverse("policy:manage"), reverse("policy:import")],
        "tom": [
            reverse("policy:version", args=[v3.pk]),
            reverse("policy:draft_edit", args=[v3.pk]),
            reverse("policy:draft_section", args=[v3.pk, 0]),
            reverse("policy:publish", args=[v3.pk]),
        ],
    }


def test_every_policy_page_has_one_h1_landmarks_and_labelled_fields(client, cast, pages):
    for who, urls in pages.items():
        sign_in(client, getattr(cast, who))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            check(response.content.decode(), url)


def test_import_preview_and_section_editor_pass_too(client, cast):
    sign_in(client, cast.helen)
    session = client.session
    session[IMPORT_SESSION_KEY] = {
        "school_id": cast.oakfield.pk,
        "owner": "school",
        "title": "t",
        "source_name": "s.txt",
        "structure": structure(),
    }
    session.save()
    for url in (reverse("policy:import_preview"), reverse("policy:import_section", args=[0])):
        response = client.get(url)
        assert response.status_code == 200
        check(response.content.decode(), url)


def test_form_errors_are_tied_to_their_fields(client, cast):
    sign_in(client, cast.helen)
    response = client.post(reverse("policy:import"), {"owner": "school", "title": "t", "text": "nonsense"})
    html = response.content.decode()
    assert response.status_code == 400 and "does not look like a policy" in html
    check(html, "import with errors")
