"""Demo incidents in every state, including one about the head routed to the chair.

Made through the services, so each has its reference, timeline, deadlines and notifications as a
real one would. Idempotent: each demo case is found by its school and description and only made
when missing. policyhub/demo.py makes the people and passes them in (`people`): this module never
imports it back.
"""

from datetime import timedelta

from django.utils import timezone

from accounts.models import Role
from policyhub.models import PolicyVersion

from . import merging, services
from .models import Category, Incident, Involved, Outcome, Platform, ReferralKind, ReviewDecision, Route, Severity
from .references import parse

# (key, reporter role, fields, subject role, steps). Steps run in order; each is (service, kwargs).
DEMO = [
    (
        "parent-photos",
        Role.STAFF,
        {
            "category": Category.PARENT_POST,
            "platform": Platform.FACEBOOK,
            "involved": Involved.PARENT,
            "involved_detail": "A parent of a Year 4 pupil",
            "description": "[demo] A parent posted photos from the Year 4 trip that show other children's faces.",
        },
        None,
        [],
    ),
    (
        "head-befriends-pupils",
        Role.STAFF,
        {
            "category": Category.STAFF_CONDUCT,
            "platform": Platform.INSTAGRAM,
            "involved": Involved.STAFF,
            "description": "[demo] The head teacher appears to follow and message several Year 6 pupils.",
        },
        Role.HEAD,
        [],
    ),
    (
        "trolling",
        Role.STAFF,
        {
            "category": Category.CYBERBULLYING,
            "platform": Platform.TIKTOK,
            "involved": Involved.PUPIL,
            "description": "[demo] A video mocking a teacher, made by a pupil, is being shared in a class group.",
        },
        None,
        ["acknowledge"],
    ),
    (
        "low-level",
        Role.DSL,
        {
            "category": Category.STAFF_CONDUCT,
            "platform": Platform.WHATSAPP,
            "involved": Involved.STAFF,
            "description": "[demo] A colleague added parents to a personal WhatsApp group about a class event.",
        },
        Role.STAFF,
        ["acknowledge", "triage_low_level", "start_investigation"],
    ),
    (
        "pupil-post",
        Role.STAFF,
        {
            "category": Category.PUPIL_POST,
            "platform": Platform.SNAPCHAT,
            "involved": Involved.PUPIL,
            "description": "[demo] A pupil posted an offensive comment about the school's teachers.",
        },
        None,
        ["acknowledge", "triage_breach", "start_investigation", "propose_advice"],
    ),
    (
        "data-breach",
        Role.DSL,
        {
            "category": Category.DATA_BREACH,
            "platform": Platform.FACEBOOK,
            "involved": Involved.UNKNOWN,
            "description": "[demo] A class list with pupils' names was visible in a photo on a public page.",
        },
        None,
        ["acknowledge", "triage_breach", "start_investigation", "propose_breach", "refer"],
    ),
    (
        "media",
        Role.STAFF,
        {
            "category": Category.MEDIA_ENQUIRY,
            "platform": Platform.X,
            "involved": Involved.UNKNOWN,
            "description": "[demo] A local journalist asked about a post on the school's page.",
        },
        None,
        ["acknowledge", "triage_no_breach", "start_investigation", "propose_no_breach", "close"],
    ),
    (
        "upheld",
        Role.STAFF,
        {
            "category": Category.PARENT_POST,
            "platform": Platform.FACEBOOK,
            "involved": Involved.PARENT,
            "description": "[demo] A parent posted sports-day photos of other children and refused to remove them.",
        },
        None,
        ["acknowledge", "triage_breach", "start_investigation", "propose_breach", "refer", "uphold"],
    ),
    (
        "safeguarding",
        Role.STAFF,
        {
            "category": Category.SAFEGUARDING,
            "platform": Platform.SNAPCHAT,
            "involved": Involved.UNKNOWN,
            "child_at_risk": True,
            "description": "[demo] An adult stranger is messaging a pupil and asking to meet.",
        },
        None,
        ["acknowledge_dsl", "referral_social_care"],
    ),
    (
        "trolling-again",
        Role.DSL,
        {
            "category": Category.CYBERBULLYING,
            "platform": Platform.TIKTOK,
            "involved": Involved.PUPIL,
            "description": "[demo] The same video mocking a teacher, seen by a second member of staff.",
        },
        None,
        ["merge_into_trolling"],
    ),
]


def seed_incidents(*, schools, people):
    """Idempotent. Oakfield gets a case in every state; Brookside one waiting for a response.

    `schools` maps a school's slug to it; `people` maps (school slug, role) to the demo user.
    """
    oakfield = schools.get("oakfield")
    if oakfield is not None:
        for key, reporter_role, fields, subject_role, steps in DEMO:
            _seed_one(oakfield, "oakfield", key, reporter_role, fields, subject_role, steps, people)
    brookside = schools.get("brookside")
    if brookside is not None:
        _seed_one(
            brookside,
            "brookside",
            "brookside-parent",
            Role.STAFF,
            {
                "category": Category.PARENT_POST,
                "platform": Platform.FACEBOOK,
                "involved": Involved.PARENT,
                "description": "[demo] A parent complained publicly about a teacher by name.",
            },
            None,
            [],
            people,
        )


def _seed_one(school, slug, key, reporter_role, fields, subject_role, steps, people):
    if Incident.objects.filter(school=school, description=fields["description"]).exists():
        return
    reporter = people.get((slug, reporter_role))
    subject = people.get((slug, subject_role)) if subject_role else None
    if reporter is None or (subject_role and subject is None):
        return
    now = timezone.now()
    incident = services.incident_report(
        reporter=reporter,
        school=school,
        platform=fields["platform"],
        category=fields["category"],
        involved=fields["involved"],
        involved_detail=fields.get("involved_detail", ""),
        description=fields["description"],
        child_at_risk=fields.get("child_at_risk", False),
        seen_at=now - timedelta(hours=2),
        subject=subject,
        now=now,
    )
    head, dsl, governor = (people.get((slug, role)) for role in (Role.HEAD, Role.DSL, Role.GOVERNOR))
    version = PolicyVersion.objects.in_force_on(school, services.incident_date(incident))
    clauses = list(version.clauses.order_by("order")[:1]) if version else []
    if version and fields["category"] == Category.PARENT_POST:
        clauses = list(version.clauses.filter(text__icontains="images of other")[:1]) or clauses
    for step in steps:
        incident = Incident.objects.get(pk=incident.pk)
        _STEPS[step](incident=incident, head=head, dsl=dsl, governor=governor, clauses=clauses)


def _triage(route, severity=Severity.MEDIUM):
    def run(*, incident, head, clauses, **_):
        harm = {}
        if incident.involved == Involved.STAFF:
            harm = dict.fromkeys(
                ("harm_harmed_child", "harm_offence", "harm_risk_to_children", "harm_unsuitable"), False
            )
            harm["harm_reason"] = "No child was harmed or put at risk; the conduct breaches the policy's boundaries."
        services.incident_triage(incident=incident, actor=head, severity=severity, clauses=clauses, route=route, **harm)

    return run


def _merge_into(description):
    """Merge the report into the open case with this description (incidents/merging.py)."""

    def run(*, incident, head, **_):
        survivor = Incident.objects.get(school=incident.school, description=description)
        merging.incident_merge(incident=incident, actor=head, into=parse(survivor.reference))

    return run


def _propose(outcome, reason):
    def run(*, incident, head, **_):
        services.incident_propose_outcome(incident=incident, actor=head, outcome=outcome, reason=reason)

    return run


_STEPS = {
    "acknowledge": lambda *, incident, head, **_: services.incident_acknowledge(incident=incident, actor=head),
    "acknowledge_dsl": lambda *, incident, dsl, **_: services.incident_acknowledge(incident=incident, actor=dsl),
    "triage_low_level": _triage(Route.LOW_LEVEL, Severity.LOW),
    "triage_breach": _triage(Route.BREACH),
    "triage_no_breach": _triage(Route.NO_BREACH, Severity.LOW),
    "start_investigation": lambda *, incident, head, **_: services.incident_start_investigation(
        incident=incident, actor=head
    ),
    "propose_advice": _propose(Outcome.ADVICE, "The pupil and parents met the head; the post was removed."),
    "propose_no_breach": _propose(Outcome.NO_BREACH, "Answered by the head; no breach of the policy."),
    "propose_breach": _propose(Outcome.CONTENT_REMOVAL, "The content breached the policy; removal was requested."),
    "refer": lambda *, incident, head, **_: services.incident_refer_to_governors(
        incident=incident, actor=head, summary="A breach of the policy; removal requested and confirmed."
    ),
    "uphold": lambda *, incident, governor, **_: services.incident_governor_decide(
        incident=incident, actor=governor, decision=ReviewDecision.UPHOLD, comment="Upheld at the board meeting."
    ),
    "close": lambda *, incident, head, **_: services.incident_close(incident=incident, actor=head),
    "merge_into_trolling": _merge_into(
        "[demo] A video mocking a teacher, made by a pupil, is being shared in a class group."
    ),
    "referral_social_care": lambda *, incident, dsl, **_: services.referral_record(
        incident=incident, actor=dsl, kind=ReferralKind.SOCIAL_CARE, made_on=timezone.localdate(), reference="CSC-1042"
    ),
}
