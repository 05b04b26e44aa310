"""Id guessing (issue 6, "Attack tests"): a signed-in user tries every case reference and file id
that exists, as many made-up ones, and the old numeric URLs; on people URLs, user ids 1..N and a
few past the last. They get 200 exactly for the objects the hand-written tables of
test_access_matrix.py say they may open, and for everything else a 404 that is the same — status,
templates and bytes — whether the object exists or not, so the answer says nothing about what
exists. (Case and file URLs carry no database id: tests/security/test_reference_leaks.py.)"""

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from incidents import references
from incidents.models import Evidence, Incident
from tests.security.test_access_matrix import (
    CASES,
    MEMBER_AT,
    MERGED_CASES,
    OWNER_ROLES,
    OWNERS,
    OWNS_AT,
    SIGNED_IN,
    client_for,
)

pytestmark = pytest.mark.django_db

GUESSERS = ["sam", "rita", "dina", "gary", "carol", "tom", "priya", "olive", "bethan", "helen", "hugo"]
PAST_THE_END = 5
CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def _fingerprint(response, url):
    templates = tuple(t.name for t in response.templates)
    if response.streaming:  # a file: its bytes are not what is compared
        return response.status_code, templates, b"<file>"
    body = response.content.replace(url.encode(), b"<url>")
    # The sign-out form's CSRF token is masked afresh for every response (BREACH): random, about
    # nothing, so it is not part of what is compared.
    body = CSRF_TOKEN.sub(b'name="csrfmiddlewaretoken" value="<token>"', body)
    return response.status_code, templates, body


def _window(existing):
    """The ids around the ones that exist. Not from 1: on PostgreSQL, sequences keep counting
    across the suite's rolled-back tests, so ids can start in the thousands."""
    return range(max(1, min(existing) - PAST_THE_END), max(existing) + PAST_THE_END + 1)


def _references(existing):
    """Every reference that exists, and as many well-formed ones that do not."""
    made_up = set()
    while len(made_up) < len(existing):
        made_up.add(references.new_reference("OAK"))
    return sorted(existing | (made_up - existing))


def _file_ids(existing):
    return sorted(existing | {uuid.uuid4() for _ in existing}, key=str)


def _walk(client, name, ids):
    answers = {}
    for pk in ids:
        url = reverse(name, args=[pk])
        answers[pk] = _fingerprint(client.get(url), url)
    return answers


def _check(answers, allowed, existing, label):
    ok = {pk for pk, (status, _, _) in answers.items() if status == 200}
    assert ok == allowed, f"{label}: 200 for {sorted(ok)}, expected {sorted(allowed)}"
    denied = {pk: a for pk, a in answers.items() if pk not in allowed}
    assert all(status == 404 for status, _, _ in denied.values()), label
    hidden = {a for pk, a in denied.items() if pk in existing}
    missing = {a for pk, a in denied.items() if pk not in existing}
    assert missing, f"{label}: the walk must reach ids that do not exist"
    # One fingerprint for every 404: "yours not" and "nobody's" cannot be told apart.
    assert len(hidden | missing) == 1, f"{label}: {len(hidden | missing)} different 404s"
    return len(answers)


@pytest.mark.parametrize("actor", GUESSERS)
def test_walking_case_ids_finds_only_your_cases(world, actor):
    client = client_for(world, actor)
    existing = set(Incident.objects.values_list("reference", flat=True))
    # A merged report's page sends its owners to the survivor they own (a 302, never a 404).
    redirected = {world.cases[key].reference for key in MERGED_CASES if set(CASES[key].get(actor, "")) & OWNERS}
    for reference in redirected:
        assert client.get(reverse("incidents:detail", args=[reference])).status_code == 302
    ids = [pk for pk in _references(existing) if pk not in redirected]
    allowed = {world.cases[key].reference for key, who in CASES.items() if actor in who} - redirected
    _check(_walk(client, "incidents:detail", ids), allowed, existing, f"{actor} on cases")
    # The confirmation page answers the reporter only.
    mine = {world.cases[key].reference for key, who in CASES.items() if "R" in who.get(actor, "")}
    _check(_walk(client, "incidents:report_done", ids), mine, existing, f"{actor} on report_done")


@pytest.mark.parametrize("actor", GUESSERS)
def test_walking_evidence_ids_finds_only_files_you_may_open(world, actor):
    client = client_for(world, actor)
    existing = set(Evidence.objects.values_list("public_id", flat=True))
    ids = _file_ids(existing)
    allowed = set()
    for key, item in world.evidence.items():
        relations = set(CASES[key].get(actor, ""))
        # An open task on the case ([8]) opens its files as the owners do (none is withdrawn here).
        if item is not None and (relations & OWNERS or relations & {"R", "A"}):
            allowed.add(item.public_id)
    if set(CASES["parent"].get(actor, "")) & (OWNERS | {"A"}):
        allowed.add(world.head_file.public_id)  # the reporter does not get the head's file
    _check(_walk(client, "incidents:evidence_download", ids), allowed, existing, f"{actor} on evidence")


@pytest.mark.parametrize("actor", sorted(OWNER_ROLES))
def test_walking_people_ids_finds_only_adults_at_your_schools(world, actor):
    client = client_for(world, actor)
    existing = set(User.objects.values_list("pk", flat=True))
    ids = _window(existing)
    # Everyone at the schools where the actor is an owner, but themselves (the matrix's lists,
    # written out: Vera, staff at Oakfield and head at Brookside, is at both).
    same = [name for name in SIGNED_IN if OWNS_AT[actor] & MEMBER_AT[name]]
    allowed = {getattr(world, name).pk for name in same if name != actor}
    _check(_walk(client, "incidents:person", ids), allowed, existing, f"{actor} on people")


def test_anonymous_walkers_are_sent_to_sign_in_for_every_id(world):
    client = Client()
    windows = {
        "incidents:detail": _references(set(Incident.objects.values_list("reference", flat=True))),
        "incidents:evidence_download": _file_ids(set(Evidence.objects.values_list("public_id", flat=True))),
        "incidents:person": _window(set(User.objects.values_list("pk", flat=True))),
    }
    for name, ids in windows.items():
        for pk in ids:
            response = client.get(reverse(name, args=[pk]))
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("actor", ["helen", "sam", "carol"])
def test_the_old_numeric_case_and_file_urls_answer_nothing(world, actor):
    """/incidents/12/ was a case's address: now no id opens anything, for its owner either, and
    every such answer is the site's one 404."""
    client = client_for(world, actor)
    answers = set()
    for pk in Incident.objects.values_list("pk", flat=True):
        for path in (f"/incidents/{pk}/", f"/incidents/report/{pk}/done/", f"/audit/case/{pk}/"):
            response = client.get(path)
            answers.add(_fingerprint(response, path))
    for pk in Evidence.objects.values_list("pk", flat=True):
        path = f"/incidents/evidence/{pk}/download/"
        answers.add(_fingerprint(client.get(path), path))
    assert {status for status, _, _ in answers} == {404}
    assert len(answers) == 1
