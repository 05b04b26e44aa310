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
class ParsedPolicy:
    title: str | None
    sections: list[ParsedSection] = field(default_factory=list)

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
