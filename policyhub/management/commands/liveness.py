import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from policyhub.liveness import HEALTHY, liveness_state
from policyhub.models import Liveness


class Command(BaseCommand):
    help = (
        "Health check for the worker and beat containers: exits 0 when the beat's deadline sweep ran within "
        "--max-age seconds (or a new installation is still in its first five minutes), 1 otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--max-age", type=int, default=300, help="seconds since the last sweep (default 300)")

    def handle(self, *args, max_age, **options):
        if max_age < 1:
            raise CommandError("--max-age must be a whole number of seconds, at least 1.")
        try:
            state = liveness_state(now=timezone.now(), max_age=dt.timedelta(seconds=max_age))
            row = Liveness.objects.get()
        except DatabaseError as exc:
            raise CommandError(f"unavailable: the database did not answer ({type(exc).__name__})") from None
        if state not in HEALTHY:
            raise CommandError(f"stale: no deadline sweep in the last {max_age} seconds ({row})")
        self.stdout.write(f"{state}: {row}")
