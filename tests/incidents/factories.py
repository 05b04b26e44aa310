"""Incidents for tests: `report` goes through the service (routing, clocks, timeline); the factory
makes plain rows fast, for list pages at size."""

import itertools
from datetime import date, timedelta

import factory
from django.utils import timezone

from incidents import services
from incidents.models import Category, Incident, Involved, Platform, Status
from policyhub.models import Clause, Policy, PolicyAdoption, PolicyVersion, Section, VersionStatus

_sequence = itertools.count(1)


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    sequence = factory.LazyFunction(lambda: next(_sequence))
    year = 2026
    reference = factory.LazyAttribute(lambda o: f"{o.school.code}-{o.year}-{o.sequence:04d}")
    category = Category.PARENT_POST
    platform = Platform.FACEBOOK
    seen_at = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    involved = Involved.PARENT
    description = "A post that worries me."
    child_at_risk = False
    status = Status.SUBMITTED
    response_due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=24))


def report(school, reporter, **kwargs) -> Incident:
    """A report made through the service, as the form would make it."""
    fields = {
        "category": Category.PARENT_POST,
        "platform": Platform.FACEBOOK,
        "description": "A parent posted photos of the class trip, with other children in them.",
        "seen_at": timezone.now() - timedelta(hours=1),
        "involved": Involved.PARENT,
        "child_at_risk": False,
    }
    fields.update(kwargs)
    return services.incident_report(reporter=reporter, school=school, **fields)


def policy_for(school, *, effective=date(2025, 9, 1)) -> PolicyVersion:
    """An active policy version with three clauses, adopted by `school`."""
    policy = Policy.objects.create(school=school, title=f"{school.name} staff social-media policy")
    PolicyAdoption.objects.create(school=school, policy=policy)
    version = PolicyVersion.objects.create(policy=policy, number=1, status=VersionStatus.ACTIVE, effective_date=effective)
    section = Section.objects.create(version=version, number="7", heading="Images and parents", order=1)
    texts = [
        ("7.1", "Staff must not accept pupils as friends on personal social media.", ["contact_pupils"]),
        ("7.2", "Parents are asked not to post images of other children taken at school events.", ["images"]),
        ("7.3", "Staff must not share confidential information about pupils online.", ["confidentiality"]),
    ]
    for order, (ref, text, topics) in enumerate(texts, start=1):
        Clause.objects.create(version=version, section=section, ref=ref, text=text, order=order, topics=topics)
    return version


def fresh(incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)
