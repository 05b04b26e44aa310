"""`manage.py import_policy PATH --school SLUG [--title T] [--dry-run] [--json]`."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from policyhub.importer import import_document
from policyhub.models import Clause, Policy, PolicyVersion

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# shared/ sits beside the checkout: /work/shared for /work/main, and also for a worktree under /work/wt/.
SHARED = next(
    (p / "shared" / "policies" for p in Path(__file__).resolve().parents if (p / "shared" / "policies").is_dir()),
    Path(__file__).resolve().parents[2].parent / "shared" / "policies",
)


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_policy", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_json_prints_exactly_the_parsed_sections_for_our_fixture(cast):
    path = FIXTURES / "decimal_numbered_with_furniture.txt"
    out, err = run(str(path), "--school", "oakfield", "--json", "--dry-run")
    data = json.loads(out)
    assert list(data) == ["sections"]
    assert data == import_document(path.read_bytes(), path.name).to_dict()
    assert data["sections"][1]["clauses"][2] == {
        "ref": "2.2.1",
        "text": "accept a connection request from a learner on the roll;",
        "parent": "2.2",
        "topics": data["sections"][1]["clauses"][2]["topics"],
    }
    assert err == "" and not Policy.objects.exists()


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared policy documents not found at {SHARED}")
def test_json_for_the_gloucestershire_model_policy_is_exactly_the_importers_output(cast):
    path = SHARED / "gloucestershire-model-policy.txt"
    out, _ = run(str(path), "--school", "oakfield", "--json", "--dry-run")
    data = json.loads(out)
    assert data == import_document(path.read_bytes(), path.name).to_dict()
    refs = [c["ref"] for s in data["sections"] for c in s["clauses"]]
    assert refs.index("7.4") < refs.index("7.4.1") < refs.index("7.4.6") < refs.index("7.5")
    by_ref = {c["ref"]: c for s in data["sections"] for c in s["clauses"]}
    assert by_ref["7.4.1"]["parent"] == "7.4" and by_ref["8.1.6"]["parent"] == "8.1"
    assert all("Back to contents" not in c["text"] for c in by_ref.values())


def test_without_dry_run_it_saves_a_draft_of_the_schools_policy(cast):
    path = FIXTURES / "decimal_numbered_with_furniture.txt"
    out, _ = run(str(path), "--school", "oakfield", "--title", "Oakfield online conduct")
    version = PolicyVersion.objects.get()
    assert version.status == "draft" and version.policy.school == cast.oakfield
    assert version.policy.title == "Oakfield online conduct" and version.source_name == path.name
    assert version.created_by == cast.helen
    assert "Saved as draft version 1" in out
    assert Clause.objects.filter(version=version, ref="2.2.1", parent__ref="2.2").exists()
    run(str(path), "--school", "oakfield")
    assert list(PolicyVersion.objects.values_list("number", flat=True).order_by("number")) == [1, 2]


def test_json_without_dry_run_saves_and_still_prints_only_json(cast):
    path = FIXTURES / "single_level_headings_lists.txt"
    out, _ = run(str(path), "--school", "oakfield", "--json")
    assert json.loads(out)["sections"]
    assert PolicyVersion.objects.count() == 1


def test_dry_run_summarises_and_saves_nothing(cast):
    out, _ = run(str(FIXTURES / "decimal_numbered_with_furniture.txt"), "--school", "oakfield", "--dry-run")
    assert out.startswith("Would import") and not Policy.objects.exists()


def test_unknown_school_is_a_clear_error(cast):
    with pytest.raises(CommandError, match="no school with the slug 'nowhere'"):
        run(str(FIXTURES / "decimal_numbered_with_furniture.txt"), "--school", "nowhere")


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.txt", "empty"),
        (b"Milk, eggs, bread.", "list.txt", "does not look like a policy"),
        (b"PK\x03\x04 not a zip at all", "broken.docx", None),
        (b"\x89PNG\r\n\x1a\n0000", "photo.png", None),
    ],
    ids=["empty", "not-a-policy", "corrupt", "wrong-type"],
)
def test_bad_files_are_a_clear_error_and_save_nothing(cast, tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message) as error:
        run(str(path), "--school", "oakfield")
    assert str(error.value).startswith(name)
    assert not Policy.objects.exists()


def test_missing_file_is_a_clear_error(cast, tmp_path):
    with pytest.raises(CommandError, match="There is no file"):
        run(str(tmp_path / "nope.txt"), "--school", "oakfield")


def test_bad_file_exits_non_zero_from_the_command_line(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    result = subprocess.run(
        [sys.executable, "manage.py", "import_policy", str(path), "--school", "oakfield", "--json", "--dry-run"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert result.returncode != 0 and result.stdout == ""
    assert "empty" in result.stderr


def test_summary_reports_the_confidence_and_lists_the_unsure_places(cast, tmp_path):
    path = tmp_path / "policy.txt"
    path.write_text("1. Aims\n1.1 Staff stay safe online.\n1.2 Staff ask.\n1.5 Staff report concerns.\n")
    out, _ = run(str(path), "--school", "oakfield", "--dry-run")
    assert "Confidence 67%: unsure in 1 place." in out
    assert "  Check 1.5: The numbering jumps from 1.2 to 1.5" in out
    assert not Policy.objects.exists()
