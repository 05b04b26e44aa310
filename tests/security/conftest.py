"""The attack tests' world: the shared cast (tests/conftest.py), a few more people so that every
visibility rule has someone whom that rule alone keeps out, and cases in every relation.

Built through the services (tests/incidents/factories.py) wherever the services can build it, so
routing, timeline and notifications are the real ones.
"""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.models import Membership, Role
from incidents import assignments, services
from incidents.clocks import school_calendar
from incidents.models import (
    Category,
    Evidence,
    GovernorReview,
    Incident,
    Involved,
    Outcome,
    ReviewDecision,
    Status,
    Task,
)
from policyhub.models import Clause, Policy, PolicyAdoption, PolicyVersion, Section, VersionStatus
from tests.factories import person
from tests.incidents.factories import IncidentFactory, advance, build_cases, fresh, report, upload


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The people's passwords hashed with a fast hasher: these tests are about access, not hashing.
    Autouse, so it runs before `cast` hashes anything."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in(client, user):
    """Sign `client` in as `user`, with the session's second factor verified where two-factor
    sign-in is in force (tests/auth.py); plain force_login where it is not."""
    try:
        from tests.auth import verified_login
    except ImportError:  # two-factor sign-in not in this tree
        client.force_login(user)
    else:
        verified_login(client, user)


def _trust_policy(trust, schools):
    """The trust's model policy, in force at both schools (v1), with a draft v2 only the trust
    admin manages."""
    policy = Policy.objects.create(trust=trust, title="Riverside model social-media policy")
    v1 = PolicyVersion.objects.create(
        policy=policy, number=1, status=VersionStatus.ACTIVE, effective_date=date(2025, 9, 1)
    )
    section = Section.objects.create(version=v1, number="7", heading="Images and parents", order=1)
    clauses = [
        Clause.objects.create(version=v1, section=section, ref=ref, text=text, order=order, topics=[])
        for order, (ref, text) in enumerate(
            [
                ("7.1", "Staff must not accept pupils as friends on personal social media."),
                ("7.2", "Parents are asked not to post images of other children taken at school events."),
            ],
            start=1,
        )
    ]
    v2 = PolicyVersion.objects.create(policy=policy, number=2, status=VersionStatus.DRAFT)
    s2 = Section.objects.create(version=v2, number="7", heading="Images and parents (draft)", order=1)
    draft_clause = Clause.objects.create(version=v2, section=s2, ref="7.1", text="Draft wording.", order=1, topics=[])
    for school in schools:
        PolicyAdoption.objects.create(school=school, policy=policy)
    return policy, v1, v2, clauses, draft_clause


def _school_draft(school, title):
    """A school's own policy, in draft only (not adopted): its heads manage it, nobody else reads it."""
    policy = Policy.objects.create(school=school, title=title)
    version = PolicyVersion.objects.create(policy=policy, number=1, status=VersionStatus.DRAFT)
    section = Section.objects.create(version=version, number="1", heading="Purpose", order=1)
    clause = Clause.objects.create(
        version=version, section=section, ref="1.1", text="This policy applies to all staff.", order=1, topics=[]
    )
    return policy, version, clause


@pytest.fixture
def world(cast):
    """The cast, five more people, three policies and twelve cases (see CASES in
    test_access_matrix.py for who may see each)."""
    w = SimpleNamespace(**vars(cast))
    # A co-head (or acting head) at Oakfield: a head who is not Helen.
    w.hugo = person("Hugo Hale", cast.oakfield, Role.HEAD, Role.STAFF)
    # A second member of staff at Oakfield who reported nothing.
    w.rita = person("Rita Rowe", cast.oakfield, Role.STAFF)
    # Brookside's DSL, chair and governor: each the right role at the wrong school.
    w.bea = person("Bea Brook", cast.brookside, Role.DSL, Role.STAFF)
    w.colin = person("Colin Cole", cast.brookside, Role.CHAIR)
    w.greta = person("Greta Gale", cast.brookside, Role.GOVERNOR)
    # Role combinations (test_access_matrix.py): a co-head who is also DSL and governor; a member of
    # staff made acting head after a report about him; a subject with roles in two schools (staff
    # at Oakfield, head at Brookside); a DPO and a trust admin who are also staff, and subjects.
    w.hana = person("Hana Hill", cast.oakfield, Role.HEAD, Role.DSL, Role.GOVERNOR, Role.STAFF)
    w.adam = person("Adam Ash", cast.oakfield, Role.STAFF)
    w.vera = person("Vera Vale", cast.oakfield, Role.STAFF, email="vera@example.org")
    Membership.objects.create(user=w.vera, school=cast.brookside, role=Role.HEAD)
    Membership.objects.create(user=w.vera, school=cast.brookside, role=Role.STAFF)
    w.dora = person("Dora Dunn", cast.oakfield, Role.DPO, Role.STAFF)
    w.tina = person("Tina Todd", cast.oakfield, Role.TRUST_ADMIN, Role.STAFF)

    w.trust_policy, w.trust_v1, w.trust_v2, w.clauses, w.trust_draft_clause = _trust_policy(
        cast.trust, [cast.oakfield, cast.brookside]
    )
    w.oak_policy, w.oak_draft, w.oak_draft_clause = _school_draft(cast.oakfield, "Oakfield's own policy")
    w.brk_policy, w.brk_draft, w.brk_draft_clause = _school_draft(cast.brookside, "Brookside's own policy")

    cases = build_cases(cast)
    cases["about_hugo"] = report(
        cast.oakfield,
        cast.sam,
        category=Category.STAFF_CONDUCT,
        involved=Involved.STAFF,
        subject=w.hugo,
        description="The deputy head shares pupils' photos in a WhatsApp group.",
        files=[upload()],
    )
    cases["child_at_risk"] = report(cast.oakfield, cast.sam, child_at_risk=True, files=[upload()])
    cases["proposed"] = advance(report(cast.oakfield, cast.sam), Status.OUTCOME_PROPOSED, cast)
    cases["closed_nobreach"] = advance(report(cast.oakfield, cast.sam), Status.CLOSED, cast, outcome=Outcome.NO_BREACH)
    cases["closed_upheld"] = advance(
        report(cast.oakfield, cast.sam), Status.CLOSED, cast, outcome=Outcome.PARENT_ASKED, clauses=[w.clauses[0]]
    )
    escalated = report(cast.oakfield, cast.sam)
    Incident.objects.filter(pk=escalated.pk).update(escalated_at=timezone.now())
    cases["escalated"] = escalated
    # Brookside's upheld breach, citing the trust's clause 7.1 too (made directly: Oakfield's cast
    # cannot walk a Brookside case through the services).
    brk = IncidentFactory(
        school=cast.brookside,
        reporter=cast.bethan,
        owner=cast.olive,
        status=Status.CLOSED,
        outcome=Outcome.PARENT_ASKED,
        response_due_at=None,
        received_at=timezone.now() - timedelta(days=3),
    )
    brk.clauses.add(w.clauses[0])
    GovernorReview.objects.create(incident=brk, decision=ReviewDecision.UPHOLD, decided_by=w.greta)
    cases["brookside_upheld"] = brk

    def about(subject, school=cast.oakfield, reporter=cast.sam, **kwargs):
        kwargs.setdefault("category", Category.STAFF_CONDUCT)
        return report(school, reporter, involved=Involved.STAFF, subject=subject, files=[upload()], **kwargs)

    cases["safeguarding_helen"] = about(cast.helen, category=Category.SAFEGUARDING)
    # Dina (the DSL) reported Helen; the chair walked it to the board; Gary then declared a conflict:
    # with Carol (its owner) and Hana (a head) out, the trust decides it.
    review_helen = advance(about(cast.helen, reporter=cast.dina), Status.GOVERNOR_REVIEW, cast)
    services.incident_declare_conflict(incident=review_helen, actor=cast.gary, reason="A friend of the family.")
    cases["review_about_helen"] = review_helen
    cases["about_adam"] = about(w.adam, category=Category.SAFEGUARDING)
    cases["closed_adam"] = advance(about(w.adam), Status.CLOSED, cast, outcome=Outcome.NO_BREACH)
    Membership.objects.create(user=w.adam, school=cast.oakfield, role=Role.HEAD)  # acting head, after both
    cases["about_vera"] = about(w.vera)
    cases["brookside_about_vera"] = about(w.vera, school=cast.brookside, reporter=cast.bethan)
    cases["about_dora"] = about(w.dora)
    cases["about_tina"] = about(w.tina)
    # Linked and merged reports (incidents/merging.py): Rita reported the same parent's post twice
    # more; Helen merged one into the child-at-risk case (the DSL owns that one, not Rita's) and one
    # into the case escalated to the chair. Each keeps its reporter, text and file.
    from incidents import merging
    from incidents.references import parse

    for key, survivor in (("merged", "child_at_risk"), ("merged_escalated", "escalated")):
        merged = report(cast.oakfield, w.rita, files=[upload()])
        merging.incident_merge(incident=merged, actor=cast.helen, into=parse(cases[survivor].reference))
        cases[key] = merged
    w.cases = {key: fresh(incident) for key, incident in cases.items()}
    # The reporter's own file on each case, and on "parent" a second file the head added.
    w.evidence = {
        key: Evidence.objects.filter(incident=c, uploaded_by=c.reporter).first() for key, c in w.cases.items()
    }
    w.head_file = services.evidence_add(incident=w.cases["parent"], actor=cast.helen, files=[upload("head.png")])[0]
    _tasks(w)
    return w


def _tasks(w):
    """Tasks on cases ([8], incidents/assignments.py): open ones give their assignee the case, closed
    ones nothing; a head or DSL on a case about a head, or someone of another school, nothing even
    with an open task (made directly: the service refuses them)."""
    due = school_calendar(w.oakfield).add_working_days(timezone.localdate(), 3)
    c = w.cases

    def give(case, by, to, title="A task"):
        return assignments.task_assign(incident=fresh(case), actor=by, assignee=to, title=title, due_on=due)

    give(c["parent"], w.helen, w.rita)  # Rita, staff: sees the parent's post
    give(c["child_at_risk"], w.helen, w.sam)  # Sam reported it and works on it too
    give(c["about_helen"], w.carol, w.rita)  # a case about the head: the chair gives it
    done = give(c["about_sam"], w.helen, w.rita)
    assignments.task_complete(incident=fresh(c["about_sam"]), actor=w.rita, task=done, outcome="Done.")
    cancelled = give(c["proposed"], w.helen, w.rita)
    assignments.task_cancel(incident=fresh(c["proposed"]), actor=w.helen, task=cancelled, reason="Not needed.")
    for case, to in [(c["about_helen"], w.hana), (c["safeguarding_helen"], w.dina), (c["parent"], w.bethan)]:
        Task.objects.create(
            incident=case,
            assignee=to,
            assigned_by=w.carol,
            title="Made directly",
            due_on=due,
            due_at=timezone.now() + timedelta(days=3),
        )
