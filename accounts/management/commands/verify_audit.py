from django.core.management.base import BaseCommand, CommandError

from accounts.audit import seal, verify


class Command(BaseCommand):
    help = "Check the audit trail's hash chain and its anchor; exits non-zero naming the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("--seal", action="store_true", help="seal new events first (as the beat task does)")

    def handle(self, *args, **options):
        if options["seal"]:
            seal()
        result = verify()
        if not result.ok:
            raise CommandError(f"Audit trail broken after {result.checked} good events: {result.problem}")
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {result.checked} sealed events verified."))
