"""Stage 1, extract: the plain text of an uploaded .txt, .docx or .pdf file."""

from __future__ import annotations

import io
import logging
import re
import zipfile

import docx
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PdfReader

from .results import PolicyImportError
from .text import _to_letters, _to_roman

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

        left = 0
        ind = lvl.find(qn("w:pPr") + "/" + qn("w:ind"))
        if ind is not None:
            raw = ind.get(qn("w:left")) or ind.get(qn("w:start")) or "0"
            left = int(raw) if raw.lstrip("-").isdigit() else 0
        return {
            "fmt": val("w:numFmt", "decimal"),
            "text": val("w:lvlText", ""),
            "start": int(val("w:start", "1") or 1),
            "left": left,  # indentation in twips: "List Bullet 2" is a level-0 list indented one step further
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
            # nesting from the list level, or from the indentation of a separate list (Word's "List Bullet 2")
            depth = max(ilvl, round(level.get("left", 0) / 360) - 1)
            return "  " * depth + "• "
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
