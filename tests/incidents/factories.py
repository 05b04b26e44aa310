"""Incidents for tests: `report` goes through the service (routing, clocks, timeline); the factory
makes plain rows fast, for list pages at size."""

from datetime import date, timedelta

import factory
import pytest
from django.utils import timezone

from incidents import services, takedowns
from incidents.models import Category, Incident, Involved, Platform, Status
from policyhub.models import Clause, Policy, PolicyAdoption, PolicyVersion, Section, VersionStatus


def sign_in(client, user):
    """force_login, with the session's second factor verified where two-factor sign-in is in force
    (tests/auth.py); plain force_login where it is not."""
    try:
        from tests.auth import verified_login
    except ImportError:
        client.force_login(user)
    else:
        verified_login(client, user)


@pytest.fixture
def fast_passwords(settings):
    """The cast's nine passwords hashed with a fast hasher: the tests here are about cases, not hashing.
    Import it into a test module and name it in `usefixtures`, before `cast` is built."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

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
    """An active policy version with three clauses, adopted by `school` (the one it has, if any)."""
    existing = PolicyVersion.objects.for_school(school).filter(status=VersionStatus.ACTIVE).first()
    if existing is not None:
        return existing
    policy = Policy.objects.create(school=school, title=f"{school.name} staff social-media policy")
    PolicyAdoption.objects.create(school=school, policy=policy)
    version = PolicyVersion.objects.create(
        policy=policy, number=1, status=VersionStatus.ACTIVE, effective_date=effective
    )
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


def facebook_takedown(incident, actor):
    """A take-down request to Facebook for the case's post, recorded by `actor` today."""
    return takedowns.takedown_request(
        incident=fresh(incident),
        actor=actor,
        platform=Platform.FACEBOOK,
        url="https://www.facebook.com/groups/x/posts/1",
        requested_on=timezone.localdate(),
        platform_reference="FB-1",
    )


def png_bytes(size=(40, 30), color=(200, 30, 30), **save_kwargs) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG", **save_kwargs)
    return out.getvalue()


def upload(name="screenshot.png", data=None, content_type="image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, png_bytes() if data is None else data, content_type=content_type)


def advance(incident, to: str, cast, *, outcome=None, clauses=()):
    """Walk a case through the services to `to`, as its owners would (head or chair; governors)."""
    from incidents.models import Outcome, ReviewDecision, Route, Severity, Status

    order = [
        Status.SUBMITTED,
        Status.TRIAGE,
        Status.INVESTIGATING,
        Status.OUTCOME_PROPOSED,
        Status.GOVERNOR_REVIEW,
        Status.CLOSED,
    ]
    owner = cast.carol if incident.subject_is_head else cast.helen
    governor = cast.gary
    breach = outcome not in (Outcome.NO_BREACH, Outcome.ADVICE)
    outcome = outcome or Outcome.PARENT_ASKED
    target = order.index(to)
    if target >= 1 and incident.status == Status.SUBMITTED:
        services.incident_acknowledge(incident=fresh(incident), actor=owner)
    if target >= 2 and fresh(incident).status == Status.TRIAGE:
        harm = {}
        route = Route.BREACH
        if incident.involved == Involved.STAFF:
            harm = dict.fromkeys(
                ("harm_harmed_child", "harm_offence", "harm_risk_to_children", "harm_unsuitable"), False
            )
            harm["harm_reason"] = "No risk to children."
        services.incident_triage(
            incident=fresh(incident), actor=owner, severity=Severity.MEDIUM, route=route, clauses=list(clauses), **harm
        )
        services.incident_start_investigation(incident=fresh(incident), actor=owner)
    if target >= 3 and fresh(incident).status == Status.INVESTIGATING:
        services.incident_propose_outcome(incident=fresh(incident), actor=owner, outcome=outcome, reason="Because.")
    if to == Status.CLOSED and not breach:
        services.incident_close(incident=fresh(incident), actor=owner)
    elif target >= 4 and fresh(incident).status == Status.OUTCOME_PROPOSED:
        services.incident_refer_to_governors(incident=fresh(incident), actor=owner, summary="A breach; see reasons.")
        if to == Status.CLOSED:
            services.incident_governor_decide(incident=fresh(incident), actor=governor, decision=ReviewDecision.UPHOLD)
    incident = fresh(incident)
    assert incident.status == to, (incident.status, to)
    return incident


def build_cases(cast):
    """The visibility cast's cases, each with one evidence file uploaded by its reporter."""
    from incidents.models import Status

    cases = {
        "parent": report(cast.oakfield, cast.sam, files=[upload()]),
        "about_sam": report(
            cast.oakfield,
            cast.dina,
            category=Category.STAFF_CONDUCT,
            involved=Involved.STAFF,
            subject=cast.sam,
            files=[upload()],
        ),
        "about_helen": report(
            cast.oakfield,
            cast.sam,
            category=Category.STAFF_CONDUCT,
            involved=Involved.STAFF,
            subject=cast.helen,
            description="The head teacher follows Year 6 pupils on Instagram.",
            files=[upload()],
        ),
        "about_dina": report(
            cast.oakfield,
            cast.sam,
            category=Category.SAFEGUARDING,
            involved=Involved.STAFF,
            subject=cast.dina,
            files=[upload()],
        ),
        "review": report(cast.oakfield, cast.sam, files=[upload()]),
        "brookside": report(cast.brookside, cast.bethan, files=[upload()]),
    }
    cases["review"] = advance(cases["review"], Status.GOVERNOR_REVIEW, cast)
    return {key: fresh(value) for key, value in cases.items()}
