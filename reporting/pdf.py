"""The governors' pack as a PDF ([9] item 3): fpdf2 with the bundled DejaVu font, as the case file
(policyhub/pdf.py). The same rows as the page and the CSV (pack.Pack.sections): counts and
rates only, no case reference, no name of anyone involved in a case."""

from datetime import datetime

from incidents.deadlines import LONDON
from policyhub.pdf import document, section_heading

from .pack import Pack


def build(pack: Pack, *, made_at: datetime) -> bytes:
    title = f"Governors' pack: {pack.school.name}, {pack.term.label}"
    pdf = document(title, footer=title, made_at=made_at)
    term, previous = pack.term, pack.previous
    local = made_at.astimezone(LONDON)
    pdf.multi_cell(
        0,
        4.5,
        f"{term.label}: {term.starts_on:%-d %b %Y} to {term.ends_on:%-d %b %Y} (reported up to "
        f"{term.last_day:%-d %b %Y}, the holiday after it included). Previous term: {previous.label}. "
        f"Made on {local:%-d %b %Y, %H:%M} {local.tzname()} from PolicyHub. Counts and rates only: "
        "no case, pupil or member of staff is named.",
        new_x="LMARGIN",
        new_y="NEXT",
        align="L",
    )
    for heading, rows in pack.sections:
        section_heading(pdf, heading, size=12, body=9, gap=3)
        if not rows:
            pdf.multi_cell(0, 5, "None in either term.", new_x="LMARGIN", new_y="NEXT")
            continue
        with pdf.table(col_widths=(2, 1, 1), line_height=5, padding=1, borders_layout="HORIZONTAL_LINES") as table:
            for values in [("", term.label, previous.label), *rows]:
                row = table.row()
                for value in values:
                    row.cell(value)
    return bytes(pdf.output())
