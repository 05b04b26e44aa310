"""Score the policy importer against hand-written expected outlines.

Run with ``python bench/importer_score.py`` (``-v`` lists every mismatch). For each document it imports the
source and compares the result with the document's ``.outline`` file; it prints one score per document and an
overall score (checks passed / checks made, over all documents). ``tests/policyhub/test_importer_score.py``
asserts 100 %.

Documents
---------
* ``tests/policyhub/fixtures/general/NAME.txt``: plain text, imported as is.
* ``NAME.docx.txt`` / ``NAME.pdf.txt``: the source of a Word document / PDF that is built here, at run time
  (python-docx with Word's automatic numbering; fpdf2 with a running header and page footer), then imported
  from its bytes like an upload. No binary is committed.
* The three real policies in ``shared/policies/`` (found beside the checkout), against
  ``tests/policyhub/fixtures/shared_outlines/NAME.outline``; skipped, and said so, when shared/ is absent.

Outline format (one item a line, ``#`` starts a comment)
--------------------------------------------------------
``§ NUMBER | HEADING``      a section, in order;
``REF | PARENT | START``    a clause, in order (PARENT ``-`` for none); the clause text must start with START
                             (spacing and case ignored);
``title: TEXT``             the policy's title;
``meta: START``             a line the importer must report as metadata (approval, review, signature lines);
``furniture: TEXT``         text that must appear in no clause and no heading (page furniture, metadata).

Checks: every expected section, clause, title, metadata line and furniture string is one check; every section
or clause the importer produced that the outline does not list is one failed check; the order of the clause
refs is one more check. A document scores passed / total.
"""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policyhub.importer import ParsedPolicy, import_document  # noqa: E402

FIXTURES = ROOT / "tests" / "policyhub" / "fixtures" / "general"
SHARED_OUTLINES = ROOT / "tests" / "policyhub" / "fixtures" / "shared_outlines"


def shared_policies_dir() -> Path | None:
    """``shared/policies`` beside the checkout (or beside a parent of it, for worktrees)."""
    for parent in ROOT.parents:
        if (parent / "shared" / "policies").is_dir():
            return parent / "shared" / "policies"
    return None


# --------------------------------------------------------------------------------------------
# Outlines
# --------------------------------------------------------------------------------------------


@dataclass
class Outline:
    title: str | None = None
    sections: list[tuple[str, str]] = field(default_factory=list)
    clauses: list[tuple[str, str | None, str]] = field(default_factory=list)
    meta: list[str] = field(default_factory=list)
    furniture: list[str] = field(default_factory=list)


def read_outline(path: Path) -> Outline:
    out = Outline()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("title:"):
            out.title = line.split(":", 1)[1].strip()
        elif line.startswith("meta:"):
            out.meta.append(line.split(":", 1)[1].strip())
        elif line.startswith("furniture:"):
            out.furniture.append(line.split(":", 1)[1].strip())
        elif line.startswith("§"):
            number, heading = (p.strip() for p in line[1:].split("|", 1))
            out.sections.append((number, heading))
        else:
            ref, parent, start = (p.strip() for p in line.split("|", 2))
            out.clauses.append((ref, None if parent == "-" else parent, start))
    return out


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().casefold()


# --------------------------------------------------------------------------------------------
# Building .docx and .pdf documents from their text sources
# --------------------------------------------------------------------------------------------


def _source_lines(path: Path) -> list[tuple[str, str]]:
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        if raw.startswith("==="):
            lines.append(("PAGE", ""))
            continue
        style, text = raw.split(":", 1)
        lines.append((style.strip(), text.strip()))
    return lines


def build_docx(path: Path) -> bytes:
    """A .docx whose numbers come only from Word's automatic numbering (numbering.xml + w:numPr)."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn

    document = docx.Document()
    numbering = document.part.numbering_part.element

    def level(ilvl: int, fmt: str, text: str) -> str:
        indent = 360 * (ilvl + 1)
        return (
            f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
            f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
            f'<w:pPr><w:ind w:left="{indent}" w:hanging="360"/></w:pPr></w:lvl>'
        )

    abstracts = {
        # multi-level decimal: headings at level 0 ("1."), clauses at 1 ("1.1") and 2 ("1.1.1")
        "90": level(0, "decimal", "%1.") + level(1, "decimal", "%1.%2") + level(2, "decimal", "%1.%2.%3"),
        "91": level(0, "lowerLetter", "(%1)") + level(1, "lowerRoman", "(%2)"),
        "92": level(0, "bullet", "\u2022") + level(1, "bullet", "o"),
    }
    first_num = numbering.find(qn("w:num"))
    for abs_id, levels in abstracts.items():
        element = parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abs_id}">{levels}</w:abstractNum>')
        if first_num is not None:
            first_num.addprevious(element)  # the schema wants every abstractNum before the first num
        else:
            numbering.append(element)
    num_ids = {"main": 90, "letters": 91, "bullets": 92}
    for name, abs_id in list(num_ids.items()):
        num_id = 900 + abs_id
        numbering.append(
            parse_xml(f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="{abs_id}"/></w:num>')
        )
        num_ids[name] = num_id
    letters_restart = 0

    def numbered(paragraph, num_id: int, ilvl: int) -> None:
        ppr = paragraph._p.get_or_add_pPr()
        ppr.append(parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'))

    previous = ""
    for style, text in _source_lines(path):
        if style == "T":
            document.add_paragraph(text, style="Title")
        elif style == "H":
            numbered(document.add_paragraph(text, style="Heading 1"), num_ids["main"], 0)
        elif style in ("N1", "N2"):
            numbered(document.add_paragraph(text), num_ids["main"], int(style[1]))
        elif style == "A":
            if previous != "A":  # each lettered list starts again at (a): a new w:num restarting the level
                letters_restart += 1
                num_id = 950 + letters_restart
                numbering.append(
                    parse_xml(
                        f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="91"/>'
                        f'<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'
                    )
                )
            numbered(document.add_paragraph(text), 950 + letters_restart, 0)
        elif style == "B":
            numbered(document.add_paragraph(text), num_ids["bullets"], 0)
        else:
            document.add_paragraph(text)
        previous = style
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def build_pdf(path: Path) -> bytes:
    """A PDF laid out by fpdf2, with a running header and a "Page N of M" footer on every page."""
    from fpdf import FPDF

    lines = _source_lines(path)
    header = next((text for style, text in lines if style == "HEADER"), "")
    # "PAGE_HEIGHT: 120" makes short pages, so that paragraphs and lists run over page breaks
    height = float(next((text for style, text in lines if style == "PAGE_HEIGHT"), "297"))

    class Document(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=9)
            self.cell(0, 8, header, new_x="LMARGIN", new_y="NEXT")
            self.ln(4)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", size=9)
            self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Document(format=(210, height))
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    for style, text in lines:
        if style in ("HEADER", "PAGE_HEIGHT"):
            continue
        if style == "PAGE":
            pdf.add_page()
            continue
        if style in ("T", "H"):
            pdf.set_font("Helvetica", style="B", size=14 if style == "T" else 12)
            pdf.ln(3)
        else:
            pdf.set_font("Helvetica", size=11)
        indent = 8 if style == "B" else 0
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def load_document(path: Path) -> tuple[bytes, str]:
    """(bytes, upload file name) for a fixture source."""
    name = path.name
    if name.endswith(".docx.txt"):
        return build_docx(path), name.removesuffix(".txt")
    if name.endswith(".pdf.txt"):
        return build_pdf(path), name.removesuffix(".txt")
    return path.read_bytes(), name


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


@dataclass
class Score:
    name: str
    passed: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)
    doubts: int = 0
    confidence: float | None = None

    def check(self, ok: bool, what: str) -> None:
        self.total += 1
        if ok:
            self.passed += 1
        else:
            self.failures.append(what)

    @property
    def percent(self) -> float:
        return 100.0 * self.passed / self.total if self.total else 0.0


def score_policy(name: str, policy: ParsedPolicy, outline: Outline) -> Score:
    score = Score(name)
    score.doubts = getattr(policy, "unsure_count", 0)
    score.confidence = getattr(policy, "confidence", None)
    if outline.title is not None:
        score.check(_norm(policy.title or "") == _norm(outline.title), f"title {policy.title!r} != {outline.title!r}")
    got_sections = [(s.number, s.heading) for s in policy.sections if s.number != "0" or outline_has(outline, "0")]
    expected_sections = dict(outline.sections)
    for number, heading in outline.sections:
        found = [h for n, h in got_sections if n == number]
        score.check(
            bool(found) and _norm(found[0]) == _norm(heading), f"section {number} {heading!r}: got {found or None}"
        )
    for number, heading in got_sections:
        if number not in expected_sections:
            score.check(False, f"unexpected section {number} {heading!r}")
    got = {c.ref: c for c in policy.clauses}
    expected_refs = [ref for ref, _p, _s in outline.clauses]
    for ref, parent, start in outline.clauses:
        clause = got.get(ref)
        ok = clause is not None and clause.parent == parent and _norm(clause.text).startswith(_norm(start))
        detail = "missing" if clause is None else f"parent {clause.parent!r}, text {clause.text[:70]!r}"
        score.check(ok, f"clause {ref} (parent {parent!r}, {start!r}): {detail}")
    for clause in policy.clauses:
        if clause.ref not in expected_refs:
            score.check(False, f"unexpected clause {clause.ref} (parent {clause.parent!r}): {clause.text[:70]!r}")
    score.check([c.ref for c in policy.clauses if c.ref in expected_refs] == expected_refs, "clauses out of order")
    metadata = [_norm(m) for m in getattr(policy, "metadata", []) or []]
    for start in outline.meta:
        score.check(any(m.startswith(_norm(start)) for m in metadata), f"metadata {start!r} not reported")
    texts = [c.text for c in policy.clauses] + [s.heading for s in policy.sections]
    for needle in outline.furniture:
        leaked = [t[:60] for t in texts if _norm(needle) in _norm(t)]
        score.check(not leaked, f"furniture {needle!r} left in {leaked}")
    return score


def outline_has(outline: Outline, number: str) -> bool:
    return any(n == number for n, _h in outline.sections)


def documents() -> list[tuple[str, Path, Path]]:
    """(name, source, outline) for every fixture and every shared policy that has an outline."""
    found = []
    for outline in sorted(FIXTURES.glob("*.outline")):
        stem = outline.name.removesuffix(".outline")
        sources = [p for p in FIXTURES.glob(stem + ".*") if p.suffix != ".outline"]
        if len(sources) != 1:
            raise SystemExit(f"{outline}: expected one source document, found {[p.name for p in sources]}")
        found.append((sources[0].name, sources[0], outline))
    shared = shared_policies_dir()
    if shared is not None:
        for outline in sorted(SHARED_OUTLINES.glob("*.outline")):
            source = shared / (outline.name.removesuffix(".outline") + ".txt")
            found.append((f"shared/{source.name}", source, outline))
    return found


def score_all() -> list[Score]:
    scores = []
    for name, source, outline_path in documents():
        data, filename = load_document(source)
        scores.append(score_policy(name, import_document(data, filename), read_outline(outline_path)))
    return scores


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    scores = score_all()
    if shared_policies_dir() is None:
        print("(shared/policies not found: the three shared policies were not scored)")
    width = max(len(s.name) for s in scores)
    for s in scores:
        conf = f"{s.confidence:.0%}" if s.confidence is not None else "-"
        print(f"{s.name:<{width}}  {s.percent:6.1f} %  ({s.passed}/{s.total})  confidence {conf}, unsure {s.doubts}")
        if verbose:
            for failure in s.failures:
                print(f"    - {failure}")
    passed = sum(s.passed for s in scores)
    total = sum(s.total for s in scores)
    print(f"{'OVERALL':<{width}}  {100.0 * passed / total:6.1f} %  ({passed}/{total} checks, {len(scores)} documents)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
