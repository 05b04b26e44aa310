import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from policyhub.demo import DEFAULT_DEMO_PASSWORD, DEMO_PASSWORD_ENV, seed


class Command(BaseCommand):
    help = "Load the demo trust, schools and users (safe to run again: nothing is duplicated)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to load demo data (with its known password) into a production site.")
        logins = seed()
        password = os.environ.get(DEMO_PASSWORD_ENV, DEFAULT_DEMO_PASSWORD)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in with any of these:"))
        width = max(len(login.email) for login in logins)
        for login in logins:
            self.stdout.write(f"  {login.email:<{width}}  {', '.join(login.roles)}")
        self.stdout.write(f"Password for every demo account: {password} (set {DEMO_PASSWORD_ENV} to change it)")
