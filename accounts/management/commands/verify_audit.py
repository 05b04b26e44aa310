from django.core.management.base import BaseCommand, CommandError

from accounts.audit import AnchorFileError, read_anchors, seal, verify


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain against every anchor line; exits non-zero naming the first event "
        "that no longer matches."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seal", action="store_true", help="seal new events first (as the beat task does)")
        parser.add_argument(
            "--anchors",
            metavar="FILE",
            help="check against this copy of the anchors instead (e.g. the shipped log's 'audit anchor' lines)",
        )

    def handle(self, *args, **options):
        if options["seal"]:
            seal()
        anchors = None
        if options["anchors"]:
            try:
                anchors = read_anchors(options["anchors"])
            except (AnchorFileError, OSError) as exc:
                raise CommandError(f"Cannot read the anchors in {options['anchors']}: {exc}") from None
        result = verify(anchors=anchors)
        if not result.ok:
            raise CommandError(f"Audit trail broken after {result.checked} good events: {result.problem}")
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {result.checked} sealed events verified."))
