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
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field

import docx
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PdfReader

from policyhub.topics import TOPIC_KEYS

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


# --------------------------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------------------------

_PUPIL = r"(?:pupils?|students?|learners?|children|child)"
_PARENT = r"(?:parents?|carers?|parents?/carers?|families)"
_CONTACT = (
    r"(?:contact\w*|communicat\w*|friends?(?:hips?)?|follow\w*|engage\w*|messag\w*|conversations?|connect\w*"
    r"|e-?mails?|telephones?|text)"
)


def _near(a: str, b: str, gap: int = 80) -> str:
    """Regex matching ``a`` and ``b`` (either order) within ``gap`` characters of the same sentence."""
    return rf"\b{a}\b[^.;]{{0,{gap}}}\b{b}\b|\b{b}\b[^.;]{{0,{gap}}}\b{a}\b"


_TOPIC_RULES: dict[str, list[str]] = {
    "personal_use": [
        r"\bpersonal (?:use|accounts?|social media|profiles?|lives|life|views|blogs?|devices?|telephones?|email)",
        r"\bprivate (?:lives|life|accounts?|capacity)",
        r"\bprivacy settings?\b",
        r"\bin (?:their|your) own time\b",
    ],
    "contact_pupils": [_near(_CONTACT, _PUPIL), r"\bformer pupils\b"],
    "contact_parents": [_near(_CONTACT, _PARENT)],
    "images": [
        r"\bphoto\w*",
        r"\bimages?\b",
        r"\bpictures?\b",
        r"\bvideos?\b",
        r"\bfilm(?:ed|ing)?\b",
        r"\btag(?:ged|ging)?\b",
    ],
    "confidentiality": [
        r"\bconfidential\w*",
        r"\bdata protection\b",
        r"\bGDPR\b",
        r"\bpersonal (?:information|data|details)\b",
        r"\bpasswords?\b",
        r"\blogin details\b",
    ],
    "school_accounts": [
        r"\bschool(?:'s|’s)? (?:social media |twitter |facebook )?(?:accounts?|websites?|pages?)\b",
        r"\bofficial (?:school )?(?:accounts?|channels?|websites?|social media)",
        r"\bon behalf of the school\b",
        r"\bschool[- ]owned\b",
        r"\b(?:account|website)s? (?:creation|being created|will be created)",
        r"\bcreat\w* (?:an? |such )?\w* ?accounts?\b",
        r"\bauthorised social media\b",
    ],
    "cyberbullying": [r"\bcyber[- ]?bull\w*", r"\bbull(?:y|ying|ied)\b", r"\btroll\w*", r"\bharass\w*"],
    "safeguarding": [
        r"\bsafeguard\w*",
        r"\bchild protection\b",
        r"\bgrooming\b",
        r"\bwelfare of children\b",
        r"\bdesignated safeguarding\b",
    ],
    "prevent": [
        r"\bPrevent (?:Duty|duty|strategy|guidance)\b",
        r"\bradicali[sz]\w*",
        r"\bextremis\w*",
        r"\bterroris\w*",
    ],
    "illegal_content": [
        r"\bindecent images?\b",
        r"\bpornograph\w*",
        r"\billegal\b",
        r"\bunlawful\b",
        r"\bcriminal\b",
        r"\bextremist material\b",
    ],
    "media": [
        r"\bjournalists?\b",
        r"\bmedia (?:enquir\w*|policy)\b",
        r"\bpress\b",
        r"\bthe media\b",
        r"\breporters?\b",
    ],
    "monitoring": [r"\bmonitor\w*", r"\bfiltering\b", r"\bfilters?\b"],
    "breaches": [
        r"\bbreach\w*",
        r"\bdisciplinary\b",
        r"\bdismiss\w*",
        r"\bmisconduct\b",
        r"\bsanctions?\b",
        r"\bconduct (?:matter|issue)\b",
    ],
    "working_hours": [
        r"\bworking (?:hours|time|day)\b",
        r"\bwork(?:ing)? hours\b",
        r"\bwhile at work\b",
        r"\bduring (?:the )?(?:school|work|working) (?:day|hours|time)\b",
        r"\bschool hours\b",
    ],
    "legal": [
        r"\blibel\w*",
        r"\bdefam\w*",
        r"\bcopyright\b",
        r"\b(?:Equality|Human Rights|Data Protection|Counter-?\s?Terrorism and Security|Freedom of Information) Act\b",
        r"\blegislation\b",
        r"\blegal (?:action|advice|framework|considerations?)\b",
        r"\blaws?\b",
        r"\bliable\b",
        r"\bstatut\w*",
    ],
}

_TOPIC_PATTERNS: dict[str, list[re.Pattern[str]]] = {
    key: [re.compile(p) if key == "prevent" and p.startswith(r"\bPrevent") else re.compile(p, re.I) for p in pats]
    for key, pats in _TOPIC_RULES.items()
}
assert set(_TOPIC_PATTERNS) == set(TOPIC_KEYS)


def suggest_topics(text: str) -> list[str]:
    """Topic keys whose keyword rules match ``text``, in the order of ``TOPIC_KEYS``.

    Suggestions only: a person confirms them. ``Prevent`` is matched case-sensitively (``Prevent duty``)
    so that the ordinary verb "prevent" does not count.
    """
    text = text or ""
    return [key for key in TOPIC_KEYS if any(p.search(text) for p in _TOPIC_PATTERNS[key])]


# --------------------------------------------------------------------------------------------
# Text extraction
# --------------------------------------------------------------------------------------------

_KIND_NAMES = {"txt": "a plain-text file", "docx": "a Word (.docx) document", "pdf": "a PDF"}
_EXTENSIONS = {".txt": "txt", ".text": "txt", ".docx": "docx", ".pdf": "pdf"}
_MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # a .docx far larger than this once unzipped is a zip bomb, not a policy
_DOCX_DAMAGED = "The Word document could not be opened; it may be damaged. Try saving it again as .docx."
_SUPPORTED = "Please upload the policy as a PDF, a Word (.docx) document or a plain-text (.txt) file."


def _detect_kind(data: bytes) -> str:
    """'pdf', 'docx', 'txt', or a short description of an unsupported type."""
    head = data[:1024]
    if head.lstrip(b"\xef\xbb\xbf\r\n\t ").startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
                unpacked = sum(info.file_size for info in zf.infolist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return "a damaged zip archive"
        if unpacked > _MAX_UNPACKED_BYTES:
            return "a compressed file that unpacks to an unreasonable size"
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "an Excel spreadsheet"
        if "ppt/presentation.xml" in names:
            return "a PowerPoint presentation"
        if "content.xml" in names:
            return "an OpenDocument file"
        return "a zip archive"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old-style Word (.doc) or Office file"
    if data.startswith(b"\x89PNG"):
        return "a PNG image"
    if data.startswith(b"\xff\xd8\xff"):
        return "a JPEG image"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF image"
    if data.startswith(b"{\\rtf"):
        return "a Rich Text (.rtf) file"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "txt"  # UTF-16 text with a byte-order mark
    if b"\x00" in data[:4096]:
        return "a binary file"
    return "txt"


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise PolicyImportError("The text file could not be read: its character encoding is damaged.") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise PolicyImportError(
            "The text file could not be read: save it as UTF-8 text (or as a PDF or Word document) and try again."
        ) from exc


def extract_text(data: bytes, filename: str) -> str:
    """Plain text of an uploaded .txt, .docx or .pdf file.

    The type is detected from the bytes, not the name. A name that claims another supported type
    (``photo.png`` renamed ``policy.docx``), or an unsupported type, raises :class:`PolicyImportError`.
    PDF pages are separated by form feeds (``\\f``) so that :func:`parse_text` can spot running
    headers and footers; Word list numbering and bullets are written out as text.
    """
    if not data:
        raise PolicyImportError("The file is empty.")
    name = (filename or "").strip()
    ext = ""
    if "." in name:
        ext = "." + name.rsplit(".", 1)[1].lower()
    if ext and ext not in _EXTENSIONS:
        raise PolicyImportError(f"“{name}” is not a supported file type. {_SUPPORTED}")
    kind = _detect_kind(data)
    claimed = _EXTENSIONS.get(ext)
    if kind not in _KIND_NAMES:
        if claimed == "docx" and kind == "a damaged zip archive":
            raise PolicyImportError(_DOCX_DAMAGED)
        if claimed:
            raise PolicyImportError(
                f"“{name}” is named like {_KIND_NAMES[claimed]}, but its contents are {kind}. {_SUPPORTED}"
            )
        raise PolicyImportError(f"This file is {kind}, which can't be imported. {_SUPPORTED}")
    if claimed and claimed != kind:
        raise PolicyImportError(
            f"“{name}” is named like {_KIND_NAMES[claimed]}, but its contents are {_KIND_NAMES[kind]}. "
            "Check you chose the right file, or rename it to match its contents."
        )
    if kind == "pdf":
        return _pdf_text(data)
    if kind == "docx":
        return _docx_text(data)
    return _decode_text(data)


def _pdf_text(data: bytes) -> str:
    damaged = "The PDF could not be read; it may be damaged. Try saving or exporting it again."
    # pypdf logs a warning for every slightly malformed object; they are not the user's business here.
    pypdf_logger = logging.getLogger("pypdf")
    old_level = pypdf_logger.level
    pypdf_logger.setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise PolicyImportError("The PDF is password-protected. Remove the password and upload it again.")
            except PolicyImportError:
                raise
            except Exception as exc:
                raise PolicyImportError(
                    "The PDF is password-protected. Remove the password and upload it again."
                ) from exc
        pages = [(page.extract_text() or "") for page in reader.pages]
    except PolicyImportError:
        raise
    except Exception as exc:  # pypdf raises many different exception types for damaged files
        raise PolicyImportError(damaged) from exc
    finally:
        pypdf_logger.setLevel(old_level)
    if not pages:
        raise PolicyImportError(damaged)
    text = "\f".join(pages)
    if not text.strip():
        raise PolicyImportError(
            "No text could be found in the PDF; it may be a scanned image. Upload the original Word document instead."
        )
    return text


# ---- Word -------------------------------------------------------------------------------------


def _to_roman(n: int) -> str:
    out = ""
    for value, numeral in (
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ):
        while n >= value:
            out += numeral
            n -= value
    return out


def _to_letters(n: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("a") + rem) + out
    return out


def _format_number(n: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return _to_letters(n)
    if fmt == "upperLetter":
        return _to_letters(n).upper()
    if fmt == "lowerRoman":
        return _to_roman(n)
    if fmt == "upperRoman":
        return _to_roman(n).upper()
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


class _WordNumbering:
    """Renders Word automatic numbering (``w:numPr``) as the text a reader sees, e.g. ``7.4.1`` or ``•``."""

    def __init__(self, document) -> None:
        self._qn = qn
        self._levels: dict[str, dict[int, dict]] = {}  # numId -> ilvl -> {fmt, text, start}
        self._counters: dict[str, list[int]] = {}  # abstract id -> counters per level
        self._abstract_of: dict[str, str] = {}
        try:
            numbering = document.part.numbering_part.element
        except Exception:  # no numbering part
            return
        abstracts: dict[str, dict[int, dict]] = {}
        for absnum in numbering.findall(qn("w:abstractNum")):
            levels: dict[int, dict] = {}
            for lvl in absnum.findall(qn("w:lvl")):
                levels[int(lvl.get(qn("w:ilvl"), "0"))] = self._level(lvl)
            abstracts[absnum.get(qn("w:abstractNumId"))] = levels
        for num in numbering.findall(qn("w:num")):
            num_id = num.get(qn("w:numId"))
            abs_el = num.find(qn("w:abstractNumId"))
            if abs_el is None:
                continue
            abs_id = abs_el.get(qn("w:val"))
            levels = {k: dict(v) for k, v in abstracts.get(abs_id, {}).items()}
            for override in num.findall(qn("w:lvlOverride")):
                ilvl = int(override.get(qn("w:ilvl"), "0"))
                lvl = override.find(qn("w:lvl"))
                if lvl is not None:
                    levels[ilvl] = self._level(lvl)
                start = override.find(qn("w:startOverride"))
                if start is not None and ilvl in levels:
                    levels[ilvl]["start"] = int(start.get(qn("w:val"), "1"))
            self._levels[num_id] = levels
            self._abstract_of[num_id] = abs_id

    def _level(self, lvl) -> dict:
        qn = self._qn

        def val(tag: str, default: str) -> str:
            el = lvl.find(qn(tag))
            return el.get(qn("w:val"), default) if el is not None else default

        return {
            "fmt": val("w:numFmt", "decimal"),
            "text": val("w:lvlText", ""),
            "start": int(val("w:start", "1") or 1),
        }

    def _num_pr(self, paragraph):
        qn = self._qn
        ppr = paragraph._p.pPr
        if ppr is not None and ppr.numPr is not None:
            num_pr = ppr.numPr
            num_id = num_pr.find(qn("w:numId"))
            ilvl = num_pr.find(qn("w:ilvl"))
            return (
                num_id.get(qn("w:val")) if num_id is not None else None,
                int(ilvl.get(qn("w:val"))) if ilvl is not None else 0,
            )
        style = paragraph.style
        while style is not None:  # numbering inherited from the paragraph style ("List Number", ...)
            sppr = style.element.pPr
            if sppr is not None and sppr.numPr is not None:
                num_id = sppr.numPr.find(qn("w:numId"))
                ilvl = sppr.numPr.find(qn("w:ilvl"))
                return (
                    num_id.get(qn("w:val")) if num_id is not None else None,
                    int(ilvl.get(qn("w:val"))) if ilvl is not None else 0,
                )
            style = style.base_style
        return None, 0

    def label(self, paragraph) -> str:
        """The list label for ``paragraph`` (with indentation for nested bullets), or ``""``."""
        num_id, ilvl = self._num_pr(paragraph)
        if not num_id or num_id == "0" or num_id not in self._levels:
            return ""
        levels = self._levels[num_id]
        level = levels.get(ilvl)
        if level is None:
            return ""
        counters = self._counters.setdefault(self._abstract_of[num_id], [0] * 9)
        while len(counters) <= ilvl:
            counters.append(0)
        if level["fmt"] == "bullet":
            return "  " * ilvl + "• "
        if counters[ilvl] == 0:
            counters[ilvl] = level["start"]
        else:
            counters[ilvl] += 1
        for deeper in range(ilvl + 1, len(counters)):
            counters[deeper] = 0
        if level["fmt"] == "none":
            return ""

        def render(match: re.Match[str]) -> str:
            idx = int(match.group(1)) - 1
            lv = levels.get(idx, {"fmt": "decimal", "start": 1})
            n = counters[idx] if idx < len(counters) and counters[idx] else lv["start"]
            return _format_number(n, lv["fmt"])

        text = re.sub(r"%(\d)", render, level["text"] or f"%{ilvl + 1}.")
        return text + " "


def _docx_text(data: bytes) -> str:
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise PolicyImportError(_DOCX_DAMAGED) from exc
    numbering = _WordNumbering(document)
    lines: list[str] = []

    def add_paragraph(paragraph: Paragraph) -> None:
        style_name = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style_name.lower().startswith("toc"):
            return  # table-of-contents entries; the headings themselves come later
        text = paragraph.text.replace("\t", " ").strip()
        if not text:
            return
        label = numbering.label(paragraph)
        for part in text.split("\n"):  # manual line breaks
            if part.strip():
                lines.append(label + part.strip())
                label = ""

    try:
        for block in document.iter_inner_content():
            if isinstance(block, Paragraph):
                add_paragraph(block)
            elif isinstance(block, Table):
                for row in block.rows:
                    for cell in row.cells:
                        for paragraph in cell.paragraphs:
                            add_paragraph(paragraph)
    except Exception as exc:
        raise PolicyImportError("The Word document could not be read; it may be damaged.") from exc
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_MULTI_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,3})+)\.?(?:\s+|$)(.*)$")
_SINGLE_RE = re.compile(r"^(\d{1,2})([.)]?)\s+(\S.*)$")
_PAREN_NUM_RE = re.compile(r"^\((\d{1,2})\)\s+(\S.*)$")
_ALPHA_RE = re.compile(r"^(?:\(([A-Za-z]|[ivxIVX]{1,5})\)|([A-Za-z]|[ivx]{1,5})\)|([a-z])\.)\s+(\S.*)$")
_BULLET_GLYPHS = "•●▪■◦○·‣⁃∙◆◇►▸➢➤✓✔❖□–—*-o\uf0b7\uf0a7\uf076\uf0d8\uf0fc\uf0a8\uf06e\uf0a1"
_BULLET_RE = re.compile(r"^([" + re.escape(_BULLET_GLYPHS) + r"])\s+(\S.*)$")

_PAGE_NUMBER_RES = [
    re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$", re.I),
    re.compile(r"^[-–—]\s*\d{1,4}\s*[-–—]$"),
    re.compile(r"^\d{1,4}\s*\|\s*page$", re.I),
    re.compile(r"^page\s*\|\s*\d{1,4}$", re.I),
]
_NAV_RE = re.compile(r"^(?:back|return) to (?:the )?(?:contents|top|index|table of contents)\.?$", re.I)
_CONTENTS_RE = re.compile(r"^(?:table of )?contents:?$", re.I)
_DOT_LEADER_RE = re.compile(r"(?:\.\s?){4,}\s*\d{1,4}$|…+\s*\d{1,4}$")
_CLOSERS = "”’\"')]»"


_ABBREVIATION_END_RE = re.compile(r"(?:\b(?:e\.g|i\.e|cf|viz|approx|Mr|Mrs|Ms|Dr|No|St)\.)$", re.I)
_CONNECTOR_END_RE = re.compile(
    r"\b(?:the|a|an|and|or|of|to|in|on|for|with|via|by|as|at|from|such|their|its|our|your|any|all|this|that)$", re.I
)


def _ends_terminal(s: str) -> bool:
    s = s.rstrip()
    if s.endswith(":-") or s.endswith(":–"):
        return True
    s = s.rstrip(_CLOSERS)
    if _ABBREVIATION_END_RE.search(s):
        return False  # "... purposes e.g." continues on the next line
    return bool(s) and s[-1] in ".!?:;"


def _first_alpha(s: str) -> str:
    for ch in s:
        if ch.isalpha():
            return ch
    return ""


def _starts_lower(s: str) -> bool:
    s = s.lstrip(_CLOSERS + "“‘(\"'")
    return bool(s) and s[0].islower()


def _is_caps_heading(s: str, indented: bool) -> bool:
    letters = [c for c in s if c.isalpha()]
    if len(letters) < 2 or any(c.islower() for c in letters):
        return False
    if len(s) > 100 or len(s.split()) > 14 or s.rstrip().endswith((".", ";", ",")):
        return False
    if _BULLET_RE.match(s) or _MULTI_RE.match(s):
        return False
    # an acronym such as "SLT" on its own is more likely a list item than a heading
    return not (len(s.split()) == 1 and len(letters) < (6 if indented else 4))


def _title_like(s: str, max_words: int = 12) -> bool:
    s = s.strip()
    if not s or len(s) > 90 or len(s.split()) > max_words:
        return False
    first = s[0]
    if not (first.isupper() or (first in "“‘\"'" and _first_alpha(s).isupper())):
        return False
    if s.endswith((".", ";", ",", ":", ":-", "-", "–")) or s.rstrip(_CLOSERS).endswith((".", ";", ",", "?", "!")):
        return False
    return not re.search(r"[.;?!]\s+[A-Z]", s)  # no sentence break inside


_SUB_BULLETS = "o◦○\uf0a8"  # Word's default second-level bullets
_SUB2_BULLETS = "▪■\uf0a7"  # ... and third-level


def _bullet_style(glyph: str) -> str:
    """List-level style of a bullet glyph; other glyphs (•, -, *, ●, ...) count as one first-level style."""
    if glyph in _SUB_BULLETS:
        return "bullet2"
    if glyph in _SUB2_BULLETS:
        return "bullet3"
    return "bullet"


def _normalise_ref(ref: str) -> str:
    return ref.strip().rstrip(".")


def _section_number_from_heading(num: str) -> str:
    parts = num.rstrip(".").split(".")
    while len(parts) > 1 and parts[-1].strip("0") == "":
        parts.pop()
    return ".".join(str(int(p)) if p.isdigit() else p for p in parts)


def _furniture_key(s: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", s)).strip().casefold()


def _remove_furniture(text: str) -> list[str]:
    """Lines of ``text`` without page numbers, navigation links, running headers/footers or a contents list."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u00ad", "").replace("\u200b", "").replace("\ufeff", "")
    text = text.replace("\t", "    ")
    pages = [p.split("\n") for p in text.split("\f")]

    def is_structural(s: str) -> bool:
        return bool(_MULTI_RE.match(s) or _BULLET_RE.match(s) or _ALPHA_RE.match(s))

    # Running headers and footers: lines near the top/bottom of many pages (digits ignored, so "... 4" and "... 5"
    # match), or, with no page breaks to go by, short lines that recur three or more times.
    furniture: set[str] = set()
    real_pages = [p for p in pages if any(line.strip() for line in p)]
    if len(real_pages) >= 2:
        counts: Counter[str] = Counter()
        for page in real_pages:
            lines = [line.strip() for line in page if line.strip() and not is_structural(line.strip())]
            counts.update({_furniture_key(line) for line in lines[:3] + lines[-3:]})
        threshold = max(2, (len(real_pages) + 1) // 2)
        furniture |= {k for k, n in counts.items() if n >= threshold and len(k) > 1}
    counts = Counter(_furniture_key(line) for page in pages for line in page if line.strip())
    for line in (line.strip() for page in pages for line in page):
        key = _furniture_key(line)
        if (
            line
            and counts[key] >= 3
            and not is_structural(line)
            and ("#" in key or "|" in key or len(key.split()) >= 3)
            and len(line) <= 120
        ):
            furniture.add(key)

    out: list[str] = []
    for page in pages:
        for raw in page:
            line = raw.rstrip()
            s = line.strip()
            if not s:
                continue
            if any(r.match(s) for r in _PAGE_NUMBER_RES) or _NAV_RE.match(s) or _DOT_LEADER_RE.search(s):
                continue
            if _furniture_key(s) in furniture:
                continue
            out.append(line)
    return _drop_contents(out)


def _drop_contents(lines: list[str]) -> list[str]:
    """Remove a table-of-contents block: a "Contents" line and the entries after it.

    An entry is a short title-like line ending in a page number, or one whose text (numbering aside) re-appears
    later in the document as a heading. The real headings and their text come later, so nothing is lost.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        if _CONTENTS_RE.match(lines[i].strip()):
            later_keys = [_toc_key(x) for x in lines[i + 1 :]]
            j = i + 1
            while j < len(lines):
                t = lines[j].strip()
                paged = re.match(r"^(.*?\S)\s+\d{1,3}$", t)
                key = _toc_key(paged.group(1) if paged else t)
                body = re.sub(r"^[\d.]+\s*", "", paged.group(1) if paged else t)
                if (paged and _title_like(body, 16)) or (key and later_keys[j - i :].count(key) >= 1):
                    j += 1
                    continue
                break
            i = j  # the "Contents" line itself goes too
            continue
        out.append(lines[i])
        i += 1
    return out


def _toc_key(s: str) -> str:
    """A line's text for matching contents entries to headings: numbering, case and spacing ignored."""
    s = re.sub(r"^\s*(?:\d{1,2}(?:\.\d{1,3})*\.?|[A-Z]\.)\s+", "", s.strip())
    return re.sub(r"\s+", " ", s).strip().casefold()


# ---- structure ------------------------------------------------------------------------------


@dataclass(eq=False)
class _Node:
    kind: str  # "num" (numbered clause), "para" (unnumbered paragraph), "item" (list item / bullet)
    label: str | None
    parent: _Node | None
    lines: list[str]
    style: str = ""
    ref: str = ""


@dataclass(eq=False)
class _Sec:
    number: str | None
    heading: str
    preamble: bool = False
    nodes: list[_Node] = field(default_factory=list)


def _join(lines: list[str]) -> str:
    text = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if text and re.search(r"[A-Za-z]-$", text) and line[:1].islower():
            text += line  # "video-image-" + "sharing": keep the hyphen, drop the line break
        elif text:
            text += " " + line
        else:
            text = line
    return re.sub(r"\s+", " ", text).strip()


def _roman_value(s: str) -> int:
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
    total = 0
    prev = 0
    for ch in reversed(s.lower()):
        v = values.get(ch, 0)
        total = total - v if v < prev else total + v
        prev = max(prev, v)
    return total


class _Parser:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.sections: list[_Sec] = []
        self.sec = _Sec(number="0", heading="Preamble", preamble=True)
        self.sections.append(self.sec)
        self.cur: _Node | None = None  # node receiving continuation lines
        self.container: _Node | None = None  # node new list items attach to
        self.stack: list[tuple[str, int, _Node]] = []  # open list levels: (style, indent, item)
        self.prev: str | None = None  # previous line's text
        self.prev_kind = "start"  # "start", "heading", "num", "para", "item"
        self.title: str | None = None
        self.last_ref: str | None = None  # the last numbered clause
        self.caps_style = sum(1 for line in lines if _is_caps_heading(line.strip(), line[:1] == " ")) >= 2
        # Text extracted from a PDF is wrapped at a fairly constant width; text from Word or a .txt typed
        # one paragraph per line is not. Knowing the width lets us tell a wrapped line from a short last line.
        lengths = sorted(len(line.strip()) for line in lines)
        self.wrap_width = 0
        if len(lengths) >= 10:
            p90 = lengths[int(len(lengths) * 0.9)]
            near_full = sum(1 for n in lengths if n >= 0.8 * p90)
            if 40 <= p90 <= 160 and near_full >= 0.3 * len(lengths):
                self.wrap_width = p90

    # -- helpers ---------------------------------------------------------------------------

    def _peek(self, i: int) -> str | None:
        return self.lines[i + 1] if i + 1 < len(self.lines) else None

    @staticmethod
    def _is_bullet_line(line: str | None) -> bool:
        if line is None:
            return False
        s = line.strip()
        if _BULLET_RE.match(s) or _ALPHA_RE.match(s):
            return True
        return line[:1] == " " and not _MULTI_RE.match(s)

    def _is_block_start(self, line: str | None) -> bool:
        if line is None:
            return True
        s = line.strip()
        if _MULTI_RE.match(s) or _BULLET_RE.match(s) or _ALPHA_RE.match(s) or _SINGLE_RE.match(s):
            return True
        if _is_caps_heading(s, line[:1] == " "):
            return True
        return not _starts_lower(s)

    def _prev_is_full_width(self, prev: str | None) -> bool:
        """Whether the previous line ran to the wrapping width (so its paragraph probably continues)."""
        return bool(self.wrap_width) and prev is not None and len(prev) >= 0.85 * self.wrap_width

    def _section_num_int(self) -> int | None:
        """The current section's number, or failing that the leading number of its numbered clauses."""
        num = self.sec.number
        if num and num.isdigit():
            return int(num)
        for node in self.sec.nodes:
            if node.kind == "num" and node.label:
                return int(node.label.split(".")[0])
        return None

    def _expected_next(self, ref: str) -> bool:
        """Whether ``ref`` plausibly follows the last numbered clause (next sibling, first child, next section)."""
        if self.last_ref is None:
            return True
        last = [int(p) for p in self.last_ref.split(".")]
        new = [int(p) for p in _normalise_ref(ref).split(".")]
        if new == [*last, 1] or new[:1] == [last[0] + 1]:
            return True
        return any(new == [*last[:k], last[k] + 1] for k in range(1, len(last)))

    def _new_section(self, number: str | None, heading: str) -> None:
        heading = re.sub(r"\s+", " ", heading).strip().rstrip(":-–").strip()
        self.sec = _Sec(number=number, heading=heading)
        self.sections.append(self.sec)
        self.cur = self.container = None
        self.stack = []
        self.prev_kind = "heading"

    def _add(self, node: _Node) -> _Node:
        self.sec.nodes.append(node)
        self.cur = node
        return node

    def _in_numbered_context(self) -> bool:
        node = self.container
        while node is not None:
            if node.kind == "num" or (node.kind == "para" and node.label):
                return True
            node = node.parent
        return False

    # -- line handlers ---------------------------------------------------------------------

    def _numbered(self, ref: str, rest: str) -> None:
        ref = _normalise_ref(ref)
        major = ref.split(".")[0]
        sec_int = self._section_num_int()
        if self.sec.preamble or (sec_int is not None and int(major) > sec_int):
            if not (self.sec.number and not self.sec.preamble and self.sec.number == major):
                self._new_section(major, f"Section {major}")
        elif self.sec.number is None and not any(s.number == major for s in self.sections[:-1]):
            # an unnumbered heading takes its clauses' number, unless an earlier section already has it (then
            # the "heading" is more likely a stray line, and the section is given a generated number instead)
            self.sec.number = major
        self.last_ref = ref
        node = _Node("num", ref, None, [rest] if rest else [])
        self._add(node)
        self.container = node
        self.stack = []
        self.prev_kind = "num"

    def _item(self, style: str, indent: int, label: str | None, text: str, intro: bool = False) -> None:
        parent: _Node | None = None
        while self.stack:
            top_style, top_indent, top_node = self.stack[-1]
            if top_style == style and abs(top_indent - indent) <= 1:
                parent = top_node.parent
                self.stack.pop()
                break
            known_below = any(st == style and abs(ind - indent) <= 1 for st, ind, _ in self.stack[:-1])
            if indent > top_indent + 1 or (not known_below and indent >= top_indent - 1):
                parent = top_node
                break
            self.stack.pop()
        else:
            parent = self.container
        if intro and parent is None:
            node = self._add(_Node("para", None, None, [text]))
            self.container = node
            self.stack = []
            self.prev_kind = "para"
            return
        node = self._add(_Node("item", label, parent, [text], style=style))
        self.stack.append((style + (":intro" if intro else ""), indent, node))
        self.prev_kind = "item"

    def _alpha_style(self, label: str, paren: bool) -> tuple[str, str]:
        """(style, label) for an (a)/a)/(i) item, deciding between letters and roman numerals."""
        kind = "(" if paren else ")"
        low = label.lower()
        if len(low) == 1 and low not in "ivxlc":
            return f"alpha{kind}", low
        for st, _ind, node in reversed(self.stack):
            if st.startswith("alpha") and node.label and len(node.label) == 1 and ord(low[0]) == ord(node.label) + 1:
                return f"alpha{kind}", low  # (h) then (i): still letters
            if st.startswith("roman"):
                return f"roman{kind}", low
        if len(low) > 1 or low == "i" or any(st.startswith("alpha") for st, _i, _n in self.stack):
            return f"roman{kind}", low
        return f"alpha{kind}", low

    def _para(self, text: str) -> None:
        node = self._add(_Node("para", None, None, [text]))
        self.container = node
        self.stack = []
        self.prev_kind = "para"

    def _continue(self, text: str) -> None:
        if self.cur is None:
            self._para(text)
        else:
            self.cur.lines.append(text)

    # -- main loop -------------------------------------------------------------------------

    def parse(self) -> tuple[str | None, list[_Sec]]:
        lines = self.lines
        start = 0
        # A title: one to three short unindented lines at the top, followed by a numbered or capitalised heading
        # or a contents list. With several lines, the one naming the document ("... Policy") wins.
        candidates: list[str] = []
        for line in lines[:3]:
            s = line.strip()
            if (
                line[:1] != " "
                and (_title_like(s, 14) or _is_caps_heading(s, False))
                and not _MULTI_RE.match(s)
                and not _SINGLE_RE.match(s)
                and not _CONTENTS_RE.match(s)
            ):
                candidates.append(s)
            else:
                break
        for n in range(len(candidates), 0, -1):
            nxt = lines[n] if n < len(lines) else None
            if nxt is None:
                continue
            nxt_s = nxt.strip()
            single = _SINGLE_RE.match(nxt_s)
            block = candidates[:n]
            named = [
                c for c in block if re.search(r"\b(?:polic(?:y|ies)|guidance|guidelines|code of conduct)\b", c, re.I)
            ]
            multi = _MULTI_RE.match(nxt_s)
            if (
                (multi and multi.group(1).count(".") == 1 and multi.group(1).split(".")[1].strip("0") == "")
                or (single and _title_like(single.group(3)))
                or _is_caps_heading(nxt_s, nxt[:1] == " ")
                or _CONTENTS_RE.match(nxt_s)
            ):
                self.title = re.sub(r"\s+", " ", (named or block)[0])
                start = n
                break
        for i in range(start, len(lines)):
            self._line(i)
            self.prev = lines[i].strip()
        return self.title, self.sections

    def _line(self, i: int) -> None:
        raw = self.lines[i]
        s = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        nxt = self._peek(i)
        prev = self.prev
        prev_terminal = prev is None or _ends_terminal(prev) or self.prev_kind in ("start", "heading")
        # A wrapped line that merely begins with a number or letter ("12 months ...") continues the sentence.
        soft_continuation = not prev_terminal and _starts_lower(s) and self.cur is not None

        m = _MULTI_RE.match(s)
        if m:
            ref, rest = m.group(1), m.group(2).strip()
            parts = ref.split(".")
            major = int(parts[0])
            sec_int = self._section_num_int()
            if not prev_terminal and self.cur is not None:
                # e.g. "2.5 hours" at the start of a wrapped line, rather than clause 2.5
                wrong_section = sec_int is not None and not self.sec.preamble and major < sec_int
                if wrong_section or (_starts_lower(rest) and not self._expected_next(ref)):
                    self._continue(s)
                    return
            if len(parts) == 2 and parts[1].strip("0") == "" and (not rest or _title_like(rest, 16)):
                self._new_section(_section_number_from_heading(ref), rest or f"Section {major}")
                return
            self._numbered(ref, rest)
            return

        m = _SINGLE_RE.match(s)
        if m and not soft_continuation:
            num, marker, rest = m.group(1), m.group(2), m.group(3).strip()
            # "3. Support" after a "1) 2) 3)" list is a heading; "4)" or a "1." right after "...as follows:" is not.
            continues_list = any(
                st == f"num{marker}"
                and node.label is not None
                and node.label.isdigit()
                and int(node.label) + 1 == int(num)
                for st, _i, node in self.stack
            )
            list_context = self.cur is not None and (continues_list or (prev or "").rstrip().endswith((":", ":-")))
            if marker != ")" and _title_like(rest) and not list_context:
                self._new_section(str(int(num)), rest)
                return
            if self.container is not None:
                self._item(f"num{marker}", indent, num, rest)
            else:
                node = self._add(_Node("para", num, None, [rest]))
                self.container = node
                self.stack = []
                self.prev_kind = "para"
            return

        m = _PAREN_NUM_RE.match(s)
        if m and not soft_continuation:
            self._item("num()", indent, m.group(1), m.group(2))
            return

        m = _ALPHA_RE.match(s)
        if m and not soft_continuation:
            label = m.group(1) or m.group(2) or m.group(3)
            style, label = self._alpha_style(label, paren=m.group(1) is not None)
            self._item(style, indent, label, m.group(4))
            return

        m = _BULLET_RE.match(s)
        if m and not (m.group(1) in "-–—" and soft_continuation):  # "– a dash" wrapped to a new line
            self._item(_bullet_style(m.group(1)), indent, None, m.group(2))
            return

        indented = indent > 0
        nxt_s = nxt.strip() if nxt is not None else None
        sentence_runs_on = not prev_terminal and nxt_s is not None and _starts_lower(nxt_s)
        if _is_caps_heading(s, indented) and not (indented and soft_continuation) and not sentence_runs_on:
            self._new_section(None, s)
            return

        nxt_multi = _MULTI_RE.match(nxt_s) if nxt_s is not None else None
        nxt_numbered = nxt_multi is not None
        # In a numbered document a heading is followed by the first clause of its section (x.1), not by x.5.
        mid_section = (
            nxt_multi is not None
            and nxt_multi.group(1).rstrip(".").split(".")[-1] not in ("0", "1")
            and any(n.kind == "num" for n in self.sec.nodes)
        )
        if (
            _title_like(s, 10)
            and not mid_section
            and (
                (not indented and prev_terminal and self._is_block_start(nxt))
                or (indented and prev_terminal and nxt_numbered)
                or (not indented and self.prev_kind == "item" and self._is_bullet_line(nxt))
            )
        ):
            if self.caps_style:
                self._para(s)  # a sub-heading such as "The Do's" in a document whose headings are in capitals
            else:
                self._new_section(None, s)
            return

        if indented:
            # Text extraction can indent a wrapped line (typically the first on a page): it continues the
            # sentence when it starts in lower case after an unfinished line, or when a full-width clause line
            # is followed by a capitalised one that does not follow a lead-in such as "as follows:".
            page_top = (
                self._in_numbered_context()
                and not self.stack
                and self._prev_is_full_width(prev)
                and not (prev or "").rstrip().endswith((":", ":-"))
            )
            if soft_continuation or (self.cur is not None and page_top):
                self._continue(s)
                return
            if self.prev_kind == "start":
                self._para(s)  # first line of the document, merely indented
                return
            intro = s.endswith((":", ":-")) and nxt is not None and self._is_bullet_line(nxt)
            self._item("bare", indent, None, s, intro=intro)
            return

        # Plain text line
        if self.cur is None:
            self._para(s)
        elif _starts_lower(s) or self._in_numbered_context():
            self._continue(s)
        elif self.cur.kind == "item":
            # After a list item: a wrapped continuation of the item, or a new paragraph after the list?
            if prev_terminal:
                if self._prev_is_full_width(prev):
                    self._continue(s)
                else:
                    self._para(s)
            elif prev is not None and _CONNECTOR_END_RE.search(prev.rstrip()):
                self._continue(s)
            else:
                self._para(s)  # list items often lack a full stop; a capitalised line starts afresh
        elif not prev_terminal:
            self._continue(s)
        else:
            self._para(s)


def _assign_refs(sections: list[_Sec]) -> list[ParsedSection]:
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

    def unique(ref: str) -> str:
        if ref not in used:
            used.add(ref)
            return ref
        n = 2
        while f"{ref}-{n}" in used:
            n += 1
        used.add(f"{ref}-{n}")
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
            text = _join(node.lines)
            if not text:
                continue
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
    lines = _remove_furniture(text)
    if not lines:
        raise PolicyImportError("The document is empty: no text was found in it.")
    title, raw_sections = _Parser(lines).parse()
    sections = _assign_refs(_drop_empty_and_duplicate(raw_sections))
    body = [s for s in sections if s.number != "0"]
    n_clauses = sum(len(s.clauses) for s in body)
    if not body or n_clauses < 2:
        raise PolicyImportError(
            "This document does not look like a policy: no headed or numbered sections with clauses were found."
        )
    return ParsedPolicy(title=title, sections=sections)


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
