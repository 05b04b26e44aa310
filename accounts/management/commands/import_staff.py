"""python manage.py import_staff PATH --school SLUG [--dry-run] [--deactivate-missing] [--json]

The same rules and preview as the page (accounts/staff_import.py). Any error: nothing is saved and
the exit status is 1. With --json, stdout is exactly the JSON object (errors included); the leavers'
open cases and other holdings are printed only without --json (the JSON's shape is fixed)."""

import json

from django.core.management.base import BaseCommand, CommandError

from accounts import staff_import
from accounts.models import Role, School


class Command(BaseCommand):
    help = "Import a school's staff list (CSV from the MIS): add people and their roles at the school."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV file.")
        parser.add_argument("--school", required=True, help="The school's slug.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; save nothing.")
        parser.add_argument(
            "--deactivate-missing",
            action="store_true",
            help="End the roles at this school of people not in the file (users are never deleted).",
        )
        parser.add_argument("--json", action="store_true", help="Print only the result as one JSON object.")

    def handle(self, *args, path, school, dry_run, deactivate_missing, json: bool, **options):
        problem = None
        school_obj = School.objects.filter(slug=school).first()
        if school_obj is None:
            problem = f"No school with the slug {school!r}."
        else:
            try:
                with open(path, "rb") as f:
                    data = f.read(staff_import.MAX_BYTES + 1)
            except OSError as exc:
                problem = f"Cannot read {path}: {exc.strerror or exc}."
        if problem is not None:
            self._finish(json, {"created": 0, "updated": 0, "unchanged": 0, "deactivated": 0, "errors": []}, problem)
            return
        outcome = staff_import.run(
            data, school_obj, deactivate_missing=deactivate_missing, dry_run=dry_run, via="command"
        )
        result = outcome.plan
        if not json:
            self._report(result, outcome.applied, dry_run)
        self._finish(json, result.as_json(), None)

    def _finish(self, as_json: bool, payload: dict, problem: str | None):
        if problem is not None:
            payload["errors"].append({"line": 0, "message": problem})
        if as_json:
            self.stdout.write(json_dumps(payload))
        elif problem is not None:
            self.stdout.write(f"Error: {problem}")
        if payload["errors"]:
            raise CommandError(f"{len(payload['errors'])} error(s): nothing was saved.", returncode=1)

    def _report(self, result, applied: bool, dry_run: bool):
        counts = result.counts()
        verb = "Would import" if dry_run or not applied else "Imported"
        self.stdout.write(
            f"{verb} at {result.school.slug}: created {counts['created']}, updated {counts['updated']},"
            f" unchanged {counts['unchanged']}, deactivated {counts['deactivated']}."
        )
        for error in result.errors:
            self.stdout.write(f"Line {error.line}: {error.message}")
        for leaver in result.leavers:
            roles = ", ".join(str(Role(r).label) for r in leaver.roles)
            self.stdout.write(f"Leaving: {leaver.user.email} (user {leaver.user.pk}; {roles})")
            for item in leaver.holdings:
                self.stdout.write(f"  leaves behind: {item.kind} {item.label} {item.url}".rstrip())
        if dry_run and not result.errors:
            self.stdout.write("Dry run: nothing was saved.")


def json_dumps(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)
