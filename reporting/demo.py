"""Demo rows for the governors' pack ([9]): each demo school's term dates (the current and previous
terms, as its nation's defaults; Brookside, in Wales, a day later than the default), and a few cases
received in the previous term, so the pack has figures in this term and the one before.

Idempotent: term rows are made when missing, and the previous term's cases are found by their
description. Made through the services, backdated with their `now`, as a real report would be.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone

from accounts.models import Role
from incidents import services
from incidents.deadlines import LONDON
from incidents.models import Category, Incident, Involved, Platform

from .models import TermDate
from .terms import Calendar, calendar_for

# (description, category, hours to the first response)
LAST_TERM = [
    ("[demo] Last term: a parent's post naming a teacher.", Category.PARENT_POST, 3),
    ("[demo] Last term: comments about staff under a pupil's video.", Category.CYBERBULLYING, 20),
    ("[demo] Last term: a reply on the school's page that needed an answer.", Category.ACCOUNT_COMMENT, 30),
]


def seed_reporting(*, schools, people):
    today = timezone.localdate()
    for slug, school in schools.items():
        calendar = Calendar(school.nation)
        shift = timedelta(days=1) if slug == "brookside" else timedelta(0)
        for term in calendar.recent(today, 3):
            TermDate.objects.get_or_create(
                school=school,
                year=term.year,
                term=term.key,
                defaults={"starts_on": term.starts_on + shift, "ends_on": term.ends_on},
            )
    oakfield = schools.get("oakfield")
    reporter, head = people.get(("oakfield", Role.STAFF)), people.get(("oakfield", Role.HEAD))
    if oakfield is None or reporter is None or head is None:
        return
    calendar = calendar_for(oakfield)
    previous = calendar.previous(calendar.containing(today))
    for n, (description, category, hours) in enumerate(LAST_TERM):
        if Incident.objects.filter(school=oakfield, description=description).exists():
            continue
        received = datetime.combine(previous.starts_on + timedelta(days=14 + 21 * n), time(9, 30), tzinfo=LONDON)
        incident = services.incident_report(
            reporter=reporter,
            school=oakfield,
            category=category,
            platform=Platform.FACEBOOK,
            description=description,
            seen_at=received - timedelta(hours=1),
            involved=Involved.PARENT,
            child_at_risk=False,
            now=received,
        )
        services.incident_acknowledge(incident=incident, actor=head, now=received + timedelta(hours=hours))
