"""`manage.py import_staff PATH --school SLUG [--dry-run] [--deactivate-missing] [--json]` and the
plan/apply it shares with the page (accounts/staff_import.py): what is saved, what is not, the exit
status, stdout, idempotence, leavers, the audit trail and the query count."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import staff_import
from accounts.actor import acting_as
from accounts.models import AuditAction, AuditEvent, Membership, Role, User
from incidents.models import Involved, Status
from tests.factories import SchoolFactory, UserFactory, member, person
from tests.incidents.factories import report

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "staff"


def run_command(path, *args):
    """(stdout, exit status): the command as manage.py runs it (CommandError -> its return code)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("import_staff", str(path), *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), exc.returncode
    return out.getvalue(), 0


def write(tmp_path, text, name="staff.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def roles(user, school):
    return set(Membership.objects.filter(user=user, school=school).values_list("role", flat=True))


def snapshot():
    return (
        sorted(User.objects.values_list("email", "full_name", "password")),
        sorted(Membership.objects.values_list("user_id", "school_id", "role")),
    )


# --- Creating, updating, idempotence -------------------------------------------------------------------


def test_import_creates_people_with_roles_and_no_usable_password(cast, tmp_path):
    path = FIXTURES / "arbor_staff_list.csv"
    out, status = run_command(path, "--school", "oakfield", "--json")
    assert status == 0
    assert json.loads(out) == {"created": 6, "updated": 0, "unchanged": 0, "deactivated": 0, "errors": []}
    aisha = User.objects.get(email="aisha.begum@willowmead.example.org")  # AISHA.BEGUM@... in the file
    assert aisha.full_name == "Aisha Begum" and aisha.is_active
    assert not aisha.has_usable_password()
    assert roles(aisha, cast.oakfield) == {Role.VOLUNTEER}
    rhiannon = User.objects.get(email="rhiannon.pryce@willowmead.example.org")
    assert roles(rhiannon, cast.oakfield) == {Role.STAFF, Role.DSL}
    assert roles(rhiannon, cast.brookside) == set()


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if p.suffix in {".csv", ".tsv", ".txt"}))
def test_every_fixture_is_idempotent_or_saves_nothing(cast, name):
    before = snapshot()
    out, status = run_command(FIXTURES / name, "--school", "oakfield", "--json")
    first = json.loads(out)
    if first["errors"]:
        assert status == 1 and snapshot() == before
        return
    assert status == 0 and first["created"] > 0
    after = snapshot()
    out, status = run_command(FIXTURES / name, "--school", "oakfield", "--json")
    n = first["created"] + first["updated"] + first["unchanged"]
    assert status == 0
    assert json.loads(out) == {"created": 0, "updated": 0, "unchanged": n, "deactivated": 0, "errors": []}
    assert snapshot() == after


def test_existing_people_are_matched_ignoring_case_and_only_gain_roles(cast, tmp_path):
    path = write(
        tmp_path,
        "Email,First name,Surname,Role\nSAM.taylor@OAKFIELD.example.org,Sam,Taylor,Teacher and Governor\n"
        "HELEN@oakfield.example.org,Helen,Hart,Teacher\n",
    )
    cast.sam.email = "Sam.Taylor@Oakfield.example.org"  # an account made before emails were normalised
    cast.sam.save()
    out, status = run_command(path, "--school", "oakfield", "--json")
    assert json.loads(out) == {"created": 0, "updated": 1, "unchanged": 1, "deactivated": 0, "errors": []}
    assert User.objects.filter(email__iexact="sam.taylor@oakfield.example.org").count() == 1
    assert roles(cast.sam, cast.oakfield) == {Role.STAFF, Role.GOVERNOR}
    # Helen's head role is not taken away because the file says "Teacher": the import only adds.
    assert roles(cast.helen, cast.oakfield) == {Role.HEAD, Role.STAFF}


def test_a_name_is_updated_only_for_someone_at_this_school_alone(cast, tmp_path):
    vera = person("Vera Vale", cast.oakfield, Role.STAFF)
    member(vera, cast.brookside, Role.HEAD)
    path = write(
        tmp_path,
        f"Email,Name\n{cast.sam.email},Samantha Taylor\n{vera.email},Someone Else\n",
    )
    out, _ = run_command(path, "--school", "oakfield", "--json")
    assert json.loads(out)["updated"] == 1 and json.loads(out)["unchanged"] == 1
    cast.sam.refresh_from_db()
    vera.refresh_from_db()
    assert cast.sam.full_name == "Samantha Taylor"
    assert vera.full_name == "Vera Vale"  # Brookside knows her too: Oakfield's list does not rename her


def test_head_and_dsl_are_staff_too(cast, tmp_path):
    path = write(tmp_path, "Email,Role\nnew.head@example.org,Principal\n")
    run_command(path, "--school", "brookside")
    assert roles(User.objects.get(email="new.head@example.org"), cast.brookside) == {Role.HEAD, Role.STAFF}


# --- Errors: nothing saved, exit status 1, the JSON ----------------------------------------------------


def test_any_error_saves_nothing_and_exits_1_with_the_json(cast):
    before = snapshot()
    out, status = run_command(FIXTURES / "errors_with_lines.csv", "--school", "oakfield", "--json")
    assert status == 1
    data = json.loads(out)  # stdout is exactly the JSON object
    assert list(data) == ["created", "updated", "unchanged", "deactivated", "errors"]
    assert [e["line"] for e in data["errors"]] == [5, 6, 8, 9]
    assert all(set(e) == {"line", "message"} for e in data["errors"])
    assert data["created"] == 2  # the readable rows are counted, none is saved
    assert snapshot() == before
    assert not AuditEvent.objects.filter(object_type="staff_import").exists()


def test_stdout_with_json_is_exactly_one_json_object_and_the_exit_status_is_real(cast, capsys, monkeypatch):
    from django.db import connections

    from accounts.management.commands.import_staff import Command

    # run_from_argv (what manage.py calls) closes the connections at the end: not the test's.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    argv = ["manage.py", "import_staff", str(FIXTURES / "excel_windows_1252.csv"), "--school", "oakfield", "--json"]
    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(argv)
    assert exit_.value.code == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert captured.out == json.dumps(data, ensure_ascii=False) + "\n"
    assert data["errors"][0]["line"] == 3 and "Windows-1252" in data["errors"][0]["message"]
    assert "nothing was saved" in captured.err

    argv[2] = str(FIXTURES / "sims_staff_details.csv")
    Command().run_from_argv(argv)  # no SystemExit: status 0
    assert json.loads(capsys.readouterr().out)["created"] == 5


def test_without_json_errors_are_listed_by_line(cast):
    out, status = run_command(FIXTURES / "errors_with_lines.csv", "--school", "oakfield")
    assert status == 1
    assert "Line 5: No email address." in out and "Line 9: Unknown role" in out


def test_an_unknown_school_or_missing_file_is_an_error_in_the_same_json(cast, tmp_path):
    out, status = run_command(FIXTURES / "sims_staff_details.csv", "--school", "nowhere", "--json")
    assert status == 1 and json.loads(out)["errors"][0]["message"].startswith("No school")
    out, status = run_command(tmp_path / "missing.csv", "--school", "oakfield", "--json")
    assert status == 1 and json.loads(out)["errors"][0]["message"].startswith("Cannot read")


def test_dry_run_saves_nothing_and_prints_the_same_counts(cast):
    before, events = snapshot(), AuditEvent.objects.count()
    out, status = run_command(FIXTURES / "sims_staff_details.csv", "--school", "oakfield", "--dry-run", "--json")
    assert status == 0
    assert json.loads(out) == {"created": 5, "updated": 0, "unchanged": 0, "deactivated": 0, "errors": []}
    assert snapshot() == before and AuditEvent.objects.count() == events
    out, _ = run_command(FIXTURES / "sims_staff_details.csv", "--school", "oakfield", "--dry-run")
    assert "Would import" in out and "Dry run: nothing was saved." in out


# --- Leavers -------------------------------------------------------------------------------------------


def test_deactivate_missing_ends_roles_at_that_school_only_and_keeps_users(cast, tmp_path):
    member(cast.sam, cast.brookside, Role.STAFF)
    member(cast.priya, cast.oakfield, Role.STAFF)  # the DPO is staff too
    path = write(tmp_path, f"Email,Role\n{cast.helen.email},Head\n{cast.dina.email},DSL\n")
    out, status = run_command(path, "--school", "oakfield", "--deactivate-missing", "--json")
    assert status == 0
    # Sam, Gary, Carol (gone) and Priya (her staff role); Tom the trust admin is not on the MIS list.
    assert json.loads(out) == {"created": 0, "updated": 0, "unchanged": 2, "deactivated": 4, "errors": []}
    assert roles(cast.sam, cast.oakfield) == set() and roles(cast.sam, cast.brookside) == {Role.STAFF}
    assert roles(cast.gary, cast.oakfield) == set() and roles(cast.carol, cast.oakfield) == set()
    assert roles(cast.tom, cast.oakfield) == {Role.TRUST_ADMIN}
    assert roles(cast.priya, cast.oakfield) == {Role.DPO}
    assert roles(cast.olive, cast.brookside) == {Role.HEAD, Role.STAFF}
    assert User.objects.filter(pk__in=[cast.sam.pk, cast.gary.pk, cast.carol.pk]).count() == 3
    # Idempotent with --deactivate-missing too.
    out, _ = run_command(path, "--school", "oakfield", "--deactivate-missing", "--json")
    assert json.loads(out) == {"created": 0, "updated": 0, "unchanged": 2, "deactivated": 0, "errors": []}


def test_without_deactivate_missing_nobody_leaves(cast, tmp_path):
    path = write(tmp_path, f"Email\n{cast.helen.email}\n")
    out, _ = run_command(path, "--school", "oakfield", "--json")
    assert json.loads(out)["deactivated"] == 0
    assert roles(cast.sam, cast.oakfield) == {Role.STAFF}


def test_a_leavers_open_cases_are_listed_in_the_output_but_not_in_the_json(cast, tmp_path):
    case = report(cast.oakfield, cast.sam)  # Helen, the head, owns it
    closed = report(cast.oakfield, cast.sam)
    type(closed).objects.filter(pk=closed.pk).update(status=Status.CLOSED)
    path = write(tmp_path, f"Email,Role\n{cast.dina.email},DSL\n{cast.sam.email},Teacher\n")

    out, status = run_command(path, "--school", "oakfield", "--deactivate-missing", "--dry-run")
    assert status == 0
    assert f"Leaving: {cast.helen.email}" in out
    assert f"leaves behind: Open case {case.reference} /incidents/{case.reference}/" in out
    assert closed.reference not in out
    assert case.description not in out  # references only, never the report

    out, _ = run_command(path, "--school", "oakfield", "--deactivate-missing", "--dry-run", "--json")
    assert set(json.loads(out)) == {"created", "updated", "unchanged", "deactivated", "errors"}
    assert case.reference not in out


def test_the_importing_person_never_ends_their_own_roles(cast):
    parsed = staff_import.parse(f"Email\n{cast.sam.email}\n")
    plan = staff_import.plan(parsed, cast.oakfield, deactivate_missing=True, actor=cast.helen)
    assert cast.helen.pk not in {leaver.user.pk for leaver in plan.leavers}
    assert cast.gary.pk in {leaver.user.pk for leaver in plan.leavers}


# --- Routing follows the roles the import grants ---------------------------------------------------------


def test_granting_head_to_the_subject_of_an_open_case_routes_it_to_the_chair(cast, tmp_path):
    case = report(cast.oakfield, cast.dina, involved=Involved.STAFF, subject=cast.sam)
    assert case.owner_id == cast.helen.pk
    path = write(tmp_path, f"Email,Role\n{cast.sam.email},Head teacher\n")
    run_command(path, "--school", "oakfield")
    case.refresh_from_db()
    assert case.owner_id == cast.carol.pk  # a case about a head is the chair's
    assert case.subject_is_head


# --- Audit ---------------------------------------------------------------------------------------------


def test_one_audit_event_per_import_with_counts_and_ids_only(cast, tmp_path):
    path = write(
        tmp_path, f"Email,First name,Surname,Role\nnew.person@example.org,New,Person,Volunteer\n{cast.sam.email},,,\n"
    )
    with acting_as(system="command:import_staff"):  # as manage.py sets it (accounts/actor.py)
        run_command(path, "--school", "oakfield", "--deactivate-missing")
    [event] = AuditEvent.objects.filter(object_type="staff_import")
    assert event.action == AuditAction.CHANGE and event.school_id == cast.oakfield.pk
    assert event.detail["created"] == 1 and event.detail["unchanged"] == 1 and event.detail["deactivated"] == 4
    assert event.detail["via"] == "command" and event.detail["actor"] == "system:command:import_staff"
    grants = AuditEvent.objects.filter(action=AuditAction.ROLE_CHANGE, detail__op="granted", detail__via="staff_import")
    removals = AuditEvent.objects.filter(
        action=AuditAction.ROLE_CHANGE, detail__op="removed", detail__via="staff_import"
    )
    new = User.objects.get(email="new.person@example.org")
    assert [(e.detail["user"], e.detail["role"]) for e in grants] == [(new.pk, Role.VOLUNTEER)]
    # Everyone at Oakfield but Sam; not Tom (trust admin) nor Priya (DPO): not on a school's MIS list.
    assert {e.detail["user"] for e in removals} == {cast.helen.pk, cast.dina.pk, cast.gary.pk, cast.carol.pk}
    for e in [event, *grants, *removals]:
        text = json.dumps(e.detail)
        assert "@" not in text and "New" not in text and "Person" not in text


# --- Queries -------------------------------------------------------------------------------------------


def _apply_queries(n):
    """Queries of the apply step for a file of n new people and n existing ones, n + 2 leaving."""
    school = SchoolFactory()
    existing = [member(UserFactory(), school, Role.STAFF) for _ in range(n)]
    for _ in range(n + 2):
        member(UserFactory(), school, Role.GOVERNOR)
    lines = [f"new{n}-{i}@example.org,New {i},Teacher" for i in range(n)]
    lines += [f"{u.email},Renamed {i},Teacher; Volunteer" for i, u in enumerate(existing)]
    parsed = staff_import.parse("Email,Name,Role\n" + "\n".join(lines) + "\n")
    plan = staff_import.plan(parsed, school, deactivate_missing=True)
    assert (plan.created, plan.updated, plan.deactivated) == (n, n, n + 2)
    with CaptureQueriesContext(connection) as queries:
        staff_import.apply(plan)
    assert Membership.objects.filter(school=school).count() == 3 * n  # new: staff; existing: staff, volunteer
    # One bulk write that SQLite splits into batches (at most 999 parameters a statement) counts once:
    # a multi-row INSERT followed by more of the same. Row-by-row INSERTs (one row each) all count.
    count, previous = 0, None
    for sql in (q["sql"] for q in queries):
        head = sql.split(" VALUES ")[0]
        if not (previous and head == previous[0] and "), (" in previous[1]):
            count += 1
        previous = (head, sql)
    return count


def test_the_apply_step_makes_the_same_number_of_queries_for_5_or_60_rows(cast):
    assert _apply_queries(5) == _apply_queries(60)


def test_a_plan_with_errors_is_never_applied(cast):
    plan = staff_import.plan(staff_import.parse("Email\nnot-an-email\n"), cast.oakfield)
    with pytest.raises(ValueError):
        staff_import.apply(plan)


def test_the_next_seal_chains_the_imports_events_and_the_chain_verifies(cast, tmp_path, settings):
    """A minute later the sealer (Celery beat) chains the bulk-written events like any others."""
    from datetime import timedelta

    from accounts.audit import seal, verify

    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchor.log")
    path = write(tmp_path, "Email,Role\nnew.one@example.org,Volunteer\nnew.two@example.org,Governor\n")
    run_command(path, "--school", "oakfield", "--deactivate-missing")
    assert seal(margin=timedelta(0)) >= 3  # the import, two grants, the removals ...
    result = verify()
    assert result.ok, result.problem
    assert not AuditEvent.objects.filter(auditseal__isnull=True).exists()


def test_roles_changed_is_sent_once_with_what_was_granted_and_ended(cast, tmp_path):
    sent = []

    def listener(sender, **kwargs):
        sent.append(kwargs)

    staff_import.roles_changed.connect(listener)
    try:
        path = write(tmp_path, f"Email,Role\n{cast.sam.email},Teacher; Volunteer\n")
        run_command(path, "--school", "oakfield", "--deactivate-missing")
        run_command(path, "--school", "oakfield", "--deactivate-missing")  # nothing changes: nothing sent
    finally:
        staff_import.roles_changed.disconnect(listener)
    [kwargs] = sent
    assert kwargs["school"] == cast.oakfield
    assert kwargs["granted"] == [(cast.sam.pk, Role.VOLUNTEER)]
    assert {user for user, _ in kwargs["ended"]} == {cast.helen.pk, cast.dina.pk, cast.gary.pk, cast.carol.pk}
    assert kwargs["user_ids"] == sorted({cast.sam.pk, cast.helen.pk, cast.dina.pk, cast.gary.pk, cast.carol.pk})


def test_deactivate_missing_with_a_file_listing_nobody_is_refused(cast, tmp_path):
    before = snapshot()
    out, status = run_command(
        write(tmp_path, "Email,Name,Role\n\n"), "--school", "oakfield", "--deactivate-missing", "--json"
    )
    assert status == 1
    assert json.loads(out)["errors"] == [
        {"line": 1, "message": "The file lists nobody: ending everyone's roles is refused."}
    ]
    assert snapshot() == before
    out, status = run_command(write(tmp_path, "Email,Name,Role\n"), "--school", "oakfield", "--json")
    assert status == 0 and json.loads(out)["errors"] == []  # without --deactivate-missing: nothing to do
