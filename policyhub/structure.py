"""The sections-and-clauses structure of a policy version, as plain data, and the editor's operations on it.

The shape is the importer's ``ParsedPolicy.to_dict()``::

    {"sections": [{"number": "7", "heading": "...",
                   "clauses": [{"ref": "7.4.1", "text": "...", "parent": "7.4", "topics": ["images"]}]}]}

It travels through the session (import preview), the preview editor's forms and the
``import_policy`` command, so :func:`validate_structure` treats it as untrusted every time it
comes back, and every editing operation returns a new structure instead of changing its input.
"""

from __future__ import annotations

import copy
import difflib
import re

from .topics import TOPIC_KEYS

MAX_SECTIONS = 200
MAX_CLAUSES = 2000
MAX_TEXT = 20_000
REF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.()\-]{0,39}$")


class StructureError(ValueError):
    """The structure can't be saved; ``str(error)`` is a clear, user-facing sentence."""


def _text(value, what: str, max_length: int, *, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise StructureError(f"{what} must be text.")
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not value:
        raise StructureError(f"{what} is empty.")
    if len(value) > max_length:
        raise StructureError(f"{what} is longer than {max_length} characters.")
    return value


def validate_structure(data, *, strict: bool = True) -> dict:
    """Return a clean copy of `data`, or raise :class:`StructureError` saying what is wrong.

    ``strict=False`` checks only the shape (types, lengths, known topics): what the preview editor
    needs to reload a working copy that may still have, say, a repeated reference the user is fixing.
    Saving always checks strictly.
    """
    if not isinstance(data, dict) or not isinstance(data.get("sections"), list):
        raise StructureError("The policy structure is not in the expected form.")
    sections = data["sections"]
    if not sections:
        raise StructureError("The policy has no sections.")
    if len(sections) > MAX_SECTIONS:
        raise StructureError(f"The policy has more than {MAX_SECTIONS} sections.")
    seen: set[str] = set()
    clean_sections = []
    n_clauses = 0
    for s_index, section in enumerate(sections, start=1):
        if not isinstance(section, dict) or not isinstance(section.get("clauses", []), list):
            raise StructureError(f"Section {s_index} is not in the expected form.")
        number = _text(section.get("number"), f"The number of section {s_index}", 20, required=False)
        heading = _text(section.get("heading"), f"The heading of section {number or s_index}", 300)
        clauses = []
        for clause in section.get("clauses", []):
            n_clauses += 1
            if not isinstance(clause, dict):
                raise StructureError(f"Clause {n_clauses} is not in the expected form.")
            ref = _text(clause.get("ref"), f"The reference of clause {n_clauses}", 40)
            if not REF_RE.match(ref):
                raise StructureError(
                    f"The reference “{ref}” is not valid: use letters, digits, dots, hyphens and brackets, e.g. 7.4.1."
                )
            if strict and ref in seen:
                raise StructureError(f"Two clauses have the reference {ref}; each reference must be different.")
            text = _text(clause.get("text"), f"The text of clause {ref}", MAX_TEXT)
            parent = clause.get("parent") or None
            if parent is not None:
                parent = _text(parent, f"The parent of clause {ref}", 40)
                if strict and parent not in seen:
                    raise StructureError(
                        f"Clause {ref} is under {parent}, but there is no clause {parent} before it. "
                        "Correct its “part of” reference or leave it empty."
                    )
            topics = clause.get("topics") or []
            if not isinstance(topics, list) or any(t not in TOPIC_KEYS for t in topics):
                raise StructureError(f"Clause {ref} has a topic that is not one of the known topics.")
            seen.add(ref)
            clauses.append({"ref": ref, "text": text, "parent": parent, "topics": list(dict.fromkeys(topics))})
        clean_sections.append({"number": number, "heading": heading, "clauses": clauses})
    if strict and n_clauses == 0:
        raise StructureError("The policy has no clauses.")
    if n_clauses > MAX_CLAUSES:
        raise StructureError(f"The policy has more than {MAX_CLAUSES} clauses.")
    return {"sections": clean_sections}


# --- Editing operations (the preview editor's buttons) ------------------------------------------


def _at(data: dict, s: int, c: int | None = None):
    try:
        section = data["sections"][s]
        return section if c is None else section["clauses"][c]
    except (IndexError, KeyError, TypeError):
        raise StructureError("That clause is no longer there; the preview has been reloaded.") from None


def merge_into_previous(data: dict, s: int, c: int) -> dict:
    """Append clause (s, c) to the clause before it in the same section; its sub-clauses follow it."""
    data = copy.deepcopy(data)
    clause = _at(data, s, c)
    if c == 0:
        raise StructureError("The first clause of a section has no clause before it to merge into.")
    previous = data["sections"][s]["clauses"][c - 1]
    previous["text"] = f"{previous['text']} {clause['text']}".strip()
    previous["topics"] = list(dict.fromkeys(previous["topics"] + clause["topics"]))
    del data["sections"][s]["clauses"][c]
    for other in (x for sec in data["sections"] for x in sec["clauses"]):
        if other["parent"] == clause["ref"]:
            other["parent"] = previous["ref"] if previous["ref"] != other["ref"] else None
    return data


def split_clause(data: dict, s: int, c: int) -> dict:
    """Split clause (s, c) at each line break in its text; the new clauses get refs ``<ref>-2``, ``-3``..."""
    data = copy.deepcopy(data)
    clause = _at(data, s, c)
    parts = [p.strip() for p in clause["text"].splitlines() if p.strip()]
    if len(parts) < 2:
        raise StructureError(
            f"To split clause {clause['ref']}, start a new line in its text where the split goes, then choose Split."
        )
    taken = {x["ref"] for sec in data["sections"] for x in sec["clauses"]}
    clause["text"] = parts[0]
    new = []
    n = 2
    for part in parts[1:]:
        while f"{clause['ref']}-{n}" in taken:
            n += 1
        ref = f"{clause['ref']}-{n}"
        taken.add(ref)
        new.append({"ref": ref, "text": part, "parent": clause["parent"], "topics": list(clause["topics"])})
    data["sections"][s]["clauses"][c + 1 : c + 1] = new
    return data


def renumber_section(data: dict, s: int) -> dict:
    """Number section s's clauses in order: top level ``<section>.1``, ``.2``...; sub-clauses ``<parent>.1``..."""
    data = copy.deepcopy(data)
    section = _at(data, s)
    if not section["number"]:
        raise StructureError("Give the section a number before re-numbering its clauses.")
    mapping: dict[str, str] = {}
    counters: dict[str | None, int] = {}
    local = {x["ref"] for x in section["clauses"]}
    for clause in section["clauses"]:
        parent = clause["parent"] if clause["parent"] in local else None
        new_parent = mapping.get(parent) if parent else None
        counters[new_parent] = counters.get(new_parent, 0) + 1
        prefix = new_parent or section["number"]
        mapping[clause["ref"]] = f"{prefix}.{counters[new_parent]}"
    outside = {x["ref"] for i, sec in enumerate(data["sections"]) if i != s for x in sec["clauses"]}
    clash = sorted(set(mapping.values()) & outside)
    if clash:
        raise StructureError(f"Re-numbering would repeat the reference {clash[0]}, which another section uses.")
    for sec in data["sections"]:
        for clause in sec["clauses"]:
            if clause["parent"] in mapping:
                clause["parent"] = mapping[clause["parent"]]
    for clause in section["clauses"]:
        clause["ref"] = mapping[clause["ref"]]
    return data


def clause_anchor(ref: str) -> str:
    """The HTML id of a clause on the policy page: ``7.4.1`` -> ``clause-7-4-1``."""
    return "clause-" + re.sub(r"[^A-Za-z0-9]+", "-", ref).strip("-")


# --- Comparing two versions ---------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """(op, text) pieces, op one of "same", "del", "ins": the template marks them up, escaped."""
    a, b = _words(old), _words(new)
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("same", " ".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            pieces.append(("del", " ".join(a[i1:i2])))
        if op in ("insert", "replace"):
            pieces.append(("ins", " ".join(b[j1:j2])))
    return pieces


def diff_clauses(old: list, new: list) -> list[dict]:
    """Clauses matched by ref: each entry has kind ("added", "removed", "changed", "same"), ref, old, new.

    Entries follow the new version's order; a removed clause appears after the clause that preceded it
    in the old version. Whitespace differences do not count as changes.
    """
    old_by_ref = {c.ref: c for c in old}
    new_refs = {c.ref for c in new}
    entries: list[dict] = []
    removed_after: dict[str | None, list] = {}
    previous = None
    for clause in old:
        if clause.ref not in new_refs:
            removed_after.setdefault(previous, []).append(clause)
        else:
            previous = clause.ref

    def add_removed(after):
        for clause in removed_after.pop(after, []):
            entries.append({"kind": "removed", "ref": clause.ref, "old": clause, "new": None, "pieces": []})

    add_removed(None)
    for clause in new:
        before = old_by_ref.get(clause.ref)
        if before is None:
            entries.append({"kind": "added", "ref": clause.ref, "old": None, "new": clause, "pieces": []})
        elif _words(before.text) != _words(clause.text):
            pieces = word_diff(before.text, clause.text)
            entries.append({"kind": "changed", "ref": clause.ref, "old": before, "new": clause, "pieces": pieces})
        else:
            entries.append({"kind": "same", "ref": clause.ref, "old": before, "new": clause, "pieces": []})
        add_removed(clause.ref)
    for after in list(removed_after):
        add_removed(after)
    return entries
