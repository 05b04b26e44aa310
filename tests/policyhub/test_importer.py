"""The policy importer on small documents written for these tests (see fixtures/)."""

import io
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from policyhub.importer import (
    ParsedClause,
    ParsedPolicy,
    ParsedSection,
    PolicyImportError,
    extract_text,
    import_document,
    parse_text,
    suggest_topics,
)
from policyhub.topics import TOPIC_KEYS, TOPICS

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture(name: str) -> ParsedPolicy:
    path = FIXTURES / name
    return import_document(path.read_bytes(), path.name)


def outline(policy: ParsedPolicy) -> list[tuple[str, str | None, str]]:
    return [(c.ref, c.parent, c.text) for c in policy.clauses]


def sections(policy: ParsedPolicy) -> list[tuple[str, str]]:
    return [(s.number, s.heading) for s in policy.sections]


# --------------------------------------------------------------------------------------------
# Numbering schemes
# --------------------------------------------------------------------------------------------


def test_decimal_headings_clauses_and_sub_clauses():
    policy = fixture("decimal_numbered_with_furniture.txt")
    assert policy.title == "Online Conduct Policy for Staff"
    assert sections(policy) == [("1", "Purpose"), ("2", "Expectations of staff"), ("3", "Consequences")]
    assert [(c.ref, c.parent) for c in policy.clauses] == [
        ("1.1", None),
        ("1.2", None),
        ("2.1", None),
        ("2.2", None),
        ("2.2.1", "2.2"),
        ("2.2.2", "2.2"),
        ("2.2.3", "2.2"),
        ("2.3", None),
        ("3.1", None),
        ("3.2", None),
    ]
    assert all(c.numbered for c in policy.clauses)
    assert policy.clauses[4].text == "accept a connection request from a learner on the roll;"


def test_page_furniture_and_contents_list_are_dropped():
    policy = fixture("decimal_numbered_with_furniture.txt")
    everything = " ".join([s.heading for s in policy.sections] + [c.text for c in policy.clauses])
    for furniture in ("NORTHFIELD ACADEMY", "Page 1", "Page 2", "of 3", "Back to contents", "Contents", "....."):
        assert furniture not in everything
    # the contents list at the front does not produce sections of its own
    assert [s.number for s in policy.sections] == ["1", "2", "3"]


def test_clause_continues_across_a_page_break():
    policy = fixture("decimal_numbered_with_furniture.txt")
    clause = next(c for c in policy.clauses if c.ref == "2.3")
    assert clause.text == (
        "Any worry about a message received from a learner is passed to the designated safeguarding lead on the "
        "same working day, together with screenshots of the exchange."
    )
    wrapped = next(c for c in policy.clauses if c.ref == "1.2")
    assert wrapped.text == "It covers everyone we employ, together with volunteers who help out in classrooms."


def test_single_level_headings_with_lettered_roman_and_numbered_lists():
    policy = fixture("single_level_headings_lists.txt")
    assert policy.title == "Staff Guidance on Networking Sites"
    assert sections(policy) == [("1", "Introduction"), ("2", "What staff must not do"), ("3", "Support")]
    assert outline(policy) == [
        ("1.1", None, "Networking sites are part of daily life, and these rules help colleagues use them wisely."),
        ("1.2", None, "The head teacher reviews this guidance every autumn."),
        ("2.1", None, "A member of staff must not post any of the following:"),
        ("2.1.a", "2.1", "names of children in their class;"),
        ("2.1.b", "2.1", "remarks about parents, carers or colleagues;"),
        ("2.1.c", "2.1", "material that could upset the school community, including:"),
        ("2.1.c.i", "2.1.c", "jokes that target a protected group;"),
        ("2.1.c.ii", "2.1.c", "clips filmed during lessons."),
        ("2.2", None, "Before setting up a class page a teacher should:"),
        ("2.2.a", "2.2", "ask the deputy head for permission;"),
        ("2.2.b", "2.2", "agree who will moderate comments."),
        ("2.3", None, "Steps to take when something goes wrong:"),
        ("2.3.1", "2.3", "take a screenshot;"),
        ("2.3.2", "2.3", "report it to the office;"),
        ("2.3.3", "2.3", "do not reply to the author."),
        ("3.1", None, "Staff who are targeted by unkind messages can ask their union for help."),
    ]


def test_unnumbered_headings_with_paragraphs_and_nested_bullets():
    policy = fixture("unnumbered_headings_bullets.txt")
    assert policy.title is None
    assert sections(policy) == [
        ("1", "Why we have this guidance"),
        ("2", "Talking to families"),
        ("3", "Photographs"),
        ("4", "Looking after yourself"),
    ]
    assert outline(policy) == [
        (
            "1.1",
            None,
            "Meadow Lane Primary wants its team to enjoy networking apps while keeping children and families safe.",
        ),
        ("1.2", None, "Everyone on the payroll is expected to read it once a year."),
        (
            "2.1",
            None,
            "We talk to parents and carers through the school office and the approved messaging app only. "
            "Colleagues therefore:",
        ),
        ("2.1.a", "2.1", "keep private accounts private;"),
        ("2.1.b", "2.1", "decline friend requests from parents"),
        ("2.1.b.i", "2.1.b", "unless the parent is a relative,"),
        ("2.1.b.ii", "2.1.b", "or a friend from before they joined us;"),
        ("2.1.c", "2.1", "pass any complaint seen online to the office."),
        ("3.a", None, "Only school cameras are used on trips."),
        ("3.b", None, "Pictures are deleted from devices at the end of each term."),
        ("3.c", None, "Staff check the consent list before anything is published."),
        ("4.a", None, "Think twice before posting late at night."),
        ("4.b", None, "Switch off location tagging."),
    ]
    assert not any(c.numbered for c in policy.clauses)


def test_capitalised_headings_with_indented_bullets_and_a_sub_heading():
    policy = fixture("caps_headings_bare_bullets.txt")
    assert sections(policy) == [("1", "PURPOSE"), ("2", "USING SCHOOL ACCOUNTS")]
    assert outline(policy) == [
        (
            "1.1",
            None,
            "Hilltop School uses networking sites to celebrate pupils' achievements and to keep families informed "
            "about events.",
        ),
        ("1.2", None, "This guidance applies to:"),
        ("1.2.a", "1.2", "Teachers and teaching assistants"),
        ("1.2.b", "1.2", "Office and site staff"),
        ("1.2.c", "1.2", "Regular volunteers"),
        ("2.a", None, "Only the two named administrators may publish posts"),
        ("2.b", None, "Comments are checked every school day"),
        ("2.1", None, "The Rules"),
        ("2.1.a", "2.1", "Do not reply to angry comments in public"),
        ("2.1.b", "2.1", "Pass worrying posts to the head teacher"),
    ]


def test_unnumbered_section_inside_numbered_document_gets_lettered_number():
    text = (
        "1. Aims\n"
        "1.1 Staff use networking sites with care.\n"
        "Who does what\n"
        "The head teacher will:\n"
        "• approve new school accounts;\n"
        "• review this policy yearly.\n"
        "2. Conduct\n"
        "2.1 Staff never message pupils privately.\n"
    )
    policy = parse_text(text)
    assert sections(policy) == [("1", "Aims"), ("1A", "Who does what"), ("2", "Conduct")]
    assert [(c.ref, c.parent) for c in policy.clauses] == [
        ("1.1", None),
        ("1A.1", None),
        ("1A.1.a", "1A.1"),
        ("1A.1.b", "1A.1"),
        ("2.1", None),
    ]


def test_headings_written_1_0_and_clauses_written_with_trailing_dots():
    text = "1.0 Scope\n1.1. Applies to every employee.\n1.2. Applies to governors as well.\n2.0 Use\n2.1. Be kind.\n"
    policy = parse_text(text)
    assert sections(policy) == [("1", "Scope"), ("2", "Use")]
    assert [c.ref for c in policy.clauses] == ["1.1", "1.2", "2.1"]


def test_preamble_before_first_heading_is_kept_as_section_zero():
    text = (
        "This model document was prepared by the trust's HR team for its member schools.\n"
        "1. Purpose\n"
        "1.1 Sets the rules for staff accounts.\n"
        "1.2 Explains who to ask for help.\n"
    )
    policy = parse_text(text)
    assert sections(policy) == [("0", "Preamble"), ("1", "Purpose")]
    assert policy.sections[0].clauses[0].ref == "0.1"


def test_wrapped_lines_are_joined_with_single_spaces():
    text = (
        "1. Rules\n"
        "1.1   Staff   must not share\n"
        "   video-image-\n"
        "sharing links   with pupils.\n"
        "1.2 Keep devices locked.\n"
    )
    policy = parse_text(text)
    assert policy.clauses[0].text == "Staff must not share video-image-sharing links with pupils."


def test_wrapped_lines_that_look_like_numbers_or_headings_stay_in_their_clause():
    text = (
        "1. Distancing online\n"
        "1.1 Staff should keep at least\n"
        "1.5 metres of professional distance from families online, and read this policy with the\n"
        "ICT ACCEPTABLE USE POLICY\n"
        "and the code of conduct.\n"
        "1.2 The office keeps the list of approved apps, which is reviewed each term.\n"
        "See the staff handbook\n"
        "1.3 Staff ask before installing anything new.\n"
    )
    policy = parse_text(text)
    assert sections(policy) == [("1", "Distancing online")]
    assert outline(policy) == [
        (
            "1.1",
            None,
            "Staff should keep at least 1.5 metres of professional distance from families online, and read this "
            "policy with the ICT ACCEPTABLE USE POLICY and the code of conduct.",
        ),
        (
            "1.2",
            None,
            "The office keeps the list of approved apps, which is reviewed each term. See the staff handbook",
        ),
        ("1.3", None, "Staff ask before installing anything new."),
    ]


def test_indented_capitalised_line_after_a_full_width_line_continues_the_clause():
    # PDF text often indents the first line of a page; in a wrapped numbered clause that is not a bullet.
    text = (
        "1. Accounts\n"
        "1.1 Staff who run a class account must keep the password in the office safe and change\n"
        "it whenever a member of the team leaves the school or moves to a different year group.\n"
        " The head teacher checks the list of account holders at the start of every single term.\n"
        "1.2 Staff must not run a class account from a personal phone unless the head agrees and\n"
        "the phone is locked with a passcode that nobody else in the household knows or can see.\n"
        "1.3 Posts on a class account should be checked by a second adult before they go live\n"
        "and should never include the full name of a child alongside a photograph of that child.\n"
        "2. Closing accounts\n"
        "2.1 When an account is no longer needed it is archived rather than deleted, so that any\n"
        "complaint about an old post can still be looked into by the school and answered fully.\n"
    )
    policy = parse_text(text)
    assert [c.ref for c in policy.clauses] == ["1.1", "1.2", "1.3", "2.1"]
    assert policy.clauses[0].text.endswith(
        "moves to a different year group. The head teacher checks the list of account holders at the start of "
        "every single term."
    )


def test_running_header_repeated_without_page_breaks_is_removed():
    header = "Brookfield School – Staff online safety policy – version 3"
    text = "\n".join(
        [
            header,
            "1. Accounts",
            "1.1 Staff keep their own accounts private and",
            "4",
            header,
            "never mention pupils by name.",
            "1.2 Staff report concerns promptly.",
            "5",
            header,
            "2. Images",
            "2.1 Only school devices are used for photographs.",
        ]
    )
    policy = parse_text(text)
    assert sections(policy) == [("1", "Accounts"), ("2", "Images")]
    assert policy.clauses[0].text == "Staff keep their own accounts private and never mention pupils by name."
    assert all("Brookfield" not in c.text for c in policy.clauses)


def test_contents_list_without_dot_leaders_does_not_duplicate_sections():
    text = (
        "Staff Social Media Policy\n"
        "Contents\n"
        "1 Introduction 2\n"
        "2 Rules for staff 3\n"
        "3 Breaches\n"
        "1 Introduction\n"
        "1.1 This policy sets out what staff may post online about the school.\n"
        "2 Rules for staff\n"
        "2.1 Staff must keep their accounts private.\n"
        "3 Breaches\n"
        "3.1 A breach may lead to disciplinary action.\n"
    )
    policy = parse_text(text)
    assert policy.title == "Staff Social Media Policy"
    assert sections(policy) == [("1", "Introduction"), ("2", "Rules for staff"), ("3", "Breaches")]
    assert [c.ref for c in policy.clauses] == ["1.1", "2.1", "3.1"]


# --------------------------------------------------------------------------------------------
# Word and PDF files
# --------------------------------------------------------------------------------------------


def _docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _add_multilevel_numbering(document, num_id: int = 90) -> None:
    """A Word multi-level list rendering as "1." / "1.1" / "(a)", as policy templates use."""
    numbering = document.part.numbering_part.element
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{num_id}">'
        '<w:multiLevelType w:val="multilevel"/>'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/></w:lvl>'
        '<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%3)"/></w:lvl>'
        "</w:abstractNum>"
    )
    numbering.insert(0, abstract)  # abstract definitions come before the w:num elements
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="{num_id}"/></w:num>'))


def _numbered(document, text: str, level: int, style: str | None = None, num_id: int = 90):
    paragraph = document.add_paragraph(text, style=style)
    num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = level
    num_pr.get_or_add_numId().val = num_id
    return paragraph


def test_generated_docx_with_typed_numbers_and_bullets_imports():
    document = docx.Document()
    document.add_heading("Staff Social Media Policy", 0)
    document.add_heading("1. Purpose", 1)
    document.add_paragraph("1.1 Colleagues use networking apps responsibly.")
    document.add_paragraph("1.2 Colleagues must not:")
    document.add_paragraph("befriend learners online;", style="List Bullet")
    document.add_paragraph("post photos of learners.", style="List Bullet")
    document.add_heading("2. Families", 1)
    document.add_paragraph("2.1 Messages to families go through the office.")
    table = document.add_table(rows=1, cols=1)
    table.cell(0, 0).text = "2.2 Replies are sent within two working days."
    policy = import_document(_docx_bytes(document), "policy.docx")
    assert policy.title == "Staff Social Media Policy"
    assert sections(policy) == [("1", "Purpose"), ("2", "Families")]
    assert outline(policy) == [
        ("1.1", None, "Colleagues use networking apps responsibly."),
        ("1.2", None, "Colleagues must not:"),
        ("1.2.a", "1.2", "befriend learners online;"),
        ("1.2.b", "1.2", "post photos of learners."),
        ("2.1", None, "Messages to families go through the office."),
        ("2.2", None, "Replies are sent within two working days."),
    ]


def test_docx_automatic_numbering_is_written_out_as_text():
    document = docx.Document()
    _add_multilevel_numbering(document)
    _numbered(document, "Purpose", 0, style="Heading 1")
    _numbered(document, "Colleagues use networking apps responsibly.", 1)
    _numbered(document, "Colleagues must not:", 1)
    _numbered(document, "befriend learners online;", 2)
    _numbered(document, "post photos of learners.", 2)
    _numbered(document, "Breaches", 0, style="Heading 1")
    _numbered(document, "Breaches may lead to disciplinary action.", 1)
    data = _docx_bytes(document)
    assert extract_text(data, "policy.docx").splitlines() == [
        "1. Purpose",
        "1.1 Colleagues use networking apps responsibly.",
        "1.2 Colleagues must not:",
        "(a) befriend learners online;",
        "(b) post photos of learners.",
        "2. Breaches",
        "2.1 Breaches may lead to disciplinary action.",
    ]
    policy = import_document(data, "policy.docx")
    assert sections(policy) == [("1", "Purpose"), ("2", "Breaches")]
    assert [(c.ref, c.parent) for c in policy.clauses] == [
        ("1.1", None),
        ("1.2", None),
        ("1.2.a", "1.2"),
        ("1.2.b", "1.2"),
        ("2.1", None),
    ]


def _pdf_escape(line: str) -> bytes:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("cp1252")


def build_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF: one Helvetica text line per entry, top to bottom, one list per page."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    pages_id = len(objects) + 2 * len(pages) + 1  # after each page's content stream and page object
    kids = []
    for lines in pages:
        ops = [b"BT /F1 11 Tf 72 %d Td (%s) Tj ET" % (780 - 16 * i, _pdf_escape(line)) for i, line in enumerate(lines)]
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, content, font)
            )
        )
    kid_refs = b" ".join(b"%d 0 R" % k for k in kids)
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kid_refs, len(kids))) == pages_id
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref)
    return bytes(out)


PDF_PAGES = [
    [
        "Oakwood College | Staff online conduct 1",
        "1. Scope",
        "1.1 This guidance covers all staff (including agency workers).",
        "1.2 Staff must report any concern about a learner's",
        "Page 1 of 2",
    ],
    [
        "Oakwood College | Staff online conduct 2",
        "online safety to the safeguarding lead.",
        "2. Personal accounts",
        "2.1 Staff keep personal profiles private, in particular:",
        "\u2022 no learners as contacts;",
        "\u2022 no school logo on the profile.",
        "Page 2 of 2",
    ],
]


def test_generated_pdf_imports_without_headers_footers_and_across_pages():
    policy = import_document(build_pdf(PDF_PAGES), "conduct.pdf")
    assert sections(policy) == [("1", "Scope"), ("2", "Personal accounts")]
    assert outline(policy) == [
        ("1.1", None, "This guidance covers all staff (including agency workers)."),
        ("1.2", None, "Staff must report any concern about a learner's online safety to the safeguarding lead."),
        ("2.1", None, "Staff keep personal profiles private, in particular:"),
        ("2.1.a", "2.1", "no learners as contacts;"),
        ("2.1.b", "2.1", "no school logo on the profile."),
    ]


def test_pdf_pages_are_separated_by_form_feeds():
    text = extract_text(build_pdf(PDF_PAGES), "conduct.pdf")
    assert text.count("\f") == 1
    assert "1.1 This guidance covers all staff (including agency workers)." in text


def test_txt_falls_back_to_cp1252():
    text = "1. Scope\n1.1 Staff\u2019s accounts are private.\n1.2 Costs \u00a3 are not claimed.\n"
    policy = import_document(text.encode("cp1252"), "policy.txt")
    assert policy.clauses[0].text == "Staff\u2019s accounts are private."
    assert policy.clauses[1].text == "Costs \u00a3 are not claimed."


def test_txt_with_utf8_bom_and_windows_line_endings():
    text = "\ufeff1. Scope\r\n1.1 First rule.\r\n1.2 Second rule.\r\n"
    policy = import_document(text.encode("utf-8"), "policy.txt")
    assert [c.text for c in policy.clauses] == ["First rule.", "Second rule."]


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def _message(exc_info) -> str:
    return str(exc_info.value)


def test_empty_file_is_refused():
    with pytest.raises(PolicyImportError) as exc_info:
        import_document(b"", "policy.txt")
    assert _message(exc_info) == "The file is empty."


def test_whitespace_only_text_is_refused():
    with pytest.raises(PolicyImportError, match="empty"):
        import_document(b"  \n\n \t \n", "policy.txt")
    with pytest.raises(PolicyImportError, match="empty"):
        parse_text("")


@pytest.mark.parametrize(
    "text",
    [
        "Dear families, the summer fair is on Saturday and we would love to see you there. "
        "Please bring cakes for the stall and remember to label any tins.",
        "Shopping list\nEggs\nMilk\nBread\n",
        "Hello",
    ],
)
def test_text_that_is_not_a_policy_is_refused(text):
    with pytest.raises(PolicyImportError) as exc_info:
        import_document(text.encode(), "notes.txt")
    assert "does not look like a policy" in _message(exc_info)


def test_corrupt_docx_is_refused():
    with pytest.raises(PolicyImportError) as exc_info:
        import_document(b"PK\x03\x04 this is not really a zip file", "policy.docx")
    assert "Word document could not be opened" in _message(exc_info)


def test_docx_with_broken_document_xml_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document><unclosed>")
    with pytest.raises(PolicyImportError) as exc_info:
        import_document(buffer.getvalue(), "policy.docx")
    assert "Word document could not be opened" in _message(exc_info)


def test_docx_that_unpacks_to_an_unreasonable_size_is_refused(monkeypatch):
    from policyhub.importer import extract

    document = docx.Document()
    document.add_paragraph("1. Scope")
    monkeypatch.setattr(extract, "_MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(PolicyImportError, match="unpacks to an unreasonable size"):
        import_document(_docx_bytes(document), "policy.docx")


def test_corrupt_pdf_is_refused():
    with pytest.raises(PolicyImportError) as exc_info:
        import_document(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> garbage", "policy.pdf")
    assert "PDF could not be read" in _message(exc_info)


def test_pdf_without_text_is_refused():
    with pytest.raises(PolicyImportError) as exc_info:
        import_document(build_pdf([[]]), "scan.pdf")
    assert "No text could be found in the PDF" in _message(exc_info)


def test_png_renamed_docx_is_refused():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    with pytest.raises(PolicyImportError) as exc_info:
        import_document(png, "policy.docx")
    assert _message(exc_info).startswith(
        "“policy.docx” is named like a Word (.docx) document, but its contents are a PNG"
    )


def test_name_and_content_mismatch_is_refused():
    with pytest.raises(PolicyImportError, match="named like a plain-text file, but its contents are a PDF"):
        import_document(build_pdf(PDF_PAGES), "policy.txt")
    document = docx.Document()
    document.add_paragraph("1. Scope")
    with pytest.raises(PolicyImportError, match="named like a PDF, but its contents are a Word"):
        import_document(_docx_bytes(document), "policy.pdf")


def test_unsupported_file_types_are_refused():
    with pytest.raises(PolicyImportError, match="not a supported file type"):
        import_document(b"1. Scope\n1.1 Text.\n1.2 More.", "policy.rtf")
    with pytest.raises(PolicyImportError, match="old-style Word"):
        import_document(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "policy")


def test_too_large_file_is_refused_before_reading():
    data = (FIXTURES / "decimal_numbered_with_furniture.txt").read_bytes()
    with pytest.raises(PolicyImportError) as exc_info:
        import_document(data, "policy.txt", max_bytes=100)
    assert "too large" in _message(exc_info)
    assert import_document(data, "policy.txt", max_bytes=len(data)).sections


def test_default_size_limit_is_ten_megabytes():
    with pytest.raises(PolicyImportError, match=r"the largest file that can be imported is 10 MB"):
        import_document(b"x" * (10 * 1024 * 1024 + 1), "policy.txt")


# --------------------------------------------------------------------------------------------
# Topics and output shape
# --------------------------------------------------------------------------------------------


def test_topic_keys_are_the_agreed_list():
    assert [k for k, _ in TOPICS] == TOPIC_KEYS
    assert TOPIC_KEYS[:3] == ["personal_use", "contact_pupils", "contact_parents"]
    assert len(TOPIC_KEYS) == 15


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Staff must not accept friend requests from pupils.", ["contact_pupils"]),
        ("Never message parents from a personal account.", ["personal_use", "contact_parents"]),
        ("Photographs of children must not be posted.", ["images"]),
        ("Report trolling or cyberbullying to the head.", ["cyberbullying"]),
        ("A journalist may call; pass media enquiries to the office.", ["media"]),
        ("Any breach may lead to disciplinary action.", ["breaches"]),
        ("No personal browsing during working hours.", ["working_hours"]),
        ("Concerns about radicalisation follow the Prevent duty.", ["prevent"]),
        ("Possessing indecent images is illegal.", ["images", "illegal_content"]),
        ("Keep personal data confidential under GDPR.", ["confidentiality"]),
        ("Posts must not be defamatory or breach copyright.", ["breaches", "legal"]),
        ("The school's social media accounts are run by two staff.", ["school_accounts"]),
        ("Staff use of the network may be monitored.", ["monitoring"]),
        ("Refer safeguarding concerns to the designated lead.", ["safeguarding"]),
        ("Be kind and courteous.", []),
    ],
)
def test_suggest_topics_examples(text, expected):
    assert suggest_topics(text) == expected


def test_suggest_topics_ignores_the_ordinary_verb_prevent():
    assert "prevent" not in suggest_topics("Take reasonable steps to prevent misuse of equipment.")


def test_clauses_carry_suggested_topics():
    policy = fixture("decimal_numbered_with_furniture.txt")
    by_ref = {c.ref: c for c in policy.clauses}
    assert "contact_pupils" in by_ref["2.2.2"].topics
    assert "images" in by_ref["2.2.3"].topics
    assert "breaches" in by_ref["3.1"].topics
    assert all(set(c.topics) <= set(TOPIC_KEYS) for c in policy.clauses)


def test_to_dict_shape():
    policy = ParsedPolicy(
        title="T",
        sections=[
            ParsedSection(
                number="7",
                heading="Personal use",
                clauses=[
                    ParsedClause(ref="7.4", text="Staff must not:", parent=None, topics=[]),
                    ParsedClause(
                        ref="7.4.1", text="bring the school into disrepute;", parent="7.4", topics=["breaches"]
                    ),
                ],
            )
        ],
    )
    assert policy.to_dict() == {
        "sections": [
            {
                "number": "7",
                "heading": "Personal use",
                "clauses": [
                    {"ref": "7.4", "text": "Staff must not:", "parent": None, "topics": []},
                    {
                        "ref": "7.4.1",
                        "text": "bring the school into disrepute;",
                        "parent": "7.4",
                        "topics": ["breaches"],
                    },
                ],
            }
        ]
    }


def test_to_dict_of_an_imported_document():
    data = fixture("single_level_headings_lists.txt").to_dict()
    assert list(data) == ["sections"]
    assert [s["number"] for s in data["sections"]] == ["1", "2", "3"]
    first = data["sections"][1]["clauses"][1]
    assert first == {
        "ref": "2.1.a",
        "text": "names of children in their class;",
        "parent": "2.1",
        "topics": suggest_topics("names of children in their class;"),
    }
    assert all(set(c) == {"ref", "text", "parent", "topics"} for s in data["sections"] for c in s["clauses"])


def test_importer_package_modules_import_each_other_without_cycles():
    """The stages (extract, clean, number, assemble) only import from earlier modules, never in a loop."""
    import ast

    import policyhub.importer as importer

    package = Path(importer.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        if path.stem == "__init__":
            continue
        tree = ast.parse(path.read_text())
        graph[path.stem] = {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
        }
    assert {"extract", "clean", "number", "assemble"} <= set(graph)

    def visit(name: str, seen: tuple[str, ...]) -> None:
        assert name not in seen, f"import cycle: {' -> '.join((*seen, name))}"
        for dep in graph.get(name, ()):
            visit(dep, (*seen, name))

    for name in graph:
        visit(name, ())


# --------------------------------------------------------------------------------------------
# Generality: the probe's failures on unseen policies, metadata, doubts and confidence
# --------------------------------------------------------------------------------------------

BARE_NUMBERS_AFTER_SIGNATURE = "\n".join(
    ["Harbour View Academy", "Social Media Policy", "", "Signed by the Principal"]
    + [f"{n} Staff must keep rule number {n} in mind." for n in range(1, 11)]
)


def test_bare_number_list_is_a_sequence_of_clauses_not_sub_clauses_of_a_signature_line():
    policy = parse_text(BARE_NUMBERS_AFTER_SIGNATURE)
    body = list(policy.clauses)
    assert [c.ref.split(".", 1)[1] for c in body] == [str(n) for n in range(1, 11)]
    assert all(c.parent is None for c in body)
    assert "Signed by the Principal" in policy.metadata
    assert all("Signed" not in s.heading for s in policy.sections)


def test_running_header_with_a_pipe_is_removed_from_inside_a_clause_even_without_page_breaks():
    text = (
        "NORTHFIELD TRUST | Social media policy\n"
        "1. Scope\n"
        "1.1 This policy covers every member of staff employed by the trust and every\n"
        "NORTHFIELD TRUST | Social media policy\n"
        "volunteer who works with pupils.\n"
        "1.2 It applies on and off site.\n"
    )
    policy = parse_text(text)
    assert outline(policy)[0] == (
        "1.1",
        None,
        "This policy covers every member of staff employed by the trust and every volunteer who works with pupils.",
    )


def test_running_header_in_the_middle_of_each_page_is_found_by_repetition_across_pages():
    pages = [
        "1. Scope\n1.1 Staff must read this policy.\nOAKS TRUST | Staff handbook\n1.2 It applies to volunteers.",
        "2. Conduct\n2.1 Staff must not message pupils.\nOAKS TRUST | Staff handbook\n2.2 Staff must not post images.",
        "3. Review\nOAKS TRUST | Staff handbook\n3.1 The board reviews this policy.",
    ]
    policy = parse_text("\f".join(pages))
    assert [c.ref for c in policy.clauses] == ["1.1", "1.2", "2.1", "2.2", "3.1"]
    assert not any("OAKS" in c.text for c in policy.clauses)


def test_wrapped_bullet_that_continues_with_capitals_is_not_a_new_section():
    text = (
        "1. Conduct\n"
        "1.1 Staff must not:\n"
        "• accept friend requests from pupils or from\n"
        "Former Pupils Under Eighteen\n"
        "• share photographs of lessons on personal accounts\n"
        "1.2 Staff should ask for advice when unsure.\n"
        "2. Review\n"
        "2.1 The governors review this policy each year.\n"
    )
    policy = parse_text(text)
    assert sections(policy) == [("1", "Conduct"), ("2", "Review")]
    assert outline(policy)[1] == (
        "1.1.a",
        "1.1",
        "accept friend requests from pupils or from Former Pupils Under Eighteen",
    )


def test_section_and_part_headings_name_their_number():
    text = (
        "Section 3 Personal accounts\n3.1 Keep them private.\n3.1.1 Check settings each term.\n"
        "Part B: Governors\n1. Governors speak through the chair.\n2. Governors keep board business confidential.\n"
    )
    policy = parse_text(text)
    assert sections(policy) == [("3", "Personal accounts"), ("B", "Governors")]
    assert [(c.ref, c.parent) for c in policy.clauses] == [
        ("3.1", None),
        ("3.1.1", "3.1"),
        ("B.1", None),
        ("B.2", None),
    ]


def test_markdown_headings_from_a_converted_pdf():
    text = (
        "# Staff Social Media Policy\n## 1. Aims\n1.1 Staff stay safe online.\n"
        "## Who it covers\nAll staff and volunteers."
    )
    policy = parse_text(text)
    assert policy.title == "Staff Social Media Policy"
    assert sections(policy) == [("1", "Aims"), ("1A", "Who it covers")]


def test_letter_after_roman_items_continues_the_letters():
    text = (
        "1. Rules\nStaff must not:\n(a) share images;\n(b) reveal, for example:\n(i) names;\n(ii) classes;\n"
        "(c) criticise colleagues.\n"
    )
    policy = parse_text(text)
    assert [(c.ref, c.parent) for c in policy.clauses][-1] == ("1.1.c", "1.1")


def test_approval_review_signature_lines_and_image_descriptions_are_metadata_not_clauses():
    text = (
        "[Image: the school crest]\nApproved by: Governing Board\nReview date: June 2027\n"
        "1. Aims\n1.1 Staff stay safe online.\n"
        "1.2 Review: the head teacher will remind staff of this policy each year.\n"
        "A handwritten signature in blue ink\nSigned: A. Governor\nChair of Governors\n"
    )
    policy = parse_text(text)
    assert policy.metadata == [
        "[Image: the school crest]",
        "Approved by: Governing Board",
        "Review date: June 2027",
        "A handwritten signature in blue ink",
        "Signed: A. Governor",
        "Chair of Governors",
    ]
    assert [c.ref for c in policy.clauses] == ["1.1", "1.2"]  # a sentence starting "Review:" is still a clause
    assert policy.doubts == [] and policy.confidence == 1.0


def test_a_lead_in_naming_a_role_is_not_metadata():
    policy = parse_text("1. Roles\nThe head teacher will:\n• approve accounts;\n• review this policy.\n")
    assert policy.metadata == []
    assert [c.ref for c in policy.clauses] == ["1.1", "1.1.a", "1.1.b"]


def test_doubts_are_reported_with_their_clause_and_lower_the_confidence():
    text = (
        "1. Aims\n1.1 Staff stay safe online and protect the school's reputa-\ntion at all times.\n"
        "1.2 Staff ask when unsure.\n1.5 Staff report concerns.\n1.5 Staff keep records.\n"
    )
    policy = parse_text(text)
    assert [(d.ref, d.reason.split(" ")[0]) for d in policy.doubts] == [
        ("1.1", "“reputa-tion”"),
        ("1.5", "The"),
        ("1.5-2", "Two"),
    ]
    assert clause_text(policy, "1.1").endswith("reputation at all times.")
    assert policy.confidence == pytest.approx(1 - 3 / 4)


def test_hyphenated_word_is_joined_when_the_document_uses_the_whole_word_and_kept_for_compounds():
    text = (
        "1. Aims\n1.1 Staff keep pupils safe on social plat-\nforms; all platforms are covered.\n"
        "1.2 Staff must be up-to-\ndate with training.\n"
    )
    policy = parse_text(text)
    assert clause_text(policy, "1.1").startswith("Staff keep pupils safe on social platforms;")
    assert clause_text(policy, "1.2") == "Staff must be up-to-date with training."
    assert policy.doubts == []


def clause_text(policy: ParsedPolicy, ref: str) -> str:
    return next(c.text for c in policy.clauses if c.ref == ref)


def test_letters_and_roman_numerals_with_a_dot():
    text = (
        "1. Conduct\n1.1 Staff must not:\na. share images of pupils;\nb. reveal details such as:\n"
        "i. names;\nii. addresses;\nc. criticise colleagues.\n1.2 Staff ask for advice.\n"
    )
    policy = parse_text(text)
    assert [(c.ref, c.parent) for c in policy.clauses] == [
        ("1.1", None),
        ("1.1.a", "1.1"),
        ("1.1.b", "1.1"),
        ("1.1.b.i", "1.1.b"),
        ("1.1.b.ii", "1.1.b"),
        ("1.1.c", "1.1"),
        ("1.2", None),
    ]
    assert policy.doubts == []


def test_a_skipped_list_label_is_flagged():
    policy = parse_text("1. Conduct\n1.1 Staff must not:\n(a) share images;\n(c) criticise colleagues.\n")
    assert [(d.ref, d.reason) for d in policy.doubts] == [
        ("1.1.c", "The list goes from “a” to “c”: check no item was missed or misread.")
    ]


def test_a_bare_number_heading_that_could_continue_a_list_is_flagged():
    text = (
        "Rules\n1 Staff must keep accounts private.\n2 Staff must not contact pupils.\n"
        "3 Photographs\nOnly school devices."
    )
    policy = parse_text(text)
    assert sections(policy)[-1] == ("3", "Photographs")
    assert [(d.ref, d.line) for d in policy.doubts] == [(None, "3 Photographs")]
    assert policy.unsure_count == 1


def test_metadata_rules_do_not_eat_a_wrapped_line_or_the_heading_after_a_signature():
    text = (
        "1. Aims\n1.1 Staff must not use the\nSchool Logo\non personal accounts.\n1.2 Staff keep safe.\n"
        "Signed: A. Head\nIntroduction\nThis policy is new.\n"
    )
    policy = parse_text(text)
    assert clause_text(policy, "1.1") == "Staff must not use the School Logo on personal accounts."
    assert policy.metadata == ["Signed: A. Head"]
    assert sections(policy) == [("1", "Aims"), ("1A", "Introduction")]


def test_word_list_bullet_2_is_nested_under_the_bullet_before_it():
    document = docx.Document()
    document.add_heading("Expectations", 1)
    document.add_paragraph("Staff must:")
    document.add_paragraph("keep accounts private;", style="List Bullet")
    document.add_paragraph("report concerns;", style="List Bullet")
    document.add_paragraph("especially about images;", style="List Bullet 2")
    document.add_paragraph("use school email.", style="List Bullet")
    policy = import_document(_docx_bytes(document), "policy.docx")
    assert [(c.ref, c.parent) for c in policy.clauses] == [
        ("1.1", None),
        ("1.1.a", "1.1"),
        ("1.1.b", "1.1"),
        ("1.1.b.i", "1.1.b"),
        ("1.1.c", "1.1"),
    ]


def test_a_word_broken_before_a_non_ascii_letter_does_not_crash():
    policy = parse_text("1. Aims\n1.1 Staff keep the caf-\néteria tidy.\n1.2 Staff use the cafeteria kindly.\n")
    assert clause_text(policy, "1.1") == "Staff keep the caf-éteria tidy."


def test_a_header_printed_twice_is_furniture_where_it_cuts_a_sentence_in_two():
    text = (
        "Oakfield Primary School Social Media Policy\n1. Scope\n"
        "1.1 This policy covers every member of staff employed by the school and every\n"
        "Oakfield Primary School Social Media Policy\nvolunteer who works with pupils.\n"
        "1.2 It applies on and off site.\n"
    )
    policy = parse_text(text)
    assert clause_text(policy, "1.1") == (
        "This policy covers every member of staff employed by the school and every volunteer who works with pupils."
    )


def test_list_labels_on_a_line_of_their_own_join_their_text():
    text = (
        "1. Scope\n1.1\nIt applies on and off site.\n1.2 Staff must not:\n(a)\nshare images;\n(b)\ncontact pupils.\n"
        "1.3 Staff should:\n•\nask for advice.\n"
    )
    policy = parse_text(text)
    assert outline(policy) == [
        ("1.1", None, "It applies on and off site."),
        ("1.2", None, "Staff must not:"),
        ("1.2.a", "1.2", "share images;"),
        ("1.2.b", "1.2", "contact pupils."),
        ("1.3", None, "Staff should:"),
        ("1.3.a", "1.3", "ask for advice."),
    ]


def test_a_wrapped_line_starting_with_a_number_continues_the_sentence():
    text = (
        "Rules\n1 Staff must not contact former pupils for\n12 months after they leave the school.\n"
        "2 Staff must keep accounts private.\n"
    )
    policy = parse_text(text)
    assert sections(policy) == [("1", "Rules")]
    assert outline(policy) == [
        ("1.1", None, "Staff must not contact former pupils for 12 months after they leave the school."),
        ("1.2", None, "Staff must keep accounts private."),
    ]


def test_after_a_list_without_full_stops_a_heading_starts_a_new_section():
    text = (
        "Expectations of staff\n1 Staff must keep profiles private\n2 Staff must not follow pupils\n"
        "3 Staff must use school email\nReview\nThe head reviews this policy.\n"
    )
    policy = parse_text(text)
    assert sections(policy) == [("1", "Expectations of staff"), ("2", "Review")]
    assert [c.ref for c in policy.clauses] == ["1.1", "1.2", "1.3", "2.1"]


def test_the_last_item_of_a_list_without_full_stops_is_not_taken_for_a_heading():
    text = (
        "Rules\nStaff agree to the following\n1 Keep profiles private\n2 Use school email\n3 Report concerns\n"
        "Review\nThe head reviews this policy.\n"
    )
    policy = parse_text(text)
    assert [(c.ref, c.text) for c in policy.clauses] == [
        ("1.1", "Keep profiles private"),
        ("1.2", "Use school email"),
        ("1.3", "Report concerns"),
        ("2.1", "The head reviews this policy."),
    ]
    assert sections(policy)[-1] == ("2", "Review")
