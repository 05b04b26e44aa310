"""The PDF documents PolicyHub writes (the case file, dataprotection/casefile.py; the governors'
pack, reporting/pdf.py): fpdf2 with the DejaVu font bundled in static/fonts (any script a name may
be written in), A4, a footer on every page, the title as the first heading."""

from datetime import datetime
from functools import cache
from pathlib import Path

from django.conf import settings

FONT = "DejaVu"
FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts" / "dejavu"


@cache
def _font_files() -> tuple[str, str]:
    return str(FONT_DIR / "DejaVuSans.ttf"), str(FONT_DIR / "DejaVuSans-Bold.ttf")


def document(title: str, *, footer: str, made_at: datetime):
    """A new A4 document with its first page begun under `title`; every page's footer reads
    "<footer> · page N of M". The body font (9 pt) is set when it returns."""
    from fpdf import FPDF  # only the pages that write a PDF load it

    class Document(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font(FONT, "", 8)
            self.cell(0, 5, f"{footer} · page {self.page_no()} of {{nb}}", align="C")

    regular, bold = _font_files()
    pdf = Document(format="A4")
    pdf.set_title(title)
    pdf.set_creator("PolicyHub")
    pdf.set_creation_date(made_at)
    pdf.add_font(FONT, "", regular)
    pdf.add_font(FONT, "B", bold)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(15, 15, 15)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    return pdf


def section_heading(pdf, text: str, *, size: float, body: float, gap: float) -> None:
    """A bold heading `gap` mm below what came before, never alone at the foot of a page; the body
    font (`body` pt) is set again after it."""
    if pdf.get_y() > pdf.h - 40:
        pdf.add_page()
    pdf.ln(gap)
    pdf.set_font(FONT, "B", size)
    pdf.multi_cell(0, size / 2, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", body)
