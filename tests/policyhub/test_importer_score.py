"""The importer scores 100 % against the hand-written outlines (bench/importer_score.py): every fixture in
tests/policyhub/fixtures/general/ and, where shared/ is present, the three real policies."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("importer_score", ROOT / "bench" / "importer_score.py")
importer_score = importlib.util.module_from_spec(_spec)
sys.modules["importer_score"] = importer_score  # its dataclasses look their module up there
_spec.loader.exec_module(importer_score)

DOCUMENTS = importer_score.documents()


def test_there_are_at_least_ten_fixtures_in_text_word_and_pdf():
    names = [name for name, _source, _outline in DOCUMENTS if not name.startswith("shared/")]
    assert len(names) >= 10
    assert any(n.endswith(".docx.txt") for n in names) and any(n.endswith(".pdf.txt") for n in names)


@pytest.mark.parametrize(("name", "source", "outline"), DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_import_matches_the_expected_outline(name, source, outline):
    data, filename = importer_score.load_document(source)
    policy = importer_score.import_document(data, filename)
    score = importer_score.score_policy(name, policy, importer_score.read_outline(outline))
    assert score.failures == []
    assert score.percent == 100.0


def test_the_score_can_fail():
    """A wrong parent, a missing clause, leftover furniture and unreported metadata each cost a check."""
    name, source, outline_path = next(d for d in DOCUMENTS if d[0] == "signatures_approval.txt")
    data, filename = importer_score.load_document(source)
    policy = importer_score.import_document(data, filename)
    outline = importer_score.read_outline(outline_path)
    policy.clauses[0].parent = "9.9"
    policy.sections[-1].clauses.pop()
    policy.sections[0].clauses[1].text += " Signed: somebody"
    policy.metadata.clear()
    score = importer_score.score_policy(name, policy, outline)
    assert score.percent < 100.0
    assert len(score.failures) >= 4


def test_docx_fixture_numbers_come_from_word_numbering_not_typed_text():
    import io

    import docx

    _name, source, _outline = next(d for d in DOCUMENTS if d[0].endswith(".docx.txt"))
    data, _filename = importer_score.load_document(source)
    document = docx.Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    assert not any(t[:1].isdigit() or t.startswith("(") for t in texts)  # no number typed in
    assert sum(p._p.pPr is not None and p._p.pPr.numPr is not None for p in document.paragraphs) >= 15
