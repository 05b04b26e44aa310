"""Stage 4, assemble: sections and clauses with refs and parents, and :func:`parse_text` over stages 2 to 4."""

from __future__ import annotations

import re
from collections import Counter

from .clean import _remove_furniture
from .number import _Parser, _Sec
from .results import ImportDoubt, ParsedClause, ParsedPolicy, ParsedSection, PolicyImportError
from .tagging import suggest_topics
from .text import _join, _title_like, _to_letters, _to_roman


def _assign_refs(
    sections: list[_Sec], vocabulary: set[str] | None = None, doubts: list[ImportDoubt] | None = None
) -> list[ParsedSection]:
    """Sections and clauses with their refs; the nodes' doubts (and new ones) are appended to ``doubts``."""
    doubts = doubts if doubts is not None else []
    # Section numbers
    any_numbered = any(s.number for s in sections if not s.preamble)
    prev_number = "0"
    letter_count: dict[str, int] = {}
    ordinal = 0
    for sec in sections:
        if sec.preamble:
            sec.number = "0"
            continue
        ordinal += 1
        if not any_numbered:
            sec.number = str(ordinal)
        elif not sec.number:
            base = prev_number
            letter_count[base] = letter_count.get(base, 0) + 1
            sec.number = f"{base}{_to_letters(letter_count[base]).upper()}"
            continue
        prev_number = sec.number
    seen_sections: Counter[str] = Counter()
    for sec in sections:
        seen_sections[sec.number] += 1
        if seen_sections[sec.number] > 1:
            sec.number = f"{sec.number}-{seen_sections[sec.number]}"

    used: set[str] = set()
    renamed: dict[str, str] = {}  # a ref given "-2", "-3" -> the ref it repeats

    def unique(ref: str) -> str:
        if ref not in used:
            used.add(ref)
            return ref
        n = 2
        while f"{ref}-{n}" in used:
            n += 1
        used.add(f"{ref}-{n}")
        renamed[f"{ref}-{n}"] = ref
        return f"{ref}-{n}"

    result: list[ParsedSection] = []
    for sec in sections:
        has_numbered = any(n.kind == "num" for n in sec.nodes)
        para_count = 0
        bullet_counts: dict[int, int] = {}
        num_refs: set[str] = set()
        clauses: list[ParsedClause] = []
        for node in sec.nodes:
            if node.kind == "num":
                node.ref = unique(node.label or "")
                num_refs.add(node.label or "")
                parent_ref = None
                parts = (node.label or "").split(".")
                for k in range(len(parts) - 1, 1, -1):
                    candidate = ".".join(parts[:k])
                    if candidate in used:
                        parent_ref = candidate
                        break
            elif node.kind == "para":
                para_count += 1
                if node.label:
                    base = f"{sec.number}.{node.label}"
                else:
                    base = f"{sec.number}.p{para_count}" if has_numbered else f"{sec.number}.{para_count}"
                node.ref = unique(base)
                parent_ref = None
            else:
                parent = node.parent
                owner = parent.ref if parent is not None else sec.number
                key = id(parent) if parent is not None else 0
                if node.label:
                    label = node.label.lower()
                else:
                    bullet_counts[key] = bullet_counts.get(key, 0) + 1
                    n = bullet_counts[key]
                    label = _to_roman(n) if parent is not None and parent.kind == "item" else _to_letters(n)
                node.ref = unique(f"{owner}.{label}")
                parent_ref = parent.ref if parent is not None else None
            reasons = list(node.doubts)
            text = _join(node.lines, vocabulary, reasons)
            if not text:
                continue
            if node.ref in renamed:
                reasons.append(
                    f"Two clauses would both be {renamed[node.ref]}; the second is shown as {node.ref}. "
                    "Check the numbering in the document."
                )
            doubts.extend(ImportDoubt(node.ref, (node.lines or [""])[0].strip(), r) for r in reasons)
            clauses.append(
                ParsedClause(
                    ref=node.ref,
                    text=text,
                    parent=parent_ref,
                    topics=suggest_topics(text),
                    numbered=node.kind == "num",
                )
            )
        if clauses:
            result.append(ParsedSection(number=sec.number or "", heading=sec.heading, clauses=clauses))
    return result


def _drop_empty_and_duplicate(sections: list[_Sec]) -> list[_Sec]:
    """Drop sections with no text, and the copy of a section that is only a contents entry.

    A section number that appears twice, once with nothing but heading-like one-liners under it, is a table
    of contents that slipped through; that copy goes. Two sections with real text are both kept.
    """
    kept = [s for s in sections if any(_join(n.lines) for n in s.nodes)]

    def contents_like(sec: _Sec) -> bool:
        return all(_title_like(_join(n.lines), 12) for n in sec.nodes)

    by_number: dict[str, list[_Sec]] = {}
    for s in kept:
        if s.number and not s.preamble:
            by_number.setdefault(s.number, []).append(s)
    drop: set[int] = set()
    for group in by_number.values():
        if len(group) > 1 and not all(contents_like(s) for s in group):
            drop |= {id(s) for s in group if contents_like(s)}
    return [s for s in kept if id(s) not in drop]


def parse_text(text: str) -> ParsedPolicy:
    """Parse the text of a policy into sections and clauses (see the module docstring for the numbering).

    Raises :class:`PolicyImportError` for empty text or text with no recognisable policy structure.
    """
    if text is None or not text.strip():
        raise PolicyImportError("The document is empty: no text was found in it.")
    metadata: list[str] = []
    lines = _remove_furniture(text, metadata)
    if not lines:
        raise PolicyImportError("The document is empty: no text was found in it.")
    vocabulary = {w.lower() for line in lines for w in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", line)}
    vocabulary |= {part for w in list(vocabulary) for part in w.split("-")}
    parser = _Parser(lines)
    title, raw_sections = parser.parse()
    doubts = [ImportDoubt(None, line, reason) for line, reason in parser.loose_doubts]
    sections = _assign_refs(_drop_empty_and_duplicate(raw_sections), vocabulary, doubts)
    body = [s for s in sections if s.number != "0"]
    n_clauses = sum(len(s.clauses) for s in body)
    if not body or n_clauses < 2:
        raise PolicyImportError(
            "This document does not look like a policy: no headed or numbered sections with clauses were found."
        )
    order = {c.ref: i for i, c in enumerate(c for s in sections for c in s.clauses)}
    doubts.sort(key=lambda d: order.get(d.ref, -1) if d.ref is not None else -1)
    return ParsedPolicy(title=title, sections=sections, metadata=metadata, doubts=doubts)
