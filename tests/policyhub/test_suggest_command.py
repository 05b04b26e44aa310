"""`manage.py suggest_clauses (--school SLUG | --file PATH) --text TEXT [--top N] [--json]`."""

import json
import logging
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from policyhub.demo_policy import seed_policy
from policyhub.models import Clause, Policy, PolicyVersion, Section

pytestmark = pytest.mark.django_db

CONCERN = "A mum put pics of other kids from the nativity on her Facebook"

POLICY_TEXT = """Staff social media policy

1. Contact with learners
1.1 Employees never befriend or follow a learner on a personal account.
1.2 Employees do not exchange private messages with learners.

2. The wider community
2.1 Carers are asked not to share photographs of other families' youngsters taken at school events.
2.2 Carers raise concerns with the office, not online.
"""


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("suggest_clauses", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def demo(cast):
    seed_policy(trust=cast.trust, schools={"oakfield": cast.oakfield})
    return PolicyVersion.objects.get(policy__trust=cast.trust, status="active")


def test_json_is_exactly_the_suggestions_best_first(demo):
    out, err = run("--school", "oakfield", "--text", CONCERN, "--json", "--top", "3")
    data = json.loads(out)  # nothing but the JSON on stdout
    assert list(data) == ["suggestions"]
    suggestions = data["suggestions"]
    assert 1 <= len(suggestions) <= 3
    assert suggestions[0]["ref"] == "5.3"  # "Parents and carers are asked not to post images of other ..."
    for s in suggestions:
        assert list(s) == ["ref", "score", "matched"]
        assert isinstance(s["score"], float) and 0 < s["score"] <= 1
        assert s["matched"] and all(isinstance(w, str) for w in s["matched"])
    assert [s["score"] for s in suggestions] == sorted((s["score"] for s in suggestions), reverse=True)
    assert {s["ref"] for s in suggestions} <= set(demo.clauses.values_list("ref", flat=True))
    assert err == ""


def test_the_summary_names_each_clause_and_the_matched_words(demo):
    out, _ = run("--school", "oakfield", "--text", CONCERN)
    first = out.splitlines()[0]
    assert first.startswith("5.3") and "Parents and carers" in first
    assert "matched:" in out.splitlines()[1]


def test_file_ranks_the_document_as_the_importer_reads_it_and_saves_nothing(cast, tmp_path):
    path = tmp_path / "policy.txt"
    path.write_text(POLICY_TEXT, encoding="utf-8")
    before = (Policy.objects.count(), PolicyVersion.objects.count(), Section.objects.count(), Clause.objects.count())
    out, _ = run("--file", str(path), "--text", CONCERN, "--json")
    assert json.loads(out)["suggestions"][0]["ref"] == "2.1"
    out, _ = run("--file", str(path), "--text", "He has been DMing a Year 8 boy on Snapchat", "--json", "--top", "1")
    assert [s["ref"] for s in json.loads(out)["suggestions"]] == ["1.2"]
    after = (Policy.objects.count(), PolicyVersion.objects.count(), Section.objects.count(), Clause.objects.count())
    assert after == before


def test_no_match_is_an_empty_list(demo):
    out, _ = run("--school", "oakfield", "--text", "zzqx blorf", "--json")
    assert json.loads(out) == {"suggestions": []}


@pytest.mark.parametrize(
    "args,message",
    [
        (["--school", "nowhere", "--text", "x"], "no school with the slug"),
        (["--school", "oakfield", "--text", "   "], "Please give the concern's text"),
        (["--school", "oakfield", "--text", "photos", "--top", "0"], "--top must be a whole number from 1 to 50"),
        (["--school", "oakfield", "--text", "photos", "--top", "lots"], "--top must be a whole number"),
        (["--file", "/nonexistent/policy.txt", "--text", "photos"], "There is no file at"),
    ],
)
def test_bad_input_is_a_clear_message(demo, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_school_without_a_policy_in_force_is_told_so(cast):
    with pytest.raises(CommandError, match="has no policy in force today"):
        run("--school", "brookside", "--text", CONCERN)


def test_school_and_file_together_or_neither_are_refused(demo, tmp_path):
    with pytest.raises(CommandError):
        run("--school", "oakfield", "--file", str(tmp_path / "x.txt"), "--text", CONCERN)
    with pytest.raises(CommandError):
        run("--text", CONCERN)


def test_an_unreadable_file_is_refused_with_the_importers_sentence(cast, tmp_path):
    path = tmp_path / "policy.pdf"
    path.write_bytes(b"not a pdf at all")
    with pytest.raises(CommandError, match="policy.pdf: "):
        run("--file", str(path), "--text", CONCERN)


def test_the_concern_is_never_logged(demo, caplog):
    caplog.set_level(logging.DEBUG)
    run("--school", "oakfield", "--text", "Secret words about Ms Quill and the nativity pics", "--json")
    assert "Quill" not in caplog.text and "nativity" not in caplog.text
