"""Reading staff lists (accounts/staff_import.py `parse`): MIS exports in many shapes, errors with
their file line. No database: only the file is read."""

import codecs
import random
from pathlib import Path

import pytest

from accounts.models import Role
from accounts.staff_import import ALLOWED_ROLES, parse, parse_roles

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "staff"
S, H, D, G, C = Role.STAFF, Role.HEAD, Role.DSL, Role.GOVERNOR, Role.CHAIR
V, A, K = Role.VOLUNTEER, Role.AGENCY_STAFF, Role.CONTRACT_STAFF


def rows(parsed):
    return [(r.line, r.email, r.name, set(r.roles)) for r in parsed.rows]


def errors(parsed):
    return [(e.line, e.message) for e in parsed.errors]


# --- The fixtures: one per MIS style, written by hand ----------------------------------------------

EXPECTED = {
    # SIMS-like: BOM, CRLF, legal and preferred forenames, "Work E-mail", "Staff Role", extra columns.
    "sims_staff_details.csv": [
        (2, "m.ashworth@brambleton.sch.example", "Maggie Ashworth", {H, S}),
        (3, "c.okonkwo@brambleton.sch.example", "Chidi Okonkwo", {S}),
        (4, "p.fitzsimmons@brambleton.sch.example", "Pete Fitz-Simmons, Jr", {S}),
        (5, "y.nakamura@brambleton.sch.example", "Yuki Nakamura", {S, D}),
        (6, "d.whitlock@brambleton.sch.example", "Doreen Whitlock", {S}),
    ],
    # Arbor-like: LF, a job title spanning two lines (the next row is line 4), several roles per cell.
    "arbor_staff_list.csv": [
        (2, "rhiannon.pryce@willowmead.example.org", "Rhiannon Pryce", {S, D}),
        (4, "tomasz.wieczorek@willowmead.example.org", "Tomasz Wieczorek", {K}),
        (5, "aisha.begum@willowmead.example.org", "Aisha Begum", {V}),
        (6, "gareth.lloyd@willowmead.example.org", "Gareth Lloyd", {A}),
        (7, "helena.marsh@willowmead.example.org", "Helena Marsh", {C}),
        (8, "samuel.adeyemi@willowmead.example.org", "Samuel Adeyemi", {G}),
    ],
    # Bromcom-like: semicolons, CR line ends, EMAIL_ADDRESS / ROLE(S), a whitespace-only row (line 4).
    "bromcom_staff.csv": [
        (2, "i.khan@oakhill.example.net", "Imran Khan", {H, S}),
        (3, "d.morgansmith@oakhill.example.net", "Delia Morgan-Smith", {S}),
        (5, "j.leigh@oakhill.example.net", "Jo Leigh", {D, S}),
    ],
    # Tabs, one name column, "Work Email", a blank role (staff).
    "staff_tab_separated.tsv": [
        (2, "priti.shah@fernbank.example.org", "Priti Shah", {S}),
        (3, "owen.beattie@fernbank.example.org", "Owen Beattie", {S}),
        (4, "li.wei@fernbank.example.org", "Li Wei", {H, S}),
    ],
    # Excel "Unicode text": UTF-16 LE with a BOM, tabs.
    "excel_unicode_text.txt": [
        (2, "zoe.bronte@heathfield.example.org", "Zoë Brontë", {S}),
        (3, "sian.evans@heathfield.example.org", "Siân Evans", {V}),
    ],
    # A title line and a blank line above a quoted header with odd spacing; preferred name blank on line 6.
    "report_with_title_line.csv": [
        (4, "kit.marlowe@example.org", "Kit Marlowe", {K}),
        (6, "ada.byron@example.org", "Ada Byron", {A}),
    ],
}


@pytest.mark.parametrize("name", EXPECTED)
def test_each_mis_style_is_read(name):
    parsed = parse((FIXTURES / name).read_bytes())
    assert errors(parsed) == []
    assert rows(parsed) == EXPECTED[name]


def test_every_row_error_names_its_physical_line_after_a_cell_spanning_three_lines():
    parsed = parse((FIXTURES / "errors_with_lines.csv").read_bytes())
    found = errors(parsed)
    assert [line for line, _ in found] == [5, 6, 8, 9]
    assert found[0][1] == "No email address."
    assert found[1][1] == '"not-an-email" is not a valid email address.'
    assert found[2][1] == "ok.one@example.org is already on line 2 (emails are compared ignoring case)."
    assert found[3][1] == f'Unknown role "Caretaker". Allowed: {ALLOWED_ROLES}.'
    assert [r[0] for r in rows(parsed)] == [2, 10]


def test_windows_1252_is_refused_with_the_line_of_the_first_bad_byte():
    parsed = parse((FIXTURES / "excel_windows_1252.csv").read_bytes())
    assert parsed.rows == []
    [(line, message)] = errors(parsed)
    assert line == 3
    assert "not UTF-8" in message and "Windows-1252" in message and "CSV UTF-8" in message


def test_a_missing_email_column_is_one_error_on_line_1():
    parsed = parse((FIXTURES / "missing_email_column.csv").read_bytes())
    assert parsed.rows == []
    assert [line for line, _ in errors(parsed)] == [1]
    assert "No email column" in errors(parsed)[0][1]


# --- Headers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "email",
        "Email",
        "E-mail",
        "e-mail",
        "Email Address",
        "E-mail Address",
        "EMAIL_ADDRESS",
        "  email   address ",
        "Work Email",
        "Work E-mail",
        "work_email",
        "WORK EMAIL ADDRESS",
    ],
)
def test_email_header_aliases(header):
    parsed = parse(f'"{header}",Surname\nA@Example.org,Lee\n'.encode())
    assert rows(parsed) == [(2, "a@example.org", "Lee", {S})]


@pytest.mark.parametrize(
    "first,last",
    [
        ("first name", "last name"),
        ("Forename", "Surname"),
        ("Legal Forename", "Legal Surname"),
        ("FIRST_NAME", "LAST_NAME"),
        ("Preferred Forename", "surname"),
    ],
)
def test_name_header_aliases(first, last):
    parsed = parse(f"{first},{last},Email\nAnn,Lee,ann@example.org\n".encode())
    assert rows(parsed) == [(2, "ann@example.org", "Ann Lee", {S})]


@pytest.mark.parametrize("header", ["role", "Roles", "Staff Role", "ROLE(S)", "staff_role"])
def test_role_header_aliases(header):
    parsed = parse(f"Email,{header}\nann@example.org,Governor\n".encode())
    assert rows(parsed) == [(2, "ann@example.org", "", {G})]


def test_preferred_forename_wins_over_legal_and_falls_back_per_row():
    text = (
        "Legal Forename,Preferred Forename,Legal Surname,Preferred Surname,Email\n"
        "Margaret,Maggie,Smith,,m@example.org\n"
        "Robert,,Jones,Jones-Ap,r@example.org\n"
    )
    assert [r[2] for r in rows(parse(text.encode()))] == ["Maggie Smith", "Robert Jones-Ap"]


def test_columns_in_any_order_and_extra_columns_ignored():
    text = "Notes,Role,Surname,Staff ID,Email,First name\nhello,Teacher,Lee,42,ann@example.org,Ann\n"
    assert rows(parse(text.encode())) == [(2, "ann@example.org", "Ann Lee", {S})]


# --- Encodings, line ends, delimiters, blank rows --------------------------------------------------

BODY = (
    'Email,First name,Surname,Role\nann@example.org,Ann,"Lee, Jr","Teacher\nand Governor"\n\nbob@example.org,Bob,Ng,\n'
)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_line_ends_and_bom_keep_the_physical_line_numbers(newline, bom):
    parsed = parse(bom + BODY.replace("\n", newline).encode())
    assert errors(parsed) == []
    # The role cell spans lines 2-3, line 4 is blank: Bob is on line 5.
    assert rows(parsed) == [(2, "ann@example.org", "Ann Lee, Jr", {S, G}), (5, "bob@example.org", "Bob Ng", {S})]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_the_delimiter_is_sniffed(delimiter):
    cells = [["Email", "Forename", "Surname", "Role"], ["ann@example.org", "Ann", "Lee, Jr", "Teacher, DSL"]]
    text = "".join(delimiter.join(row) + "\n" for row in cells)
    assert rows(parse(text.encode())) == [(2, "ann@example.org", "Ann Lee, Jr", {S, D})]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_bom_is_decoded(codec):
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    parsed = parse(bom + "Email\tName\r\nzoe@example.org\tZoë Brontë\r\n".encode(codec))
    assert rows(parsed) == [(2, "zoe@example.org", "Zoë Brontë", {S})]


def test_utf16_without_a_bom_is_a_clear_error():
    parsed = parse("Email,Name\r\nzoe@example.org,Zoë\r\n".encode("utf-16-le"))
    [(line, message)] = errors(parsed)
    assert "UTF-16" in message and "not UTF-8" in message


def test_blank_and_whitespace_only_rows_are_ignored_and_cells_trimmed():
    text = "\n\nEmail , Role \n\n  ANN@Example.ORG  ,  Teacher  \n , \n\t\t\n,,,\n"
    assert rows(parse(text.encode())) == [(5, "ann@example.org", "", {S})]


def test_an_empty_file_is_an_error():
    assert [line for line, _ in errors(parse(b""))] == [1]
    assert [line for line, _ in errors(parse(b"\r\n  \r\n"))] == [1]


def test_an_unterminated_quote_is_an_error_not_a_traceback():
    parsed = parse(b'Email,Name\nann@example.org,"Ann\n')
    assert parsed.errors, "an open quote to the end of the file must be reported"


def test_random_bytes_never_raise():
    rng = random.Random(10)
    for _ in range(300):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
        parse(data)
        parse(b"Email,Role\n" + data)


# --- Roles -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell,expected",
    [
        ("", {S}),
        ("Teacher", {S}),
        ("teaching assistant", {S}),
        ("Support Staff", {S}),
        ("Head", {H, S}),
        ("HEADTEACHER", {H, S}),
        ("Head Teacher", {H, S}),
        ("principal", {H, S}),
        ("DSL", {D, S}),
        ("Designated Safeguarding Lead", {D, S}),
        ("governor", {G}),
        ("Chair", {C}),
        ("Chair of Governors", {C}),
        ("Volunteer", {V}),
        ("Agency staff", {A}),
        ("agency_staff", {A}),
        ("Contract Staff", {K}),
        ("Contractor", {K}),
        ("Head; DSL", {H, D, S}),
        ("Teacher, Governor", {S, G}),
        ("Teacher/Governor", {S, G}),
        ("Teacher and DSL", {S, D}),
        ("Teacher AND Governor / Volunteer", {S, G, V}),
        ("Teachers", {S}),
        ("Volunteers", {V}),
        ("Parent Governor", {G}),
        ("Vice Chair", {G}),
        ("Supply", {A}),
    ],
)
def test_role_aliases(cell, expected):
    roles, unknown = parse_roles(cell)
    assert (roles, unknown) == (expected, [])


@pytest.mark.parametrize(
    "cell", ["Wizard", "trust admin", "Trust_Admin", "DPO", "Data-protection officer", "Teacher; Caretaker"]
)
def test_unknown_roles_and_trust_wide_roles_are_errors(cell):
    parsed = parse(f"Email,Role\nann@example.org,{cell}\n".encode())
    assert parsed.rows == []
    [(line, message)] = errors(parsed)
    assert line == 2 and message.startswith("Unknown role") and "Allowed: teacher" in message


def test_a_row_with_several_problems_reports_each():
    parsed = parse(b"Email,Role\nnot-an-email,Wizard\n")
    assert [line for line, _ in errors(parsed)] == [2, 2]


def test_a_repeated_header_is_skipped_and_a_named_address_is_read():
    text = 'Email,Name\nann@example.org,Ann\nEmail,Name\n"Bob Ng <Bob@Example.org>",Bob\n'
    assert rows(parse(text.encode())) == [(2, "ann@example.org", "Ann", {S}), (4, "bob@example.org", "Bob", {S})]


def test_a_file_over_the_limit_is_one_error():
    from accounts.staff_import import MAX_BYTES

    data = b"Email\n" + b"a@example.org\n" * (MAX_BYTES // 14 + 1)
    assert [line for line, _ in errors(parse(data))] == [1]
    assert parse(data).rows == []


def test_spaces_around_quoted_cells_are_read():
    text = 'Email, Name, Role\n"ann@example.org", "Lee, Ann" , "Teacher"\n'
    assert rows(parse(text.encode())) == [(2, "ann@example.org", "Lee, Ann", {S})]


def test_an_unclosed_quote_names_the_line_it_opens_on_and_the_rows_before_still_count():
    parsed = parse(b'Email,Name\nann@example.org,Ann\nbob@example.org,"Bob\ncat@example.org,Cat\n')
    assert errors(parsed) == [(3, 'A quote (") opened on this line is never closed.')]
    assert [r[1] for r in rows(parsed)] == ["ann@example.org"]


def test_a_preferred_name_column_holding_the_whole_name_is_not_doubled():
    text = "Preferred Name,Legal First Name,Legal Last Name,Email\nMaggie Ashworth,Margaret,Ashworth,m@example.org\n"
    assert rows(parse(text.encode())) == [(2, "m@example.org", "Maggie Ashworth", {S})]
