from django.core.management.base import BaseCommand
from django.utils import timezone

from policyhub.tasks import heartbeat


class Command(BaseCommand):
    help = "Queue a heartbeat task; a running worker records it (admin: Liveness)."

    def add_arguments(self, parser):
        parser.add_argument("--countdown", type=int, default=0, help="seconds the worker waits before running it")

    def handle(self, *args, countdown, **options):
        kwargs = {"sent_at": timezone.now().isoformat(), "countdown": countdown}
        heartbeat.apply_async(kwargs=kwargs, countdown=countdown)
        self.stdout.write(f"Sent a heartbeat task with a {countdown}-second countdown.")
