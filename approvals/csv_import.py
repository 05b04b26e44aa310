"""Reading a do-not-publish list from a CSV file (a school's MIS export).

UTF-8 with or without BOM, CRLF or LF, quoted fields; header names matched case-insensitively
with common aliases; blank lines ignored, spaces trimmed. Every problem is reported with its file
line (the header is line 1), and a file with any problem imports nothing (the caller saves only
when `errors` is empty).
"""

import csv
import io
from dataclasses import dataclass, field

from .models import PublishFlag

MAX_BYTES = 1_000_000
MAX_ROWS = 5000

HEADERS = {
    "name": ("name", "pupil", "pupil name", "full name", "child", "student", "student name"),
    "class_name": ("class", "form", "tutor group", "reg group", "registration group", "year/class"),
    "flags": ("flags", "flag", "restrictions", "consent", "do not publish"),
}
# Flag values as schools write them; blank means the strictest (no images at all).
FLAG_ALIASES = {
    "no images": PublishFlag.NO_IMAGES,
    "no photos": PublishFlag.NO_IMAGES,
    "no photographs": PublishFlag.NO_IMAGES,
    "no_images": PublishFlag.NO_IMAGES,
    "no name": PublishFlag.NO_NAME,
    "no names": PublishFlag.NO_NAME,
    "no_name": PublishFlag.NO_NAME,
    "no social media": PublishFlag.NO_SOCIAL,
    "no social": PublishFlag.NO_SOCIAL,
    "website only": PublishFlag.NO_SOCIAL,
    "no_social": PublishFlag.NO_SOCIAL,
}


@dataclass
class Parsed:
    rows: list[dict] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def _norm(header: str) -> str:
    return " ".join(header.strip().lower().replace("_", " ").split())


def parse(data: bytes) -> Parsed:
    result = Parsed()
    if len(data) > MAX_BYTES:
        result.errors.append((0, f"The file is larger than {MAX_BYTES // 1_000_000} MB."))
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append((0, "The file is not UTF-8 text. Save it from your spreadsheet as 'CSV UTF-8'."))
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        result.errors.append((1, "The file is empty."))
        return result
    columns = {}
    for index, raw in enumerate(header):
        for key, aliases in HEADERS.items():
            if _norm(raw) in aliases and key not in columns:
                columns[key] = index
    missing = [key for key in ("name", "class_name") if key not in columns]
    if missing:
        names = " and ".join("'name'" if k == "name" else "'class'" for k in missing)
        result.errors.append((1, f"The header has no {names} column."))
        return result
    seen = {}
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(result.rows) >= MAX_ROWS:
                result.errors.append((line, f"More than {MAX_ROWS} pupils: split the file."))
                break

            def cell(key, values=values):
                index = columns.get(key)
                return values[index].strip() if index is not None and index < len(values) else ""

            name, class_name, raw_flags = cell("name"), cell("class_name"), cell("flags")
            if not name:
                result.errors.append((line, "The pupil's name is missing."))
                continue
            if len(name) > 120:
                result.errors.append((line, "The name is longer than 120 characters."))
                continue
            if not class_name:
                result.errors.append((line, "The class is missing."))
                continue
            if len(class_name) > 40:
                result.errors.append((line, "The class is longer than 40 characters."))
                continue
            flags, unknown = [], []
            for part in raw_flags.replace(";", ",").split(","):
                part = _norm(part)
                if not part:
                    continue
                if part in FLAG_ALIASES:
                    flags.append(str(FLAG_ALIASES[part]))
                else:
                    unknown.append(part)
            if unknown:
                allowed = ", ".join(sorted({"no images", "no name", "no social media"}))
                result.errors.append((line, f"Unknown flag '{unknown[0]}': use {allowed} (or leave blank)."))
                continue
            key = (name.casefold(), class_name.casefold())
            if key in seen:
                result.errors.append((line, f"The same pupil and class as line {seen[key]}."))
                continue
            seen[key] = line
            flags = list(dict.fromkeys(flags)) or [str(PublishFlag.NO_IMAGES)]
            result.rows.append({"name": name, "class_name": class_name, "flags": flags})
    except csv.Error as exc:
        result.errors.append((reader.line_num, f"The file cannot be read as CSV ({exc})."))
    if not result.rows and not result.errors:
        # An export that lost its rows must not silently empty the list: remove pupils one by one.
        result.errors.append((1, "The file has no pupils. To empty the list, remove the pupils one by one."))
    return result
