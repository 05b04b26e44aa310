"""School closure days (INSET days, snow days) from a CSV file: one day a line, `date,label`.

All or nothing: a file with any bad line changes nothing and names every bad line."""

import csv
import io
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import SchoolClosure

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
MAX_LINES = 1000


def _parse_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def parse_closures(text: str) -> list[tuple[date, str]]:
    rows, errors = [], []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip():
            continue
        if number == 1 and row[0].strip().lower() == "date":
            continue  # a header line
        day = _parse_date(row[0])
        label = (row[1].strip() if len(row) > 1 else "") or "INSET day"
        if day is None:
            errors.append(f"Line {number}: “{row[0].strip()[:40]}” is not a date (use 2026-09-01 or 01/09/2026).")
        elif len(label) > 100:
            errors.append(f"Line {number}: the label is longer than 100 characters.")
        else:
            rows.append((day, label))
        if number > MAX_LINES:
            errors.append(f"The file has more than {MAX_LINES} lines.")
            break
    if errors:
        raise ValidationError(errors)
    if not rows:
        raise ValidationError("The file has no closure days in it.")
    return rows


def closures_import(*, school, text: str) -> tuple[int, int]:
    """Add the days (a day already entered gets the new label). Returns (added, updated)."""
    rows = parse_closures(text)
    added = updated = 0
    with transaction.atomic():
        for day, label in rows:
            _, created = SchoolClosure.objects.update_or_create(school=school, date=day, defaults={"label": label})
            added, updated = added + created, updated + (not created)
    return added, updated
