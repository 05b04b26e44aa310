"""The demo staff social-media policy (original wording), published and partly acknowledged.

Written for PolicyHub's demo trust; it borrows no sentences from real policies. It is numbered the
way real policies are (sections 1-10, clauses 1.1, sub-clauses 7.4.1) and touches every topic in
policyhub/topics.py, so search, topics and the incidents journeys have something real to work on.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Role

from . import review
from .importer import suggest_topics
from .models import Acknowledgement, Policy, PolicyAdoption, PolicyVersion, VersionStatus
from .services import _write_structure

TITLE = "Staff social-media policy"


def demo_dates(today: dt.date) -> tuple[dt.date, dt.date]:
    """(effective, next review) for a demo seeded on `today`: in force from the 1 September at least
    a year back, so the demo's cases (some from the previous term: reporting/demo.py) fall under it,
    and due for review on the first 1 September after `today`, so a new demo does not open with
    "Review overdue"."""
    a_year_back = today - dt.timedelta(days=365)
    effective = dt.date(a_year_back.year, 9, 1)
    if effective > a_year_back:
        effective = effective.replace(year=effective.year - 1)
    review = dt.date(today.year, 9, 1)
    if review <= today:
        review = review.replace(year=review.year + 1)
    return effective, review


SECTIONS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("1", "Purpose and scope", [
        ("1.1", "This policy sets out how everyone who works for the trust and its schools uses social media, "
                "both for school business and in their private lives, so that pupils are kept safe and staff are "
                "protected from misunderstanding."),
        ("1.2", "It applies to teaching and support staff, trainees, supply and agency staff, volunteers, "
                "contractors and governors whenever they act on behalf of a school."),
        ("1.3", "Social media means any website or app that lets people share content or talk to each other, "
                "including messaging apps, video platforms, forums and gaming chat."),
    ]),
    ("2", "Roles and responsibilities", [
        ("2.1", "The headteacher makes sure staff know this policy, records that they have read each new "
                "version, and decides how concerns raised under it are handled."),
        ("2.2", "The designated safeguarding lead is told straight away about any concern that a child may "
                "be at risk, and leads the school's response to it."),
        ("2.3", "Every member of staff reads this policy, acknowledges each new version in PolicyHub, and "
                "reports any concern about online conduct without delay."),
    ]),
    ("3", "Personal use of social media", [
        ("3.1", "Staff may use social media in their own time. They should keep their personal accounts "
                "private, check their privacy settings each term and think before they post."),
        ("3.2", "Staff must not post anything that could bring their school or the trust into disrepute, "
                "including offensive, discriminatory or threatening material."),
        ("3.3", "Staff must not name their school, colleagues or pupils in personal posts about their work, "
                "and must not express personal views as if they were the school's views."),
        ("3.4", "Personal devices and accounts are not used for social media while staff are responsible "
                "for pupils; personal use during the working day is kept to breaks and to areas away from pupils."),
    ]),
    ("4", "Contact with pupils and former pupils", [
        ("4.1", "Staff must not accept or send friend or follow requests to pupils on personal accounts, and "
                "must not contact pupils through personal social media, messaging apps or email."),
        ("4.2", "Contact with former pupils under the age of 18 follows the same rule. Any existing "
                "connection with a pupil, for example a family relationship, is declared to the headteacher."),
        ("4.3", "If a pupil tries to contact a member of staff online, the member of staff does not reply "
                "and tells the designated safeguarding lead the same day."),
    ]),
    ("5", "Contact with parents and carers", [
        ("5.1", "Staff should not become social-media friends with parents and carers of pupils at their "
                "school. Where a connection already exists, for example a relative or neighbour, it is declared "
                "to the headteacher."),
        ("5.2", "School business is never discussed with parents or carers through personal accounts; staff "
                "direct them to the school's office or official channels."),
        ("5.3", "Parents and carers are asked not to post images of other people's children taken at school "
                "events, and to raise any concern with the school rather than on social media."),
    ]),
    ("6", "Images and video", [
        ("6.1", "Photographs and video of pupils are taken only on school equipment and only of pupils whose "
                "parents or carers have given consent."),
        ("6.2", "Images of pupils are published only on the school's approved accounts, without surnames or "
                "any detail that would let a stranger find a child."),
        ("6.3", "Staff must not keep images of pupils on personal phones or in personal cloud storage."),
    ]),
    ("7", "School social-media accounts", [
        ("7.1", "A school account is set up only with the headteacher's written approval, stating its aim, "
                "its audience and how it will be promoted."),
        ("7.2", "Each school account is run by at least two named members of staff, and the school keeps a "
                "register of its accounts, their runners and their login details."),
        ("7.3", "When a runner leaves the school, their access is removed and the account is handed over or "
                "closed."),
        ("7.4", "Comments, queries and complaints received on a school account are handled as follows:"),
        ("7.4.1", "A comment, query or complaint is answered within 24 hours, or on the next working day if "
                  "it arrives at a weekend, even if the first answer only acknowledges receipt."),
        ("7.4.2", "Complaints are moved off the public page and dealt with under the school's complaints "
                  "procedure."),
        ("7.4.3", "Abusive or offensive comments are hidden, kept as evidence with a screenshot, and reported "
                  "to the headteacher."),
        ("7.5", "Staff must not post about school business on any channel the school does not manage without "
                "the headteacher's authorisation."),
    ]),
    ("8", "Confidentiality, data protection and the law", [
        ("8.1", "Staff must not share confidential information about pupils, families, colleagues or the "
                "school online. Personal data is handled in line with UK GDPR and the trust's data-protection "
                "policy."),
        ("8.2", "A suspected data breach involving social media is reported at once to the headteacher and "
                "the data-protection officer."),
        ("8.3", "Staff must not post anything that is defamatory, that infringes copyright or that breaks the "
                "law; doing so may lead to legal action against them personally."),
        ("8.4", "Enquiries from journalists or other media about anything posted online are passed to the "
                "headteacher; staff do not comment to the press on the school's behalf."),
    ]),
    ("9", "Safeguarding, cyberbullying and harmful content", [
        ("9.1", "Any concern that a child is at risk of harm, including contact that looks like grooming, is "
                "reported to the designated safeguarding lead immediately, in line with Keeping Children Safe "
                "in Education."),
        ("9.2", "Concerns about radicalisation or extremist material seen online are reported to the "
                "designated safeguarding lead under the Prevent duty."),
        ("9.3", "Staff who find indecent images of children or other illegal content must not copy, forward "
                "or screenshot it; they tell the designated safeguarding lead, who involves the police."),
        ("9.4", "Staff who are bullied, harassed or trolled online by pupils, parents or anyone else report "
                "it to the headteacher, who will support them and act to have the content removed."),
    ]),
    ("10", "Monitoring and breaches of this policy", [
        ("10.1", "The school may monitor the use of its own devices, networks and accounts, in line with its "
                 "acceptable-use policy and data-protection law."),
        ("10.2", "A breach of this policy may lead to action under the staff disciplinary procedure and, for "
                 "volunteers, to the end of their placement. Serious breaches may be referred to the local "
                 "authority designated officer or the police."),
        ("10.3", "This policy is reviewed at least every two years, or sooner if the law or guidance changes, "
                 "and each new version is acknowledged by all staff."),
    ]),
]  # fmt: skip


def demo_structure() -> dict:
    """The demo policy as structure data (parents from the refs, topics from the importer's rules)."""
    sections = []
    for number, heading, clauses in SECTIONS:
        rows = []
        for ref, text in clauses:
            parent = ref.rsplit(".", 1)[0] if ref.count(".") >= 2 else None
            rows.append({"ref": ref, "text": text, "parent": parent, "topics": suggest_topics(text)})
        sections.append({"number": number, "heading": heading, "clauses": rows})
    return {"sections": sections}


@transaction.atomic
def seed_policy(*, trust, schools):
    """Idempotent: the trust's model policy, version 1 in force, adopted by every demo school.

    The head and DSL of each school have acknowledged it; the other staff have not, so the banner,
    the compliance table and the reminders all have something to show.
    """
    policy, _ = Policy.objects.get_or_create(trust=trust, title=TITLE)
    if not policy.versions.exists():
        approver = Membership.objects.filter(school__trust=trust, role=Role.TRUST_ADMIN).first()
        version = PolicyVersion.objects.create(
            policy=policy, number=1, created_by=approver.user if approver else None, source_name="demo policy"
        )
        _write_structure(version, demo_structure())
        effective, next_review = demo_dates(timezone.localdate())
        PolicyVersion.objects.filter(pk=version.pk).update(
            status=VersionStatus.ACTIVE,
            effective_date=effective,
            next_review_date=next_review,
            approved_by=approver.user if approver else None,
            published_at=timezone.now(),
        )
    version = policy.versions.filter(status=VersionStatus.ACTIVE).first()
    review.schedule_missing(timezone.now())  # its review date is a clock, as if published through the service
    for school in schools.values():
        PolicyAdoption.objects.get_or_create(school=school, defaults={"policy": policy})
        if version is None:
            continue
        for membership in Membership.objects.filter(school=school, role__in=[Role.HEAD, Role.DSL]):
            Acknowledgement.objects.get_or_create(user=membership.user, version=version)
