"""Result types of an import and the one exception it raises (no Django imports)."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


@dataclass
class ParsedClause:
    ref: str
    text: str
    parent: str | None
    topics: list[str] = field(default_factory=list)
    #: True when ``ref`` is the document's own clause number, False when the importer generated it
    #: (bullets, list items, unnumbered paragraphs). Not part of :meth:`ParsedPolicy.to_dict`.
    numbered: bool = False


@dataclass
class ParsedSection:
    number: str
    heading: str
    clauses: list[ParsedClause] = field(default_factory=list)


@dataclass
class ImportDoubt:
    """A place where the importer chose between readings of the document; a person should check it."""

    ref: str | None  # the clause concerned, or None (e.g. a line left out of the clauses)
    line: str  # the line of the document, as read
    reason: str  # a user-facing sentence: what was assumed, and the other reading


@dataclass
class ParsedPolicy:
    title: str | None
    sections: list[ParsedSection] = field(default_factory=list)
    #: Approval, review and signature lines and image descriptions: kept out of the clauses, shown apart.
    metadata: list[str] = field(default_factory=list)
    #: Places where the structure was ambiguous, in document order. Not part of :meth:`to_dict`.
    doubts: list[ImportDoubt] = field(default_factory=list)

    @property
    def unsure_count(self) -> int:
        """How many places (clauses, or lines left out of the clauses) have at least one doubt."""
        return len({(d.ref, d.line if d.ref is None else "") for d in self.doubts})

    @property
    def confidence(self) -> float:
        """1.0 when nothing was in doubt; each unsure place takes off its share of the clauses (floor 0)."""
        return max(0.0, 1.0 - self.unsure_count / max(1, len(self.clauses)))

    def to_dict(self) -> dict:
        return {
            "sections": [
                {
                    "number": s.number,
                    "heading": s.heading,
                    "clauses": [
                        {"ref": c.ref, "text": c.text, "parent": c.parent, "topics": list(c.topics)} for c in s.clauses
                    ],
                }
                for s in self.sections
            ]
        }

    @property
    def clauses(self) -> list[ParsedClause]:
        """All clauses in document order."""
        return [c for s in self.sections for c in s.clauses]


class PolicyImportError(ValueError):
    """The document can't be imported; ``str(error)`` is a clear, user-facing sentence."""
