"""Staff list import ([10] item 6): a school's MIS export (CSV) in, memberships out.

One module for the command (`manage.py import_staff`) and the page (accounts/staff_import_views.py),
so both show the same preview and apply the same rules:

- `parse(data)` reads the file (bytes or text) into rows and errors, each naming its file line
  (the header is line 1; a quoted cell spanning lines counts every physical line).
- `plan(parsed, school, ...)` compares the rows with the database: who is created, updated,
  unchanged and (with deactivate_missing) leaves. It writes nothing.
- `apply(plan, ...)` writes the plan in a handful of bulk queries, whatever the number of rows.
- `run(...)` does all three in one transaction, with the school row locked: any error, or a dry
  run, writes nothing.

Decisions (docs/staff-import.md says the same in plain words):
- Only the email column is required. Names: a preferred forename/surname wins over the legal one
  when both columns are there and the preferred cell is filled (people are known by it); a single
  "name" column is used when there are no forename/surname columns.
- A head or DSL holds the staff role too (as everywhere in PolicyHub): they acknowledge the policy.
- The import adds roles; it never takes a role away from someone in the file, never deletes a user,
  never changes whether an account is active, never sets a password (new people sign in by a reset
  link or single sign-on), and never renames a person who also belongs to another school.
- Trust admin and DPO are not import roles (a head could otherwise appoint one across the trust);
  with deactivate_missing those roles are never ended, nor are the roles of the person importing.
"""

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.dispatch import Signal

from . import leavers
from .actor import current_actor
from .audit import record, record_each
from .models import AuditAction, Membership, Role, School, User

# Under FILE_UPLOAD_MAX_MEMORY_SIZE (2 MB) with room for the form: an accepted upload stays in memory.
MAX_BYTES = 1024 * 1024
MAX_ROWS = 10_000
DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH = 10  # a title line or two above the header (some MIS reports) is skipped

# Sent once per applied import, inside its transaction, so the apps above accounts catch up in bulk
# (incidents re-routes cases: incidents/leaving.py). The import's bulk writes send no post_save or
# post_delete for Membership: listen here for the roles it grants and ends.
# kwargs: school, user_ids (sorted ids of everyone whose roles there changed),
# granted and ended (lists of (user id, role)).
roles_changed = Signal()


# --- Headers -------------------------------------------------------------------------------------


def _key(text: str) -> str:
    """A header or role as compared: lower case, letters and digits only ("E-mail_Address " -> "emailaddress")."""
    return re.sub(r"[^0-9a-z]", "", text.casefold())


# In order of preference: the first alias found names the column.
HEADER_ALIASES = {
    "email": [
        "work email",
        "work email address",
        "email work",
        "email address work",
        "school email",
        "school email address",
        "staff email",
        "staff email address",
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "primary email",
        "primary email address",
        "main email",
        "mail",
    ],
    "preferred_first": [
        "preferred forename",
        "preferred first name",
        "preferred name",
        "known as",
        "preferred given name",
    ],
    "first": [
        "first name",
        "forename",
        "legal forename",
        "legal first name",
        "given name",
        "given names",
        "firstname",
        "forenames",
        "first names",
    ],
    "preferred_last": ["preferred surname", "preferred last name", "preferred family name"],
    "last": ["last name", "surname", "legal surname", "legal last name", "family name", "lastname"],
    "full": ["full name", "name", "staff name", "display name", "employee name", "person name"],
    "role": ["role", "roles", "role(s)", "staff role", "staff roles", "policyhub role", "user role", "access role"],
}
EMAIL_HEADERS = ("Email", "E-mail", "Email address", "Work email")


@dataclass
class Columns:
    index: dict  # field name -> column index

    def get(self, row: list[str], name: str) -> str:
        i = self.index.get(name)
        return row[i] if i is not None and i < len(row) else ""


def _columns(header: list[str]) -> Columns:
    keys = [_key(h) for h in header]
    index = {}
    for name, aliases in HEADER_ALIASES.items():
        for alias in aliases:
            if _key(alias) in keys:
                index[name] = keys.index(_key(alias))
                break
    return Columns(index)


# --- Roles ---------------------------------------------------------------------------------------

# What the role cell may say, by the PolicyHub role it means. Blank means staff.
ROLE_ALIASES = {
    Role.STAFF: [
        "staff",
        "teacher",
        "teachers",
        "teaching",
        "teaching staff",
        "class teacher",
        "classroom teacher",
        "teaching assistant",
        "ta",
        "hlta",
        "higher level teaching assistant",
        "learning support assistant",
        "lsa",
        "support staff",
        "support",
        "non-teaching",
        "non-teaching staff",
        "member of staff",
        "employee",
    ],
    Role.HEAD: ["head", "headteacher", "head teacher", "principal", "headmaster", "headmistress"],
    Role.DSL: ["dsl", "designated safeguarding lead", "safeguarding lead"],
    Role.GOVERNOR: [
        "governor",
        "school governor",
        "local governor",
        "parent governor",
        "staff governor",
        "co-opted governor",
        "foundation governor",
        "community governor",
        "local authority governor",
        "la governor",
        "vice chair",
        "vice chair of governors",
    ],
    Role.CHAIR: ["chair", "chair of governors", "chair of the governors", "chair of the governing body"],
    Role.VOLUNTEER: ["volunteer", "volunteers"],
    Role.AGENCY_STAFF: [
        "agency",
        "agency staff",
        "agency worker",
        "agency teacher",
        "supply",
        "supply teacher",
        "supply staff",
    ],
    Role.CONTRACT_STAFF: ["contract", "contract staff", "contractor", "contractors", "contract worker"],
}
ROLE_BY_KEY = {_key(alias): role for role, aliases in ROLE_ALIASES.items() for alias in aliases}
# The error message's list: the main words for each role.
ALLOWED_ROLES = (
    "teacher, teaching assistant, support staff or blank (staff); head, headteacher, head teacher, principal (head);"
    " dsl, designated safeguarding lead (DSL); governor; chair, chair of governors; volunteer;"
    " agency staff, agency worker, supply teacher; contract staff, contractor"
)
# A head or DSL is a member of staff too (they acknowledge the policy as staff do).
IMPLIED = {Role.HEAD: Role.STAFF, Role.DSL: Role.STAFF}
ROLE_SEPARATORS = re.compile(r"\s*(?:[;,/&+|]|\band\b)\s*", re.IGNORECASE)


def parse_roles(cell: str) -> tuple[set[str], list[str]]:
    """The roles a cell names, and the parts it could not read."""
    roles, unknown = set(), []
    parts = [p.strip() for p in ROLE_SEPARATORS.split(cell)] if cell.strip() else [""]
    for part in parts:
        if not part:
            roles.add(Role.STAFF)
            continue
        key = _key(part)
        # "Teachers", "Volunteers", "Governors": a plural names the same role.
        role = ROLE_BY_KEY.get(key) or (ROLE_BY_KEY.get(key[:-1]) if key.endswith("s") else None)
        if role is None:
            unknown.append(part)
        else:
            roles.add(role)
            if role in IMPLIED:
                roles.add(IMPLIED[role])
    return roles, unknown


# --- Parsing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "message": self.message}


@dataclass
class Row:
    line: int
    email: str  # normalised: trimmed, lower case
    name: str  # "" when the file gives none
    roles: frozenset


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    text: str = ""  # the decoded file, as the page keeps it between preview and confirm


class Unreadable(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.problem = Problem(line, message)


def decode(data: bytes) -> str:
    """The file's text. UTF-8 (with or without BOM); UTF-16/32 when a BOM says so. Anything else is
    refused with the line of the first byte that is not UTF-8, rather than guessed at."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise Unreadable(1, f"The file says it is {codec.upper()} but is not: {exc.reason}.") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _physical_line(data[: exc.start])
        if data[:200].count(b"\x00") > len(data[:200]) // 4:
            why = "it looks like UTF-16 without a byte-order mark"
        else:
            why = f"byte 0x{data[exc.start]:02X} is not UTF-8; it may be Windows-1252 (ANSI) or Latin-1"
        raise Unreadable(
            line, f'The file is not UTF-8 ({why}). Save it as "CSV UTF-8" (Excel: Save as, CSV UTF-8) and try again.'
        ) from None


def _physical_line(prefix: bytes) -> int:
    """The 1-based line the byte after `prefix` is on, counting CRLF, LF and CR line ends."""
    return len(re.split(rb"\r\n|\r|\n", prefix))


def _clean(cell: str) -> str:
    """Trim spaces (non-breaking ones too), zero-width characters and stray BOMs; collapse inner spaces."""
    return " ".join(cell.replace("\ufeff", "").replace("\u200b", "").split())


def _records(text: str, delimiter: str) -> tuple[list[tuple[int, list[str]]], Problem | None]:
    """(first physical line, cells) per record, blank and whitespace-only records skipped, and the
    problem that stopped the reading, if any (the records before it are kept).

    Read strictly first, so that a quote never closed (which would swallow the rest of the file
    into one cell) is an error; a file whose only fault is a space after a closing quote
    ("Ann" ,) is then read leniently. Spaces after a delimiter are skipped (", " as a separator)."""
    records, problem, unclosed = _read(text, delimiter, strict=True)
    if problem is None or unclosed:
        return records, problem
    records, problem, _ = _read(text, delimiter, strict=False)
    return records, problem


def _read(text: str, delimiter: str, *, strict: bool):
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict, skipinitialspace=True)
    records, start = [], 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            cells = [_clean(c) for c in cells]
            if any(cells):
                records.append((line, cells))
    except csv.Error as exc:
        if "end of data" in str(exc):
            return records, Problem(start, 'A quote (") opened on this line is never closed.'), True
        return records, Problem(start, f"The file cannot be read as CSV here: {exc}."), False
    return records, None, False


def _find_header(text: str):
    """(delimiter, header line, header cells): the delimiter whose reading finds an email column in
    one of the first records, with the most columns; None if no delimiter finds one."""
    best = None
    for delimiter in DELIMITERS:
        records, _ = _records(text, delimiter)
        for line, cells in records[:HEADER_SEARCH]:
            if "email" in _columns(cells).index:
                if best is None or len(cells) > len(best[2]):
                    best = (delimiter, line, cells)
                break
    return best


def parse(data) -> Parsed:
    """Rows and errors of a staff list (bytes or text). Never raises for a bad file."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            return Parsed(errors=[Problem(1, f"The file is larger than {MAX_BYTES // 1024} KB: split it.")])
        try:
            text = decode(data)
        except Unreadable as exc:
            return Parsed(errors=[exc.problem])
    else:
        text = data.removeprefix("\ufeff")
    parsed = Parsed(text=text)
    if not text.strip():
        parsed.errors.append(Problem(1, "The file is empty."))
        return parsed
    found = _find_header(text)
    if found is None:
        first = next((i for i, line in enumerate(re.split(r"\r\n|\r|\n", text), 1) if line.strip()), 1)
        parsed.errors.append(
            Problem(first, f"No email column: the header must have one of {', '.join(EMAIL_HEADERS)} (any case).")
        )
        return parsed
    delimiter, header_line, header = found
    columns = _columns(header)
    header_keys = [_key(h) for h in header]
    seen: dict[str, int] = {}
    records, problem = _records(text, delimiter)
    for line, cells in records:
        if line <= header_line or [_key(c) for c in cells] == header_keys:
            continue  # what is above the header, and the header repeated (a paged report)
        if len(parsed.rows) + len(parsed.errors) >= MAX_ROWS:
            parsed.errors.append(Problem(line, f"The file has more than {MAX_ROWS} rows: split it."))
            return parsed
        _read_row(parsed, columns, line, cells, seen)
    if problem is not None:
        parsed.errors.append(problem)
    return parsed


def _name(columns: Columns, cells: list[str]) -> str:
    first = columns.get(cells, "preferred_first") or columns.get(cells, "first")
    last = columns.get(cells, "preferred_last") or columns.get(cells, "last")
    if last and first.casefold().endswith(" " + last.casefold()):
        return first  # a "Preferred name" column holding the whole name ("Maggie Ashworth")
    if first or last:
        return f"{first} {last}".strip()
    return columns.get(cells, "full")


def _read_row(parsed: Parsed, columns: Columns, line: int, cells: list[str], seen: dict) -> None:
    problems = []
    email = columns.get(cells, "email").lower().removeprefix("mailto:")
    if email.endswith(">") and "<" in email:  # "Ann Lee <ann.lee@example.org>"
        email = email[email.rindex("<") + 1 : -1].strip()
    if not email:
        problems.append("No email address.")
    else:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(f'"{email}" is not a valid email address.')
        else:
            if len(email) > 254:
                problems.append("The email address is longer than 254 characters.")
            elif email in seen:
                problems.append(f"{email} is already on line {seen[email]} (emails are compared ignoring case).")
            else:
                seen[email] = line
    name = _name(columns, cells)
    if len(name) > 150:
        problems.append("The name is longer than 150 characters.")
    roles, unknown = parse_roles(columns.get(cells, "role"))
    for part in unknown:
        problems.append(f'Unknown role "{part}". Allowed: {ALLOWED_ROLES}.')
    if problems:
        parsed.errors.extend(Problem(line, p) for p in problems)
    else:
        parsed.rows.append(Row(line=line, email=email, name=name, roles=frozenset(roles)))


# --- Plan ----------------------------------------------------------------------------------------

# Roles the import never grants and --deactivate-missing never ends: trust-wide appointments.
PROTECTED_ROLES = frozenset({Role.TRUST_ADMIN, Role.DPO})


@dataclass
class Leaver:
    user: User
    roles: list[str]  # the roles at the school that end
    holdings: list = field(default_factory=list)  # accounts.leavers.Holding


@dataclass
class Plan:
    school: School
    errors: list[Problem]
    new_users: list[Row] = field(default_factory=list)
    renames: list[tuple[User, str]] = field(default_factory=list)
    grants: list[tuple[int | None, str, str]] = field(default_factory=list)  # (user id or None if new, email, role)
    leavers: list[Leaver] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def deactivated(self) -> int:
        return len(self.leavers)

    def counts(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deactivated": self.deactivated,
        }

    def as_json(self) -> dict:
        """Exactly the shape the command prints with --json."""
        return self.counts() | {"errors": [e.as_dict() for e in self.errors]}


def plan(parsed: Parsed, school: School, *, deactivate_missing: bool = False, actor=None) -> Plan:
    """What importing `parsed` at `school` would change. Reads, never writes. With errors, the
    counts are of the rows that could be read (the page and --json show them), nothing applies."""
    result = Plan(school=school, errors=list(parsed.errors))
    emails = [row.email for row in parsed.rows]
    existing = {}
    for user in User.objects.annotate(lower_email=Lower("email")).filter(lower_email__in=emails).order_by("pk"):
        existing.setdefault(user.lower_email, user)
    held: dict[int, set] = {}
    for user_id, role in Membership.objects.filter(school=school).values_list("user_id", "role"):
        held.setdefault(user_id, set()).add(role)
    elsewhere = set(
        Membership.objects.filter(user__in=[u.pk for u in existing.values()])
        .exclude(school=school)
        .values_list("user_id", flat=True)
    )
    for row in parsed.rows:
        user = existing.get(row.email)
        if user is None:
            result.new_users.append(row)
            result.grants.extend((None, row.email, role) for role in sorted(row.roles))
            result.created += 1
            continue
        missing = sorted(row.roles - held.get(user.pk, set()))
        result.grants.extend((user.pk, row.email, role) for role in missing)
        rename = bool(row.name) and row.name != user.full_name and user.pk not in elsewhere
        if rename:
            result.renames.append((user, row.name))
        if missing or rename:
            result.updated += 1
        else:
            result.unchanged += 1
    if deactivate_missing and not parsed.rows and not result.errors:
        # A header alone (or an export that went wrong) would end everyone's roles at the school.
        result.errors.append(Problem(1, "The file lists nobody: ending everyone's roles is refused."))
    if deactivate_missing:
        listed = {u.pk for u in existing.values()}
        keep = {actor.pk} if actor is not None and getattr(actor, "pk", None) else set()
        leaving = {
            user_id: sorted(roles - PROTECTED_ROLES)
            for user_id, roles in held.items()
            if user_id not in listed and user_id not in keep and roles - PROTECTED_ROLES
        }
        users = User.objects.in_bulk(list(leaving))
        result.leavers = [
            Leaver(user=users[pk], roles=leaving[pk])
            for pk in sorted(leaving, key=lambda pk: (users[pk].full_name, users[pk].email))
        ]
    return result


def list_holdings(result: Plan) -> None:
    """Fill in what each leaver leaves behind (open cases, official accounts ...) for reassignment."""
    for leaver in result.leavers:
        leaver.holdings = leavers.left_behind(leaver.user, result.school)


# --- Apply ---------------------------------------------------------------------------------------


def apply(result: Plan, *, actor=None, request=None, via: str = "page") -> None:
    """Write the plan: a constant number of queries, whatever the number of rows. Call inside the
    transaction that made the plan (`run`), so nothing changed in between."""
    if result.errors:
        raise ValueError("A plan with errors is never applied.")
    school = result.school
    new = [User(email=row.email, full_name=row.name) for row in result.new_users]
    for user in new:
        user.set_unusable_password()  # they sign in by a password-reset link or single sign-on
    User.objects.bulk_create(new)
    ids = dict(User.objects.filter(email__in=[row.email for row in result.new_users]).values_list("email", "pk"))
    for user, name in result.renames:
        user.full_name = name
    User.objects.bulk_update([user for user, _ in result.renames], ["full_name"])
    granted = Membership.objects.bulk_create(
        [Membership(user_id=user_id or ids[email], school=school, role=role) for user_id, email, role in result.grants]
    )
    ended = Membership.objects.filter(
        school=school,
        user_id__in=[leaver.user.pk for leaver in result.leavers],
        role__in=[r for r in Role.values if r not in PROTECTED_ROLES],
    )
    ended_rows = list(ended.values_list("pk", "user_id", "role"))
    # A plain DELETE: the per-row signals would cost queries per person; the audit events and the
    # re-routing they drive are done below, in bulk, for every row granted or ended.
    ended._raw_delete(ended.db)
    role_events = [
        {
            "object_type": "membership",
            "object_id": m.pk or "",
            "school_id": school.pk,
            "detail": {"user": m.user_id, "role": m.role, "op": "granted", "via": "staff_import"},
        }
        for m in granted
    ] + [
        {
            "object_type": "membership",
            "object_id": pk,
            "school_id": school.pk,
            "detail": {"user": user_id, "role": role, "op": "removed", "via": "staff_import"},
        }
        for pk, user_id, role in ended_rows
    ]
    record_each(AuditAction.ROLE_CHANGE, request=request, actor=actor, events=role_events)
    system = current_actor()
    record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        object_type="staff_import",
        object_id=school.pk,
        school_id=school.pk,
        detail=result.counts()
        | {"via": via, **({"actor": system.label} if actor is None and system and system.label else {})},
    )
    changed = {m.user_id for m in granted} | {user_id for _, user_id, _ in ended_rows}
    if changed:
        roles_changed.send(
            sender=Plan,
            school=school,
            user_ids=sorted(changed),
            granted=[(m.user_id, m.role) for m in granted],
            ended=[(user_id, role) for _, user_id, role in ended_rows],
        )


@dataclass
class Outcome:
    plan: Plan
    applied: bool
    text: str = ""  # the decoded file: what the page keeps for the confirm

    def as_json(self) -> dict:
        return self.plan.as_json()


def run(
    data,
    school: School,
    *,
    deactivate_missing: bool = False,
    dry_run: bool = False,
    actor=None,
    request=None,
    via: str = "page",
) -> Outcome:
    """Parse, plan and (no errors, not a dry run) apply, in one transaction with the school locked:
    two imports at one school never interleave, and the plan applied is the plan shown."""
    with transaction.atomic():
        list(School.objects.select_for_update().filter(pk=school.pk).values_list("pk", flat=True))
        parsed = parse(data)
        result = plan(parsed, school, deactivate_missing=deactivate_missing, actor=actor)
        list_holdings(result)
        applied = not result.errors and not dry_run
        if applied:
            apply(result, actor=actor, request=request, via=via)
    return Outcome(plan=result, applied=applied, text=parsed.text)


def role_counts(result: Plan) -> Counter:
    """Roles granted by the plan, by label (for the preview)."""
    return Counter(str(Role(role).label) for _, _, role in result.grants)
