from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from policyhub import dispatch


class Command(BaseCommand):
    help = "Queue a heartbeat task; a running worker records it (admin: Liveness)."

    def add_arguments(self, parser):
        parser.add_argument("--countdown", type=int, default=0, help="seconds the worker waits before running it")

    def handle(self, *args, countdown, **options):
        kwargs = {"sent_at": timezone.now().isoformat(), "countdown": countdown}
        try:
            queued = dispatch.queue(dispatch.HEARTBEAT, kwargs=kwargs, countdown=countdown)
        except ValueError as exc:  # a countdown beyond what the broker may hold
            raise CommandError(str(exc)) from exc
        if not queued:
            raise CommandError("The broker is unavailable; no heartbeat was sent.")
        self.stdout.write(f"Sent a heartbeat task with a {countdown}-second countdown.")
