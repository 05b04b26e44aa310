import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Membership, Role, School
from policyhub import services
from policyhub.importer import DEFAULT_MAX_BYTES, PolicyImportError, import_document


class Command(BaseCommand):
    help = (
        "Import a policy document (.txt, .docx or .pdf) as a draft version of a school's own policy. "
        "--json prints the parsed sections and clauses (and nothing else) instead of a summary."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The policy document.")
        parser.add_argument("--school", required=True, help="The school's slug, e.g. oakfield.")
        parser.add_argument("--title", default="", help="Title of the school's policy, if it has none yet.")
        parser.add_argument("--dry-run", action="store_true", help="Parse and report; save nothing.")
        parser.add_argument("--json", action="store_true", help='Print {"sections": [...]} to stdout.')

    def handle(self, *args, path, school, title, dry_run, json: bool, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"There is no file at {path}.")
        if file.stat().st_size > DEFAULT_MAX_BYTES:
            raise CommandError(f"{file.name}: the file is too large to import (over {DEFAULT_MAX_BYTES} bytes).")
        try:
            parsed = import_document(file.read_bytes(), file.name)
        except PolicyImportError as error:
            raise CommandError(f"{file.name}: {error}") from None
        school_obj = School.objects.filter(slug=school).first()
        if school_obj is None:
            raise CommandError(f"There is no school with the slug {school!r}.")
        if json:
            self.stdout.write(_dumps(parsed.to_dict()))
        if dry_run:
            if not json:
                self._summary(parsed, "Would import")
            return
        head = Membership.objects.filter(school=school_obj, role=Role.HEAD, user__is_active=True).first()
        if head is None:
            raise CommandError(f"{school_obj.name} has no head teacher to record as the importer.")
        try:
            version = services.policy_import_draft(
                actor=head.user,
                owner=school_obj,
                structure=parsed.to_dict(),
                title=title or parsed.title or "",
                source_name=file.name,
            )
        except services.PolicyStateError as error:
            raise CommandError(f"{file.name}: {error}") from None
        if not json:
            self._summary(parsed, "Imported")
            self.stdout.write(f"Saved as draft version {version.number} of “{version.policy}” (id {version.pk}).")

    def _summary(self, parsed, verb):
        clauses = sum(len(s.clauses) for s in parsed.sections)
        self.stdout.write(f"{verb} {len(parsed.sections)} sections and {clauses} clauses.")
        n = parsed.unsure_count
        self.stdout.write(f"Confidence {parsed.confidence:.0%}: unsure in {n} place{'' if n == 1 else 's'}.")
        for doubt in parsed.doubts:  # the places to check first
            self.stdout.write(f"  Check {doubt.ref or 'the line “' + doubt.line + '”'}: {doubt.reason}")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
