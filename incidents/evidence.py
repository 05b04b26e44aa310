"""Evidence files: validation on content (never the name), re-encoding, private storage, previews.

- Images are recognised by Pillow from their bytes and re-encoded from the decoded pixels, which
  drops EXIF (GPS), text chunks and anything appended after the image data (HTML, scripts).
- PDFs are recognised by their magic bytes; one that carries web-page markup is refused. The rest
  are opened with a real PDF library (pikepdf/qpdf) and written out again without anything that
  can act when the file is opened: JavaScript, automatic actions (/OpenAction, /AA), launch and
  other non-link actions, embedded files and attachments, forms (/AcroForm, XFA), multimedia.
  The output is then read again and checked for all of these; if any is left, or the file is
  damaged or password-protected, it is refused with a message saying why. Pages, text and links
  stay as they were. Only the last saved revision of the file is kept.
- Everything else (SVG, HTML, office files, archives) is refused with a message saying why.
- Files live under MEDIA_ROOT/evidence/ with random names and no URL; they are served only by the
  permission-checked views in incidents/views.py.
- Writes go to a temporary file in the same folder and are renamed into place, so a failed save
  (disk full) never leaves a half-written file; `discard` removes files whose database rows never
  committed.
"""

import contextlib
import hashlib
import io
import os
import re
import secrets
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
# Decoded size limit: a small file can decode to gigabytes (a "decompression bomb").
MAX_PIXELS = 40_000_000
PREVIEW_SIZE = (480, 480)

IMAGE_TYPES = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
PDF_TYPE = ("application/pdf", "pdf")
# The content types a download may be served with: nothing outside this list is ever stored.
SERVED_TYPES = frozenset({ct for ct, _ in IMAGE_TYPES.values()} | {PDF_TYPE[0]})
_MARKUP = re.compile(rb"<\s*(script|html|iframe|svg|object|embed)\b", re.IGNORECASE)


class EvidenceRejected(ValueError):
    """The file(s) cannot be accepted; `messages` say why, in plain language, one per file."""

    def __init__(self, *messages: str):
        super().__init__(" ".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True)
class CleanFile:
    original_name: str
    content_type: str
    extension: str
    data: bytes
    preview: bytes | None
    sha256: str
    original_sha256: str


def evidence_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "evidence"
    path.mkdir(parents=True, exist_ok=True)
    return path


def safe_display_name(name: str) -> str:
    """The client's file name, for display and the download's filename only (never a path)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip(" .")
    return name[:200] or "evidence"


def clean_all(uploads) -> list[CleanFile]:
    """Validate every file; refuse them all, naming each bad one, if any is bad."""
    cleaned, problems = [], []
    for upload in uploads:
        try:
            cleaned.append(clean_upload(upload))
        except EvidenceRejected as exc:
            problems.extend(exc.messages)
    if problems:
        raise EvidenceRejected(*problems)
    return cleaned


def clean_upload(upload) -> CleanFile:
    """Validate one uploaded file on its content and return what will be stored."""
    name = safe_display_name(getattr(upload, "name", ""))
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise EvidenceRejected(f"“{name}” is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    upload.seek(0)
    data = upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise EvidenceRejected(f"“{name}” is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    if not data:
        raise EvidenceRejected(f"“{name}” is empty.")
    original_sha256 = hashlib.sha256(data).hexdigest()
    if data.startswith(b"%PDF-"):
        if _MARKUP.search(data):
            raise EvidenceRejected(f"“{name}” contains web-page code. Save it again as a plain PDF or screenshot it.")
        clean = _rewrite_pdf(data, name)
        content_type, extension = PDF_TYPE
        return CleanFile(name, content_type, extension, clean, None, hashlib.sha256(clean).hexdigest(), original_sha256)
    clean, preview, (content_type, extension) = _reencode_image(data, name)
    return CleanFile(name, content_type, extension, clean, preview, hashlib.sha256(clean).hexdigest(), original_sha256)


# --- PDFs: an allow-list of what stays ----------------------------------------------------------

# Actions that only move within the document or open a web address; every other action type
# (JavaScript, Launch, SubmitForm, ImportData, GoToE/GoToR into other files, multimedia...) goes.
_SAFE_ACTIONS = frozenset({"/GoTo", "/URI"})
# Annotations that carry files or media rather than marks on the page.
_ACTIVE_ANNOTATIONS = frozenset({"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"})
# Keys removed wherever they appear: they run something, hold a file or hold a form.
_ACTIVE_KEYS = ("/OpenAction", "/AA", "/JS", "/JavaScript", "/EmbeddedFiles", "/EF", "/AcroForm", "/XFA")
_ACTIVE_KEYS += ("/RichMediaContent", "/RichMediaSettings", "/Collection")
_ACTION_TYPES = frozenset(
    {"/GoTo", "/GoToR", "/GoToE", "/GoToDp", "/Launch", "/Thread", "/URI", "/Sound", "/Movie", "/Hide", "/Named"}
    | {"/SubmitForm", "/ResetForm", "/ImportData", "/SetOCGState", "/Rendition", "/Trans", "/GoTo3DView"}
    | {"/JavaScript", "/RichMediaExecute"}
)
_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_ACTIVE_TYPES = frozenset({"/EmbeddedFile", "/RichMediaContent", "/3D"})


def _pdf_refused(name: str, why: str) -> EvidenceRejected:
    return EvidenceRejected(f"“{name}” {why}")


def _rewrite_pdf(data: bytes, name: str) -> bytes:
    """The PDF written out again without active content, checked afterwards; or a refusal."""
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as exc:
        raise _pdf_refused(
            name, "is protected by a password. Please save a copy without the password, or screenshot it."
        ) from exc
    except (pikepdf.PdfError, ValueError, RecursionError) as exc:
        raise _pdf_refused(name, "looks damaged and could not be read as a PDF. Please save it again.") from exc
    try:
        with pdf:
            if len(pdf.pages) == 0:
                raise _pdf_refused(name, "has no pages.")
            _strip_active(pdf)
            out = io.BytesIO()
            pdf.save(out, encryption=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
        clean = out.getvalue()
        with pikepdf.open(io.BytesIO(clean)) as check:
            left = pdf_active_content(check)
    except EvidenceRejected:
        raise
    except (pikepdf.PdfError, ValueError, RecursionError) as exc:
        raise _pdf_refused(name, "looks damaged and could not be read as a PDF. Please save it again.") from exc
    if left:
        # Belt and braces: never store a file the check does not pass, whatever the reason.
        raise _pdf_refused(
            name, f"contains active content that could not be removed ({', '.join(left)}). Please screenshot it."
        )
    return clean


def _objects(pdf):
    """Every dictionary in the file (streams' dictionaries too), including the trailer."""
    import pikepdf

    found = [pdf.trailer]
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            found.append(obj)
    return found


def _direct_dicts(obj, seen=None):
    """obj and the dictionaries nested in it directly (not through references, which are
    objects of their own and visited by _objects)."""
    import pikepdf

    yield obj
    values = obj.values() if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream) else obj
    for value in values:
        if isinstance(value, pikepdf.Dictionary | pikepdf.Array) and not value.is_indirect:
            yield from _direct_dicts(value)


def _strip_active(pdf) -> None:
    import pikepdf

    for top in _objects(pdf):
        for obj in _direct_dicts(top):
            if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                continue
            for key in _ACTIVE_KEYS:
                if key in obj:
                    del obj[key]
            if _is_action(obj) and "/Next" in obj:
                del obj["/Next"]  # a chain of actions after a harmless first one
            action = obj.get("/A")
            if _is_action(action) and not _safe_action(action):
                del obj["/A"]
            annots = obj.get("/Annots")
            if isinstance(annots, pikepdf.Array):
                keep = [a for a in annots if not _active_annotation(a)]
                if len(keep) != len(annots):
                    obj["/Annots"] = pikepdf.Array(keep)


def _is_action(obj) -> bool:
    import pikepdf

    return (
        isinstance(obj, pikepdf.Dictionary)
        and isinstance(obj.get("/S"), pikepdf.Name)
        and str(obj["/S"]) in _ACTION_TYPES
        and str(obj.get("/Type", "/Action")) == "/Action"
    )


def _safe_action(action) -> bool:
    """A link within the document, or to a web or email address (never javascript: or file:)."""
    kind = str(action["/S"])
    if kind == "/URI":
        uri = action.get("/URI")
        return uri is not None and bytes(uri).strip().lower().startswith(tuple(s.encode() for s in _SAFE_SCHEMES))
    return kind in _SAFE_ACTIONS


def _active_annotation(annot) -> bool:
    import pikepdf

    return isinstance(annot, pikepdf.Dictionary) and str(annot.get("/Subtype", "")) in _ACTIVE_ANNOTATIONS


def pdf_active_content(pdf) -> list[str]:
    """What in an open PDF can act or carries a file or form: empty for a file we may store."""
    import pikepdf

    found = set()
    for top in _objects(pdf):
        for obj in _direct_dicts(top):
            if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                continue
            found.update(key for key in _ACTIVE_KEYS if key in obj)
            if str(obj.get("/Type", "")) in _ACTIVE_TYPES:
                found.add(str(obj["/Type"]))
            if str(obj.get("/Subtype", "")) in _ACTIVE_ANNOTATIONS:
                found.add(str(obj["/Subtype"]))
            if _is_action(obj) and (not _safe_action(obj) or "/Next" in obj):
                found.add(str(obj["/S"]) if not _safe_action(obj) else "/Next")
    return sorted(found)


def _reencode_image(data: bytes, name: str) -> tuple[bytes, bytes, tuple[str, str]]:
    refused = (
        f"“{name}” is not a picture or PDF we can accept. Please attach screenshots (PNG, JPEG, GIF or WebP) "
        "or PDFs. Web pages, SVG drawings and other files cannot be attached."
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            kind = IMAGE_TYPES.get(image.format or "")
            if kind is None:
                raise EvidenceRejected(refused)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise EvidenceRejected(f"“{name}” is too large a picture ({width}×{height} pixels).")
            image.load()
            # Keep how it looked (EXIF orientation), then rebuild from pixels alone: no metadata survives.
            image = ImageOps.exif_transpose(image)
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            mode = "RGBA" if has_alpha and kind[1] != "jpg" else "RGB"
            pixels = image.convert(mode)
            fresh = Image.frombytes(mode, pixels.size, pixels.tobytes())
    except EvidenceRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise EvidenceRejected(refused) from exc
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt image data
        raise EvidenceRejected(f"“{name}” looks damaged and could not be read as a picture.") from exc
    out = io.BytesIO()
    fresh.save(out, format=_save_format(kind))
    preview = fresh.convert("RGB")
    preview.thumbnail(PREVIEW_SIZE)
    thumb = io.BytesIO()
    preview.save(thumb, format="JPEG", quality=80)
    return out.getvalue(), thumb.getvalue(), kind


def _save_format(kind: tuple[str, str]) -> str:
    return {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WEBP"}[kind[1]]


def write_private(data: bytes, extension: str) -> str:
    """Store bytes under a fresh random name; return the name. All or nothing."""
    folder = evidence_dir()
    name = f"{secrets.token_hex(16)}.{extension}"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return name


def path_of(stored_name: str) -> Path:
    """The file behind a stored name. Names are ours (random hex), but check anyway."""
    if not re.fullmatch(r"[0-9a-f]{32}\.[a-z]{3,4}", stored_name or ""):
        raise FileNotFoundError("not an evidence file name")
    return evidence_dir() / stored_name


def discard(names) -> None:
    """Remove files whose database rows never committed."""
    for name in names:
        if name:
            with contextlib.suppress(FileNotFoundError):
                path_of(name).unlink(missing_ok=True)
