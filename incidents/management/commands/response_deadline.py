from datetime import datetime
from json import dumps

from django.core.management.base import BaseCommand, CommandError

from accounts.models import School
from incidents.clocks import school_calendar
from incidents.deadlines import LONDON, NATIONS, Calendar, response_due


class Command(BaseCommand):
    help = "When is a report received at a given time due? Prints the due time (Europe/London) and the reason."

    def add_arguments(self, parser):
        parser.add_argument(
            "--received", required=True, help="ISO 8601, e.g. 2026-05-24T12:00 (local London time unless an offset)"
        )
        parser.add_argument("--nation", choices=NATIONS, help="bank holidays of this nation (default: the school's)")
        parser.add_argument("--school", help="slug of a school: its nation, closure days and close of business")
        parser.add_argument("--json", action="store_true", help='print {"due": ..., "reason": ...} and nothing else')

    def handle(self, *args, received, nation, school, json: bool, **options):
        try:
            when = datetime.fromisoformat(received)
        except ValueError:
            raise CommandError(
                f"--received must be an ISO 8601 date and time, e.g. 2026-05-24T12:00, not {received!r}"
            ) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=LONDON)
        if school:
            found = School.objects.filter(slug=school).first()
            if found is None:
                raise CommandError(f"No school with the slug {school!r}.")
            calendar = school_calendar(found)
            if nation and nation != found.nation:
                calendar = Calendar(nation, closures=calendar.closures)
            deadline = response_due(when, calendar, close_of_business=found.close_of_business)
        elif nation:
            deadline = response_due(when, Calendar(nation))
        else:
            raise CommandError("Give --nation or --school.")
        due = deadline.due_local().isoformat()
        if json:
            self.stdout.write(dumps({"due": due, "reason": deadline.reason}, ensure_ascii=False))
        else:
            self.stdout.write(f"{due}\n{deadline.reason}")
