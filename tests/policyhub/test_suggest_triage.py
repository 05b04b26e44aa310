"""The triage form's clause list (policyhub/suggest.py, policyhub/templates/policyhub/_clause_picker.html):
suggested clauses first, the rest collapsed by section, clause text never cut inside a word."""

import html
import logging
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from incidents import services
from incidents.models import Category, Severity, Status
from policyhub import suggest
from policyhub.demo_policy import seed_policy
from policyhub.models import Clause, PolicyVersion, VersionStatus
from tests.incidents.factories import fresh, report, sign_in

pytestmark = pytest.mark.django_db

DESCRIPTION = "A mum put pics of other kids from the nativity on her Facebook page. Secret-word Quillon."


@pytest.fixture
def version(cast):
    seed_policy(trust=cast.trust, schools={"oakfield": cast.oakfield})
    return PolicyVersion.objects.get(policy__trust=cast.trust, status=VersionStatus.ACTIVE)


@pytest.fixture
def case(cast, version):
    incident = report(cast.oakfield, cast.sam, category=Category.PARENT_POST, description=DESCRIPTION)
    services.incident_acknowledge(incident=fresh(incident), actor=cast.helen)
    return fresh(incident)


def page_as(client, user, incident):
    sign_in(client, user)
    return client.get(reverse("incidents:detail", args=[incident.reference]))


def checkboxes(body):
    """(clause pk, checked) of every clause checkbox, in page order."""
    return [
        (int(m.group(1)), "checked" in m.group(0))
        for m in re.finditer(r'<input type="checkbox"[^>]*name="triage-clauses" value="(\d+)"[^>]*>', body)
    ]


def cut_at_a_word(shown: str, text: str) -> bool:
    """Whether `shown` is `text` cut after a whole word (plus an ellipsis); fails if cut inside one."""
    full = " ".join(text.split())
    if shown == full:
        return False
    assert shown.endswith("\u2026"), shown
    words, kept = full.split(), shown[:-1].split()
    assert kept[:-1] == words[: len(kept) - 1]
    assert kept[-1] == words[len(kept) - 1].rstrip(",;:-\u2013\u2014"), shown
    return True


def test_the_suggested_clauses_come_first_and_every_clause_is_offered_once(client, cast, version, case):
    response = page_as(client, cast.helen, case)
    body = response.content.decode()
    assert "Suggested for this concern" in body
    boxes = checkboxes(body)
    pks = [pk for pk, _ in boxes]
    assert sorted(pks) == sorted(version.clauses.values_list("pk", flat=True))  # all 38, each once
    first = Clause.objects.get(pk=pks[0])
    assert first.ref == "5.3"  # "Parents and carers are asked not to post images of other people's children ..."
    assert body.index('data-testid="suggested-clauses"') < body.index('<details class="clause-section')
    # The rest are collapsed: no section is open when nothing is ticked.
    assert re.findall(r'<details class="clause-section[^"]*"( open)?>', body) and not re.search(
        r'<details class="clause-section[^"]*" open>', body
    )
    assert "Matched:" in body


def test_no_clause_text_is_cut_inside_a_word_and_the_full_text_is_one_click_away(client, cast, version, case):
    body = page_as(client, cast.helen, case).content.decode()
    for clause in version.clauses.all():
        label = re.search(
            rf'<label class="form-check-label" for="[^"]+"><strong>{re.escape(clause.ref)}</strong> (.*?)</label>', body
        )
        assert label, clause.ref
        shown = html.unescape(label.group(1))
        if not cut_at_a_word(shown, clause.text):
            continue
        option = body.split(f'data-ref="{clause.ref}"', 1)[1].split('<div class="form-check', 1)[0]
        assert re.search(
            r'<details class="small clause-full"><summary>[^<]*(<span[^>]*>[^<]*</span>[^<]*)?</summary>', option
        )
        assert f'<p class="mb-1">{html.escape(clause.text)}</p></details>' in option


def test_the_forms_own_labels_never_cut_inside_a_word(cast, version, case):
    from incidents.forms import TriageForm

    form = TriageForm(prefix="triage", incident=case, version=version)
    labels = [str(label) for _, label in form.fields["clauses"].choices]
    assert len(labels) == version.clauses.count()
    cut = 0
    for label in labels:
        ref, shown = label.split(" \u2014 ", 1)
        cut += cut_at_a_word(shown, version.clauses.get(ref=ref).text)
    assert cut  # the demo policy has clauses longer than a label


def test_ticking_a_suggestion_records_it(client, cast, version, case):
    sign_in(client, cast.helen)
    suggested = version.clauses.get(ref="5.3")
    response = client.post(
        reverse("incidents:triage", args=[case.reference]),
        {"triage-severity": Severity.MEDIUM, "triage-clauses": [suggested.pk], "triage-route": "breach"},
    )
    assert response.status_code == 302
    incident = fresh(case)
    assert incident.status == Status.TRIAGE and incident.severity == Severity.MEDIUM
    assert [c.ref for c in incident.clauses.all()] == ["5.3"]


def test_a_form_sent_back_keeps_the_ticks_and_opens_their_section(client, cast, version, case):
    sign_in(client, cast.helen)
    other = version.clauses.get(ref="10.2")  # not among the suggestions: it sits in its section
    response = client.post(
        reverse("incidents:triage", args=[case.reference]),
        {"triage-clauses": [other.pk], "triage-route": "breach"},  # no severity: refused
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert (other.pk, True) in checkboxes(body)
    section = re.search(r'<details class="clause-section[^"]*" open>\s*<summary>10 ', body)
    assert section, "the section holding the ticked clause is open"
    assert fresh(case).clauses.count() == 0 and fresh(case).severity == ""


def test_the_reporter_sees_no_clauses_and_no_suggestions(client, cast, version, case):
    body = page_as(client, cast.sam, case).content.decode()
    assert "Suggested for this concern" not in body and not checkboxes(body)


def test_no_policy_in_force_says_so(client, cast):
    incident = report(cast.oakfield, cast.sam, description=DESCRIPTION)
    services.incident_acknowledge(incident=fresh(incident), actor=cast.helen)
    body = page_as(client, cast.helen, incident).content.decode()
    assert "There is no policy in force for the date of this incident" in body and not checkboxes(body)


def test_the_concern_is_not_logged_while_suggesting(client, cast, version, case, caplog):
    caplog.set_level(logging.DEBUG)
    assert page_as(client, cast.helen, case).status_code == 200
    assert "Quillon" not in caplog.text and "nativity" not in caplog.text


def test_a_published_versions_index_is_cached_and_a_drafts_is_rebuilt(cast, version):
    suggest._CACHE.clear()
    assert suggest.index_for_version(version) is suggest.index_for_version(version)
    draft = PolicyVersion.objects.create(policy=version.policy, number=2)
    section = draft.sections.create(number="1", heading="Accounts", order=1)
    clause = Clause.objects.create(version=draft, section=section, ref="1.1", text="Keep passwords safe.", order=1)
    assert suggest.index_for_version(draft).rank("photos of pupils") == []
    clause.text = "Photos of pupils stay on school equipment."
    clause.save()
    assert [s.ref for s in suggest.index_for_version(draft).rank("photos of pupils")] == ["1.1"]
    assert all(key[0] != draft.pk for key in suggest._CACHE)


def test_a_version_number_handed_out_again_is_not_answered_from_the_cache(cast, version):
    """SQLite gives a rolled-back row's number to the next row: the cache must not take it for the old one."""
    suggest._CACHE.clear()
    first = suggest.index_for_version(version)
    again = PolicyVersion.objects.get(pk=version.pk)
    again.created_at += timedelta(seconds=1)  # what a new row with the same number would look like
    assert suggest.index_for_version(again) is not first
