"""Reading the policy: the policy page, versions, clause pages, search and the diff, through HTTP."""

import datetime as dt

import pytest
from django.urls import reverse

from policyhub import services
from policyhub.models import Clause
from tests.policyhub.policy_data import draft, school_policy, sign_in, structure, trust_policy

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    sign_in(client, user)
    return client


def test_staff_read_the_adopted_policy_with_clause_anchors_and_topics(client, cast):
    data = structure()
    data["sections"][0]["clauses"][0]["topics"] = ["images"]
    trust_policy(cast, data)
    response = signed_in(client, cast.sam).get(reverse("policy:page"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="clause-1-2-1"' in html and "Sub-clause 1.2.1" in html
    assert "Images and video" in html
    assert "I have read and understood this policy" in html


def test_a_school_with_no_policy_says_so(client, cast):
    response = signed_in(client, cast.sam).get(reverse("policy:page"))
    assert response.status_code == 200
    assert "has not published or adopted" in response.content.decode()


def test_old_versions_stay_readable_from_the_version_selector(client, cast):
    v1 = trust_policy(cast)
    v2 = draft(v1.policy, structure(salt=" revised"))
    services.policy_version_publish(actor=cast.tom, version=v2, effective_date=dt.date(2026, 1, 1))
    client = signed_in(client, cast.sam)
    current = client.get(reverse("policy:page")).content.decode()
    assert "about pupils revised" in current or "revised." in current
    old = client.get(reverse("policy:page"), {"version": v1.pk})
    assert old.status_code == 200
    assert "no longer in force" in old.content.decode()
    assert "revised" not in old.content.decode()


def test_staff_never_see_a_draft(client, cast):
    v2 = draft(trust_policy(cast).policy)
    client = signed_in(client, cast.sam)
    assert client.get(reverse("policy:version", args=[v2.pk])).status_code == 404
    assert client.get(reverse("policy:page"), {"version": v2.pk}).status_code == 404
    clause = Clause.objects.filter(version=v2).first()
    assert client.get(reverse("policy:clause", args=[clause.pk])).status_code == 404


def test_the_manager_reads_a_draft(client, cast):
    v2 = draft(trust_policy(cast).policy)
    response = signed_in(client, cast.tom).get(reverse("policy:version", args=[v2.pk]))
    assert response.status_code == 200 and "This is a draft" in response.content.decode()


def test_other_school_staff_get_404_for_a_schools_own_policy(client, cast):
    version = school_policy(cast)
    clause = Clause.objects.filter(version=version).first()
    client = signed_in(client, cast.bethan)
    assert client.get(reverse("policy:version", args=[version.pk])).status_code == 404
    assert client.get(reverse("policy:clause", args=[clause.pk])).status_code == 404


def test_clause_page_has_the_place_for_incidents_that_cited_it(client, cast):
    version = trust_policy(cast)
    clause = Clause.objects.get(version=version, ref="1.2.1")
    response = signed_in(client, cast.sam).get(reverse("policy:clause", args=[clause.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Incidents that cited this clause" in html and "Sub-clause 1.2.1" in html
    assert "Part of" in html and "clause 1.2" in html


def test_anonymous_visitors_are_sent_to_sign_in(client, cast):
    trust_policy(cast)
    for name in ("policy:page", "policy:search", "policy:diff", "policy:compliance", "policy:import"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], name


def test_diff_shows_added_removed_and_changed_clauses(client, cast):
    v1 = trust_policy(cast, structure(1, 3, sub=False))
    changed = structure(1, 3, sub=False)
    clauses = changed["sections"][0]["clauses"]
    clauses[0]["text"] = "Clause 1.1 about something quite different."
    del clauses[1]
    clauses.append({"ref": "1.4", "text": "A brand new clause.", "parent": None, "topics": []})
    v2 = draft(v1.policy, changed)
    services.policy_version_publish(actor=cast.tom, version=v2, effective_date=dt.date(2026, 1, 1))
    response = signed_in(client, cast.sam).get(reverse("policy:diff"), {"from": v1.pk, "to": v2.pk})
    html = response.content.decode()
    assert response.context["counts"] == {"added": 1, "removed": 1, "changed": 1}
    assert [(e["kind"], e["ref"]) for e in response.context["entries"]] == [
        ("changed", "1.1"),
        ("removed", "1.2"),
        ("same", "1.3"),
        ("added", "1.4"),
    ]
    assert "<del>" in html and "<ins>something quite different.</ins>" in html


def test_diff_of_a_version_you_cannot_see_is_404(client, cast):
    v1 = trust_policy(cast)
    v2 = draft(v1.policy)
    response = signed_in(client, cast.sam).get(reverse("policy:diff"), {"from": v1.pk, "to": v2.pk})
    assert response.status_code == 404


def test_diff_escapes_clause_text(client, cast):
    data = structure(1, 1, sub=False)
    v1 = trust_policy(cast, data)
    data["sections"][0]["clauses"][0]["text"] = "<script>alert(1)</script> new"
    v2 = draft(v1.policy, data)
    services.policy_version_publish(actor=cast.tom, version=v2, effective_date=dt.date(2026, 1, 1))
    html = signed_in(client, cast.sam).get(reverse("policy:diff")).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
