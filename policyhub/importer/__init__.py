"""Policy document importer: turn an uploaded staff social-media policy into sections and clauses.

A pure function library (no Django imports), used by the upload view and by tests.

Public API
----------
``import_document(data, filename, *, max_bytes=...)``  size check, :func:`extract_text`, :func:`parse_text`.
``extract_text(data, filename)``  text of a .txt, .docx or .pdf file; the type is detected from the
    content (magic bytes), and a file whose name says otherwise is refused.
``parse_text(text)``  the structure of a policy given as plain text.
``suggest_topics(text)``  keyword-rule topic keys (from :mod:`policyhub.topics`) for one clause.
Every problem with the input raises :class:`PolicyImportError`, whose message is a user-facing sentence.

Section numbers
---------------
* A numbered heading keeps its number without trailing zeros/dots: ``1.0 Introduction`` and
  ``1. Introduction`` are both section ``"1"``.
* An unnumbered heading (``Scope and definitions``, ``RATIONALE``) takes the leading number of its
  numbered clauses (``2.1`` ... -> section ``"2"``).
* Otherwise the number is generated: in a document with no numbering at all sections are numbered
  ``"1"``, ``"2"``, ... in order; an unnumbered section inside a numbered document gets the previous
  section's number plus a letter (``"3A"``, ``"3B"``).
* Text before the first heading (a cover note, say) becomes section ``"0"`` headed ``"Preamble"``.
* Headings with no content under them (e.g. ``APPENDIX`` directly followed by another heading) and a
  front table of contents produce no section.

Clause refs
-----------
* A numbered clause keeps the document's number, trailing dot removed: ``1.1.`` -> ``"1.1"``,
  ``7.4.1`` -> ``"7.4.1"`` (parent ``"7.4"``; a two-level clause such as ``7.4`` has parent ``None``
  because the section is its container).
* An unnumbered paragraph directly in a section is ``"<section>.<n>"`` (1, 2, ... in order), or
  ``"<section>.p<n>"`` when the section also has numbered clauses (so generated and real numbers never
  collide); parent ``None``.
* A list item inside clause ``X`` is ``"X.<label>"`` with parent ``X``: bullets are lettered in order
  (``3.6.a``, ``3.6.b``, ...; after ``z`` come ``aa``, ``ab``); explicitly labelled items keep their
  label (``(c)`` -> ``X.c``, ``2)`` -> ``X.2``, ``(iv)`` -> ``X.iv``); bullets nested in a list item
  are numbered with roman numerals (``3.6.a.i``).
* Bullets directly under a heading, with no clause before them, are ``"<section>.<letter>"`` with
  parent ``None`` (``2.a``, ``2.b``).
* Should a ref still repeat (a document that numbers two clauses alike), later ones get ``-2``, ``-3``;
  the same goes for a repeated section number.
* ``ParsedClause.numbered`` tells the document's own numbers from generated refs.

Each clause also carries ``topics``: :func:`suggest_topics` of its text.

The package is split by stage; each module imports only from the ones listed before it, so there are no
cycles: ``results`` and ``text`` (result types, shared line patterns), ``tagging`` (topics), ``extract``
(bytes to text), ``clean`` (page furniture and contents lists removed), ``number`` (each line read as a
heading, numbered clause, list item or continuation) and ``assemble`` (refs, parents, :func:`parse_text`).
"""

from __future__ import annotations

from .assemble import parse_text
from .extract import extract_text
from .results import DEFAULT_MAX_BYTES, ParsedClause, ParsedPolicy, ParsedSection, PolicyImportError
from .tagging import suggest_topics

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ParsedClause",
    "ParsedPolicy",
    "ParsedSection",
    "PolicyImportError",
    "extract_text",
    "import_document",
    "parse_text",
    "suggest_topics",
]


def import_document(data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedPolicy:
    """Check the size, extract the text and parse it. Raises :class:`PolicyImportError` on any problem."""
    if data is None or len(data) == 0:
        raise PolicyImportError("The file is empty.")
    if len(data) > max_bytes:
        raise PolicyImportError(
            f"The file is too large ({_size(len(data))}); the largest file that can be imported is {_size(max_bytes)}."
        )
    return parse_text(extract_text(data, filename))


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"
