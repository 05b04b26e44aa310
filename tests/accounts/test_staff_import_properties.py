"""Property tests of the staff list reader (accounts/staff_import.py `parse`): staff lists written in
any of the accepted shapes (header aliases, column order, extra columns, delimiter, line ends, BOM,
quoting, blank lines, cells spanning lines) read back to the same people on the right lines; and
no input at all makes it raise."""

import codecs
import io
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import Role
from accounts.staff_import import parse

EMAIL = ["email", "E-mail", "Email Address", "EMAIL_ADDRESS", "Work E-mail", " work  email "]
FIRST = ["First name", "forename", "LEGAL_FORENAME", "Preferred Forename"]
LAST = ["last name", "Surname", "Legal Surname"]
ROLE = ["role", "Roles", "Staff Role", "ROLE(S)"]
ROLES = {
    "Teacher": {Role.STAFF},
    "teaching assistant": {Role.STAFF},
    "": {Role.STAFF},
    "Head Teacher": {Role.HEAD, Role.STAFF},
    "DSL": {Role.DSL, Role.STAFF},
    "Governor": {Role.GOVERNOR},
    "Chair of Governors": {Role.CHAIR},
    "Volunteer": {Role.VOLUNTEER},
    "Agency Staff": {Role.AGENCY_STAFF},
    "Contractor": {Role.CONTRACT_STAFF},
    "Teacher and Governor": {Role.STAFF, Role.GOVERNOR},
}

word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzÀÉÖçñ-' ,\"", min_size=1, max_size=12).filter(
    lambda s: s.strip(" ,") and not s.strip().startswith('"')
)
person = st.tuples(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.", min_size=1, max_size=10).filter(
        lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
    ),
    word,
    st.one_of(word, word.map(lambda w: f"{w}\n{w}")),  # a surname cell spanning two lines
    st.sampled_from(sorted(ROLES)),
    st.booleans(),  # upper-case the email
)


class Writer:
    """A CSV writer as spreadsheets write: a cell with the delimiter, a quote or any line break is
    quoted (Python's csv module leaves a bare LF unquoted when rows end in CR)."""

    def __init__(self, out, delimiter, newline, quote_all):
        self.out, self.delimiter, self.newline, self.quote_all = out, delimiter, newline, quote_all

    def writerow(self, cells):
        def cell(c):
            if self.quote_all or any(ch in c for ch in (self.delimiter, '"', "\r", "\n")):
                return '"' + c.replace('"', '""') + '"'
            return c

        self.out.write(self.delimiter.join(cell(c) for c in cells) + self.newline)


def physical_line(prefix: str) -> int:
    return len(re.split(r"\r\n|\r|\n", prefix))


@settings(max_examples=200, deadline=None)
@given(
    people=st.lists(person, min_size=1, max_size=8, unique_by=lambda p: p[0]),
    headers=st.tuples(*(st.sampled_from(h) for h in (EMAIL, FIRST, LAST, ROLE))),
    order=st.permutations(range(5)),
    delimiter=st.sampled_from([",", ";", "\t"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.sampled_from([b"", codecs.BOM_UTF8, "utf-16"]),
    quote_all=st.booleans(),
    blanks=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_any_shape_of_staff_list_reads_back_on_the_right_lines(
    people, headers, order, delimiter, newline, bom, quote_all, blanks
):
    header = [*headers, "Staff code"]
    out = io.StringIO(newline="")
    writer = Writer(out, delimiter, newline, quote_all)
    writer.writerow([header[i] for i in order])
    expected = []
    for n, (local, first, last, role, upper) in enumerate(people):
        if blanks[n]:
            out.write(newline)
        email = f"{local}@example.org"
        row = [email.upper() if upper else email, first, last, role, f"X{n}"]
        expected.append((physical_line(out.getvalue() + "x"), email, " ".join(f"{first} {last}".split()), ROLES[role]))
        writer.writerow([row[i] for i in order])
    text = out.getvalue()
    data = text.encode("utf-16") if bom == "utf-16" else bom + text.encode()

    parsed = parse(data)
    assert [(e.line, e.message) for e in parsed.errors] == []
    assert [(r.line, r.email, r.name, set(r.roles)) for r in parsed.rows] == expected


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_no_input_makes_it_raise_and_every_error_has_a_line(data):
    parsed = parse(b"Email,Role\n" + data)
    lines = physical_line(data.decode("utf-8", "replace")) + 1
    for error in parsed.errors:
        assert 1 <= error.line <= lines and error.message
