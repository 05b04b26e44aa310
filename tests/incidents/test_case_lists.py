"""The owners' case page reads its lists from SQL written once (incidents/case_lists.py through
accounts.prepared.PreparedObjects): each list is what the related manager's queryset gives, row for
row, field for field, the related objects it selects included, in the same order, for one case and
then for another (each call runs with its own case), in one query."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals.models import AccountConcern, AccountStatus, OfficialAccount
from approvals.templatetags.approvals_tags import case_account
from incidents import case_lists, services, views
from incidents.models import (
    CaseLink,
    CaseMessage,
    EscalationRoute,
    GovernorReview,
    Incident,
    MessageKind,
    Referral,
    ReferralKind,
    ReviewDecision,
    TakedownStep,
    Task,
    TaskState,
    TimelineEntry,
    TimelineKind,
)
from tests.factories import person
from tests.incidents.factories import facebook_takedown, policy_for, report, upload

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict | None:
    if obj is None:
        return None
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _same(found: list, expected: list, related: tuple = ()) -> None:
    assert [type(o) for o in found] == [type(o) for o in expected]
    assert [_fields(o) for o in found] == [_fields(o) for o in expected]  # same rows, same order
    for name in related:
        assert [_fields(getattr(o, name)) for o in found] == [_fields(getattr(o, name)) for o in expected]


def _busy_case(cast, other=None):
    """A case with something in every list: some related people absent (no actor, not withdrawn,
    not closed), some present."""
    version = policy_for(cast.oakfield)
    case = report(cast.oakfield, cast.sam, files=[upload(), upload("second.png")])
    now = timezone.now()
    TimelineEntry.objects.create(incident=case, actor=None, kind=TimelineKind.NOTE, note="By the system.")
    TimelineEntry.objects.create(incident=case, actor=cast.helen, kind=TimelineKind.NOTE, note="Spoke to them.")
    first = case.evidence.first()
    first.withdrawn_at, first.withdrawn_by, first.withdrawn_reason = now, cast.helen, "Wrong file."
    first.save()
    Referral.objects.create(incident=case, kind=ReferralKind.LADO, made_on=now.date(), recorded_by=cast.helen)
    Referral.objects.create(incident=case, kind=ReferralKind.POLICE, made_on=now.date(), recorded_by=cast.dina)
    case.clauses.add(*version.clauses.order_by("-order")[:3])
    GovernorReview.objects.create(incident=case, decision=ReviewDecision.REFER_BACK, decided_by=cast.gary)
    for title, closed in (("Interview", True), ("Collect screenshots", False)):
        Task.objects.create(
            incident=case,
            assignee=cast.dina,
            assigned_by=cast.helen,
            title=title,
            due_on=now.date(),
            due_at=now + timedelta(days=1),
            state="done" if closed else "open",
            closed_at=now if closed else None,
            closed_by=cast.helen if closed else None,
        )
    for author in (cast.sam, cast.helen):
        CaseMessage.objects.create(
            incident=case,
            reporter=cast.sam,
            author=author,
            kind=MessageKind.TO_OWNER if author == cast.sam else MessageKind.TO_REPORTER,
            body="A message.",
            sent_at=now,
        )
    takedown = facebook_takedown(case, cast.helen)
    TakedownStep.objects.create(
        takedown=takedown, incident=case, route=EscalationRoute.POSH, taken_on=now.date(), recorded_by=cast.helen
    )
    later = report(cast.oakfield, cast.dina)
    CaseLink.objects.create(first=case, second=later, linked_by=cast.helen)
    if other is not None:  # the earlier case is first in its pair: this one is found as second
        CaseLink.objects.create(first=other, second=case, linked_by=cast.helen)
    for merged_at in (now - timedelta(hours=1), now):
        merged = report(cast.oakfield, cast.dina)
        Incident.objects.filter(pk=merged.pk).update(status="merged", merged_into=case, merged_at=merged_at)
    return Incident.objects.get(pk=case.pk)


def _flagged(case):
    """The case as its page reads it: with the flags of which lists it has (case_lists.presence)."""
    return Incident.objects.annotate(**case_lists.presence()).get(pk=case.pk)


def test_every_list_is_the_querysets_for_two_cases(cast):
    first = _busy_case(cast)
    second = _busy_case(cast, other=first)
    bare = report(cast.oakfield, cast.sam)  # next to nothing
    # Each read as other views read it, then as its page does (with the flags of its lists).
    for case in (first, second, bare, _flagged(first), _flagged(second), _flagged(bare)):
        _same(case_lists.timeline(case), list(case.timeline.select_related("actor")), ("actor",))
        _same(
            case_lists.evidence(case),
            list(case.evidence.select_related("uploaded_by", "withdrawn_by")),
            ("uploaded_by", "withdrawn_by"),
        )
        _same(case_lists.referrals(case), list(case.referrals.select_related("recorded_by")), ("recorded_by",))
        _same(case_lists.clauses(case), list(case.clauses.order_by("order")))
        _same(case_lists.reviews(case), list(case.governor_reviews.select_related("decided_by")), ("decided_by",))
        _same(
            case_lists.tasks(case),
            list(case.tasks.select_related("assignee", "assigned_by", "closed_by").order_by("-state", "due_at", "pk")),
            ("assignee", "assigned_by", "closed_by"),
        )
        _same(case_lists.messages(case), list(case.messages.select_related("author")), ("author",))
        steps = TakedownStep.objects.select_related("recorded_by").order_by("taken_on", "pk")
        expected = list(
            case.takedowns.select_related("requested_by")
            .prefetch_related(Prefetch("steps", queryset=steps))
            .order_by("requested_on", "pk")
        )
        found = case_lists.takedowns(case)
        _same(found, expected, ("requested_by",))
        for mine, theirs in zip(found, expected, strict=True):
            _same(list(mine.steps.all()), list(theirs.steps.all()), ("recorded_by",))
        _same(
            case_lists.merged_reports(case),
            list(
                Incident.objects.filter(merged_into=case)
                .select_related("reporter", "subject")
                .order_by("merged_at", "pk")
            ),
            ("reporter", "subject"),
        )
        links = CaseLink.objects.filter(first=case) | CaseLink.objects.filter(second=case)
        assert sorted(case_lists.linked_pks(case)) == sorted(
            link.second_id if link.first_id == case.pk else link.first_id for link in links
        )
    # The lists are not empty where they were meant to be full (the comparisons above compared something).
    assert len(case_lists.timeline(second)) >= 3 and case_lists.timeline(second)[0].incident_id == second.pk
    assert len(case_lists.linked_pks(second)) == 2
    assert [len(case_lists.takedowns(second)[0].steps.all()), len(case_lists.merged_reports(second))] == [1, 2]
    assert case_lists.tasks(second)[-1].closed_by == cast.helen


# The lists a case may lack (case_lists.presence), by the name of their read.
READS = (
    "evidence",
    "referrals",
    "clauses",
    "reviews",
    "tasks",
    "messages",
    "takedowns",
    "merged_reports",
    "linked_pks",
)


def test_each_list_is_one_query_and_knows_its_case(cast):
    case = _busy_case(cast)
    for name in ("timeline", *(name for name in READS if name != "takedowns")):  # take-downs: two (below)
        read = getattr(case_lists, name)
        read(case)  # written once
        with CaptureQueriesContext(connection) as queries:
            rows = read(case)
        assert rows and len(queries) == 1, name
        sql = queries[0]["sql"]
        assert str(case.pk) in sql and "-7300001" not in sql  # the case's id, never the stand-in
    with CaptureQueriesContext(connection) as queries:
        entries = case_lists.timeline(case)
        files = case_lists.evidence(case)
        # The rows point at the case already, as a related manager's would.
        assert all(entry.incident is case for entry in entries) and all(f.incident is case for f in files)
        assert [entry.actor.full_name for entry in entries if entry.actor_id]  # selected with them
    assert len(queries) == 2
    with CaptureQueriesContext(connection) as queries:
        takedowns = case_lists.takedowns(case)
        assert [step.recorded_by.email for t in takedowns for step in t.steps.all()] == [cast.helen.email]
    assert len(queries) == 2  # the requests, then their steps
    with CaptureQueriesContext(connection) as queries:
        assert case_lists.takedowns(report(cast.oakfield, cast.sam)) == []
    assert len([q for q in queries if "takedown" in q["sql"]]) == 1  # no steps to read for no request


def test_a_case_s_page_reads_only_the_lists_it_has(cast):
    """The flags say which lists have rows; the page reads those lists only, and a list that gains its
    first row is read at the next view. The flags are those of the rows, list by list."""
    busy = _flagged(_busy_case(cast))
    lists = {name: value for name, value in vars(busy).items() if name.startswith("present_")}
    lists.pop("present_official_accounts")  # approvals' flag (test_the_case_pages_official_accounts_...)
    assert len(lists) == 9 and all(value is True for value in lists.values())
    bare = report(cast.oakfield, cast.sam)
    flagged = _flagged(bare)
    with CaptureQueriesContext(connection) as queries:
        assert [getattr(case_lists, name)(flagged) for name in READS] == [[]] * len(READS)
        assert case_lists.timeline(flagged)  # every case has one: always read
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:  # read without the flags: each list is read
        assert [getattr(case_lists, name)(bare) for name in READS] == [[]] * len(READS)
    assert len(queries) == len(READS)
    # One list at a time gains a row: its flag alone turns, and the list is read and shown.
    version = policy_for(cast.oakfield)
    other = report(cast.oakfield, cast.dina)
    additions = {
        "evidence": lambda: services.evidence_add(incident=bare, actor=cast.helen, files=[upload("late.png")]),
        "clauses": lambda: bare.clauses.add(version.clauses.first()),
        "referrals": lambda: Referral.objects.create(
            incident=bare, kind=ReferralKind.LADO, made_on=timezone.localdate(), recorded_by=cast.helen
        ),
        "linked_pks": lambda: CaseLink.objects.create(first=bare, second=other, linked_by=cast.helen),
        "merged_reports": lambda: Incident.objects.filter(pk=other.pk).update(
            status="merged", merged_into=bare, merged_at=timezone.now()
        ),
        "takedowns": lambda: facebook_takedown(bare, cast.helen),
        "reviews": lambda: GovernorReview.objects.create(
            incident=bare, decision=ReviewDecision.REFER_BACK, decided_by=cast.gary
        ),
        "tasks": lambda: Task.objects.create(
            incident=bare,
            assignee=cast.dina,
            assigned_by=cast.helen,
            title="Look",
            due_on=timezone.localdate(),
            due_at=timezone.now() + timedelta(days=1),
        ),
        "messages": lambda: CaseMessage.objects.create(
            incident=bare,
            reporter=cast.sam,
            author=cast.sam,
            kind=MessageKind.TO_OWNER,
            body="Hi.",
            sent_at=timezone.now(),
        ),
    }
    assert set(additions) == set(READS)
    for name, add in additions.items():
        before = {k: v for k, v in vars(_flagged(bare)).items() if k.startswith("present_")}
        add()
        after = {k: v for k, v in vars(_flagged(bare)).items() if k.startswith("present_")}
        turned = {k for k in after if after[k] != before[k]}
        assert len(turned) == 1 and all(after[k] for k in turned), (name, turned)
        assert getattr(case_lists, name)(_flagged(bare)), name


def _account(cast, school, name, status) -> OfficialAccount:
    now = timezone.now()
    return OfficialAccount.objects.create(
        school=school,
        platform="facebook",
        name=name,
        status=status,
        requested_by=cast.helen,
        decided_by=cast.helen,
        decided_at=now,
        closed_at=now if status == AccountStatus.CLOSED else None,
    )


def test_the_case_pages_official_accounts_are_the_querysets(cast):
    case = report(cast.oakfield, cast.sam)
    accounts = [
        _account(cast, school, name, status)
        for school, name, status in (
            (cast.oakfield, "Oakfield PTA", AccountStatus.OPEN),
            (cast.oakfield, "Oakfield sport", AccountStatus.OPEN),
            (cast.oakfield, "Oakfield old", AccountStatus.CLOSED),
            (cast.brookside, "Brookside news", AccountStatus.OPEN),
        )
    ]
    AccountConcern.objects.create(incident=case, account=accounts[1], linked_by=cast.helen)
    shown = case_account(_flagged(case))
    _same(
        shown["linked"],
        list(AccountConcern.objects.filter(incident=case).select_related("account").order_by("linked_at", "pk")),
        ("account",),
    )
    assert [a.name for a in shown["choices"]] == ["Oakfield PTA"]  # open, this school's, not linked yet


def test_the_case_page_reads_the_official_accounts_only_where_there_is_one_to_show(cast):
    """The flag approvals adds (approvals_tags.accounts_presence) is whether the section shows
    anything, read without the flag: no account; a closed one; a closed one the case is about; an open
    one at another school; an open one at the case's school. Where it is false, no query."""
    case = report(cast.oakfield, cast.sam)

    def account(school, name, status):
        return _account(cast, school, name, status)

    steps = [
        lambda: None,
        lambda: account(cast.oakfield, "Old page", AccountStatus.CLOSED),
        lambda: account(cast.brookside, "Brookside news", AccountStatus.OPEN),
        lambda: AccountConcern.objects.create(
            incident=case, account=OfficialAccount.objects.get(name="Old page"), linked_by=cast.helen
        ),
        lambda: AccountConcern.objects.filter(incident=case).delete(),
        lambda: account(cast.oakfield, "Oakfield PTA", AccountStatus.OPEN),
    ]
    flags = []
    for step in steps:
        step()
        shown = case_account(case)  # read without the flag: both lists are read
        flagged = _flagged(case)
        flags.append(flagged.present_official_accounts)
        assert flagged.present_official_accounts == bool(shown["linked"] or shown["choices"])
        with CaptureQueriesContext(connection) as queries:
            again = case_account(flagged)
        assert [c.pk for c in again["linked"]] == [c.pk for c in shown["linked"]]
        assert [a.pk for a in again["choices"]] == [a.pk for a in shown["choices"]]
        assert len(queries) == (2 if flagged.present_official_accounts else 0)
    assert flags == [False, False, False, True, False, True]


def test_the_case_pages_own_query_is_visible_tos_for_every_person_and_case(cast):
    """incidents.models.IncidentManager.visible_case: the case, or None where visible_to has no such
    case, for everyone of the cast (in a request: the kept rule's SQL, written once, run with each
    reference; outside one: built each time), a person holding two roles at two schools, and a
    person with no role anywhere (a rule that matches nothing)."""
    from accounts.models import Membership, Role, User
    from incidents import models
    from tests.incidents.factories import build_cases

    cases = list(build_cases(cast).values())
    Membership.objects.create(user=cast.helen, school=cast.brookside, role=Role.GOVERNOR)
    nobody = User.objects.create(email="nobody@example.org", full_name="No Role")
    related = Incident.objects.CASE_PAGE_RELATED
    seen = 0
    for in_request in (True, False):
        models._built_rules.rules.clear()
        for user in User.objects.all():
            if in_request:
                memberships = list(Membership.objects.for_user(user))
                user.memberships_of_request = lambda memberships=memberships: memberships
            for case in [*cases, *cases]:  # each reference twice: the kept SQL runs with each
                expected = list(
                    Incident.objects.visible_to(user).select_related(*related).filter(reference=case.reference)
                )
                found = Incident.objects.visible_case(user, case.reference)
                _same([found] if found else [], expected, related)
                seen += bool(found)
                # The case page's GET: the same case, with the flags of its lists and the person's task.
                flagged = Incident.objects.visible_case(user, case.reference, annotations=views._case_page_flags)
                _same([flagged] if flagged else [], expected, related)
                if flagged:
                    assert {k: v for k, v in vars(flagged).items() if k.startswith("present_")} == {
                        k: v for k, v in vars(_flagged(case)).items() if k.startswith("present_")
                    }
                    task = Task.objects.filter(incident=case, assignee=user, state=TaskState.OPEN).exists()
                    assert (flagged.viewer_open_task, flagged.viewer_open_task_of) == (task, user.pk)
            assert Incident.objects.visible_case(user, "OAK-NONE-NONE") is None
        assert Incident.objects.visible_case(nobody, cases[0].reference) is None
    assert seen > len(cases) * 4  # most people saw something: the comparisons compared cases


def test_the_persons_open_task_is_read_with_the_case_and_answers_for_them_alone(cast):
    """access.open_task_flag: the case page reads, with the case, whether the person holds an open task
    on it. Their assignee relation then needs no query of its own; the flag never answers for anyone
    else (the case handed on with Rita's flag gives Bethan nothing), and a finished task shows at the
    next read."""
    from accounts.models import Membership, Role
    from incidents import access
    from incidents.transitions import CaseRole

    case = report(cast.oakfield, cast.helen)
    Membership.objects.create(user=cast.bethan, school=cast.oakfield, role=Role.STAFF)
    rita = person("Rita Rowe", cast.oakfield, Role.STAFF)
    due = timezone.now() + timedelta(days=3)
    task = Task.objects.create(
        incident=case, assignee=rita, assigned_by=cast.helen, title="Ask the platform", due_on=due.date(), due_at=due
    )
    staff = frozenset({Role.STAFF})
    flagged = Incident.objects.visible_case(rita, case.reference, annotations=views._case_page_flags)
    assert (flagged.viewer_open_task, flagged.viewer_open_task_of) == (True, rita.pk)
    with CaptureQueriesContext(connection) as queries:
        assert CaseRole.ASSIGNEE in access.relation_roles(rita, flagged, staff)
    assert len(queries) == 0
    with CaptureQueriesContext(connection) as queries:
        assert access.relation_roles(cast.bethan, flagged, staff) == frozenset()
    assert len(queries) == 1  # asked for Bethan herself: she holds no task
    Task.objects.create(
        incident=case, assignee=cast.bethan, assigned_by=cast.helen, title="Check", due_on=due.date(), due_at=due
    )
    assert CaseRole.ASSIGNEE in access.relation_roles(cast.bethan, flagged, staff)  # her own, from the database
    Task.objects.filter(pk=task.pk).update(state=TaskState.DONE, closed_at=timezone.now(), closed_by=rita)
    assert Incident.objects.visible_case(rita, case.reference, annotations=views._case_page_flags) is None
    assert CaseRole.ASSIGNEE not in access.relation_roles(rita, case, staff)
