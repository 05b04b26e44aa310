"""Clause search: PostgreSQL full-text search on PostgreSQL, a case-insensitive match elsewhere."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse

from policyhub import services
from policyhub.models import Clause
from policyhub.search import search_clauses
from tests.policyhub.policy_data import draft, school_policy, sign_in, trust_policy

pytestmark = pytest.mark.django_db

TEXTS = {
    "1.1": "Staff must not share photographs of pupils on personal accounts.",
    "1.2": "Parents and carers are asked not to post images of other people's children.",
    "1.3": "Comments on the school page are answered within 24 hours.",
    "1.4": "Photographs, photographs and more photographs: pupils' photographs need consent.",
}


def data(texts=TEXTS):
    clauses = [{"ref": ref, "text": text, "parent": None, "topics": []} for ref, text in texts.items()]
    return {"sections": [{"number": "1", "heading": "Rules", "clauses": clauses}]}


def refs(response):
    return [c.ref for c in response.context["results"]]


def test_search_finds_clauses_by_their_words(client, cast):
    trust_policy(cast, data())
    sign_in(client, cast.sam)
    response = client.get(reverse("policy:search"), {"q": "photographs pupils"})
    assert response.status_code == 200
    assert sorted(refs(response)) == ["1.1", "1.4"]
    assert "Clause 1.1" in response.content.decode()


def test_search_is_case_insensitive_and_an_empty_query_finds_nothing(client, cast):
    trust_policy(cast, data())
    sign_in(client, cast.sam)
    assert refs(client.get(reverse("policy:search"), {"q": "PARENTS"})) == ["1.2"]
    assert refs(client.get(reverse("policy:search"), {"q": ""})) == []
    assert "No clauses found" in client.get(reverse("policy:search"), {"q": "zebra"}).content.decode()


def test_search_covers_the_version_in_force_unless_asked_for_earlier_ones(client, cast):
    v1 = trust_policy(cast, data())
    newer = data({"1.1": "Staff keep their accounts private."})
    services.policy_version_publish(actor=cast.tom, version=draft(v1.policy, newer), effective_date=dt.date(2026, 1, 1))
    sign_in(client, cast.sam)
    assert refs(client.get(reverse("policy:search"), {"q": "parents"})) == []
    assert refs(client.get(reverse("policy:search"), {"q": "parents", "all": "1"})) == ["1.2"]


def test_search_never_returns_drafts_or_another_schools_policy(client, cast):
    v1 = trust_policy(cast, data())
    draft(v1.policy, data({"1.1": "Secret draft wording about zebras."}))
    school_policy(cast, cast.brookside, data({"1.1": "Brookside zebras only."}))
    sign_in(client, cast.sam)
    assert refs(client.get(reverse("policy:search"), {"q": "zebras", "all": "1"})) == []


def test_search_backend_matches_the_database_vendor(cast):
    version = trust_policy(cast, data())
    results = list(search_clauses(Clause.objects.filter(version=version), "photograph"))
    if connection.vendor == "postgresql":
        # English stemming: "photograph" finds "photographs"; the clause that says it most ranks first.
        assert [c.ref for c in results] == ["1.4", "1.1"]
        assert results[0].rank > results[1].rank
    else:
        assert sorted(c.ref for c in results) == ["1.1", "1.4"]
        assert not hasattr(results[0], "rank")


@pytest.mark.postgres
def test_postgres_full_text_search_understands_web_search_syntax(cast):
    assert connection.vendor == "postgresql"
    version = trust_policy(cast, data())
    clauses = Clause.objects.filter(version=version)
    assert [c.ref for c in search_clauses(clauses, '"other people\'s children"')] == ["1.2"]
    assert sorted(c.ref for c in search_clauses(clauses, "photographs -personal")) == ["1.4"]
    assert [c.ref for c in search_clauses(clauses, "answering")] == ["1.3"]  # stemmed


def test_a_search_with_a_nul_character_is_refused_with_a_message(client, cast):
    """PostgreSQL refuses NUL in a query; the form stops it first (found by the fuzz tests)."""
    from django.urls import reverse

    client.force_login(cast.sam)
    response = client.get(reverse("policy:search"), {"q": "photos\x00"})
    assert response.status_code == 400
    assert "Null characters are not allowed" in response.content.decode()
