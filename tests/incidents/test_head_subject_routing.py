"""Role combinations (issue item 5): when the subject of a case holds the head role at the case's
school — at report time or at any time since — the chair owns the case, and no head and no DSL of
that school sees it, whatever other roles they hold. Role changes re-route open cases.

Each test plays the attacker's sequence to the end: the report, the role change, what the owners'
lists, the case page, the notifications and the next Celery sweep then do.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent, Membership, Role
from incidents import services
from incidents.models import Category, Incident, Involved, Notification, Status, TimelineEntry
from incidents.transitions import CaseRole, case_roles
from tests.factories import person
from tests.incidents.factories import advance, fast_passwords, fresh, report, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

REROUTED = "Routed to the chair of governors because the subject now holds the head role."


def _about(cast, subject, *, school=None, reporter=None, category=Category.STAFF_CONDUCT, **kwargs):
    return report(
        school or cast.oakfield,
        reporter or cast.sam,
        category=category,
        involved=Involved.STAFF,
        subject=subject,
        **kwargs,
    )


def _sees(user, incident) -> bool:
    return Incident.objects.visible_to(user).filter(pk=incident.pk).exists()


def _page(user, incident) -> int:
    client = Client()
    sign_in(client, user)
    return client.get(reverse("incidents:detail", args=[incident.reference])).status_code


# --- A co-head who is also the DSL ------------------------------------------------------------------


def test_a_co_head_who_is_the_dsl_never_opens_a_safeguarding_case_about_the_head(cast):
    hana = person("Hana Hill", cast.oakfield, Role.HEAD, Role.DSL, Role.STAFF)
    case = _about(cast, cast.helen, category=Category.SAFEGUARDING)
    assert case.owner == cast.carol and case.dsl is None
    for insider in (hana, cast.dina):  # the co-head-and-DSL, and the plain DSL
        assert not _sees(insider, case)
        assert _page(insider, case) == 404
        assert not Incident.objects.owned_by(insider).filter(pk=case.pk).exists()
        assert case_roles(insider, case) == frozenset()
    assert _sees(cast.carol, case) and CaseRole.OWNER in case_roles(cast.carol, case)
    # Nobody at the school but the chair was told: no DSL alert, no head alert.
    told = set(Notification.objects.filter(incident=case).values_list("recipient__email", flat=True))
    assert told == {cast.carol.email}


def test_a_child_at_risk_case_about_the_head_does_not_open_through_the_dsl_rule(cast):
    case = _about(cast, cast.helen, child_at_risk=True)
    assert not _sees(cast.dina, case)
    assert not Incident.objects.counted_for(cast.dina).filter(pk=case.pk).exists()


def test_a_head_who_is_a_governor_never_sees_the_review_of_a_case_about_the_other_head(cast):
    hugo = person("Hugo Hale", cast.oakfield, Role.HEAD, Role.GOVERNOR, Role.STAFF)
    case = advance(_about(cast, cast.helen), Status.GOVERNOR_REVIEW, cast)
    assert not _sees(hugo, case)
    assert not Incident.objects.under_review_for(hugo).filter(pk=case.pk).exists()
    assert _page(hugo, case) == 404
    assert _sees(cast.gary, case)


def test_a_dsl_who_reports_the_head_follows_only_her_own_report(cast):
    """The reporter keeps the reporter's view (status, public progress), nothing more."""
    case = _about(cast, cast.helen, reporter=cast.dina, category=Category.SAFEGUARDING)
    assert case_roles(cast.dina, case) == frozenset({CaseRole.REPORTER})
    assert not Incident.objects.owned_by(cast.dina).filter(pk=case.pk).exists()


# --- The acting head: the head role granted after the report ----------------------------------------


def test_granting_the_head_role_to_the_subject_reroutes_the_open_case_to_the_chair(cast):
    adam = person("Adam Ash", cast.oakfield, Role.STAFF)
    case = _about(cast, adam, category=Category.SAFEGUARDING)
    assert case.owner == cast.helen and case.dsl == cast.dina and _sees(cast.dina, case)

    Membership.objects.create(user=adam, school=cast.oakfield, role=Role.HEAD)  # acting head

    case = fresh(case)
    assert case.subject_is_head and case.owner == cast.carol and case.dsl is None
    for insider in (cast.helen, cast.dina, adam):
        assert not _sees(insider, case), insider
        assert case_roles(insider, case) == frozenset()
    assert _page(cast.helen, case) == 404
    assert _sees(cast.carol, case) and CaseRole.OWNER in case_roles(cast.carol, case)
    assert Incident.objects.owned_by(cast.carol).filter(pk=case.pk).exists()
    # On the timeline, without content, and audited; the chair is told.
    entry = TimelineEntry.objects.filter(incident=case, note=REROUTED).get()
    assert entry.data == {"rerouted": "chair", "owner": cast.carol.pk}
    assert AuditEvent.objects.filter(
        action=AuditAction.CHANGE, object_type="incident", object_id=str(case.pk), detail__rerouted="chair"
    ).exists()
    assert Notification.objects.filter(incident=case, recipient=cast.carol, kind="case_rerouted").exists()
    # The acting head's own queue never lists it, and the chair acts on it.
    services.incident_acknowledge(incident=case, actor=cast.carol)


def test_the_log_says_only_that_the_case_went_to_the_chair(cast, caplog):
    """Logs carry references, never who the subject is: "routed to the chair", not why."""
    adam = person("Adam Ash", cast.oakfield, Role.STAFF)
    case = _about(cast, adam)
    caplog.clear()
    with caplog.at_level("DEBUG"):
        Membership.objects.create(user=adam, school=cast.oakfield, role=Role.HEAD)
    assert fresh(case).subject_is_head
    lines = [r.getMessage() for r in caplog.records if case.reference in r.getMessage()]
    assert f"Incident {case.reference}: routed to the chair" in lines
    for line in lines:
        assert "head" not in line.lower() and "subject" not in line.lower(), line


def test_a_second_role_change_does_not_reroute_twice(cast):
    adam = person("Adam Ash", cast.oakfield, Role.STAFF)
    case = _about(cast, adam)
    Membership.objects.create(user=adam, school=cast.oakfield, role=Role.HEAD)
    Membership.objects.create(user=adam, school=cast.oakfield, role=Role.GOVERNOR)
    assert TimelineEntry.objects.filter(incident=case, note=REROUTED).count() == 1


def test_the_chair_keeps_the_case_when_the_acting_headship_ends(cast):
    """Once with the chair, a case stays with the chair until it is closed (KCSIE part 4: the case
    manager does not change hands because the head steps down, often to the deputy it reported to)."""
    adam = person("Adam Ash", cast.oakfield, Role.STAFF)
    case = _about(cast, adam)
    head = Membership.objects.create(user=adam, school=cast.oakfield, role=Role.HEAD)
    head.delete()
    case = fresh(case)
    assert case.owner == cast.carol and not _sees(cast.helen, case) and _sees(cast.carol, case)


def test_visibility_follows_the_head_role_even_when_no_signal_ran(cast):
    """bulk_create sends no signals (nor do fixtures, raw SQL or a restored backup): the rule itself
    reads the subject's roles now, so it never lags."""
    adam = person("Adam Ash", cast.oakfield, Role.STAFF)
    case = _about(cast, adam, category=Category.SAFEGUARDING)
    Membership.objects.bulk_create([Membership(user=adam, school=cast.oakfield, role=Role.HEAD)])
    case = fresh(case)
    assert not case.subject_is_head  # no signal ran ...
    assert not _sees(cast.helen, case) and not _sees(cast.dina, case)  # ... yet nobody at the school sees it
    assert _sees(cast.carol, case) and CaseRole.OWNER in case_roles(cast.carol, case)
    assert case_roles(cast.helen, case) == frozenset()


def test_a_closed_case_keeps_who_decided_it_but_leaves_the_heads(cast):
    adam = person("Adam Ash", cast.oakfield, Role.STAFF)
    case = advance(_about(cast, adam), Status.CLOSED, cast, outcome="no_breach")
    Membership.objects.create(user=adam, school=cast.oakfield, role=Role.HEAD)
    case = fresh(case)
    assert case.owner == cast.helen and not case.subject_is_head  # history unchanged
    assert not TimelineEntry.objects.filter(incident=case, note=REROUTED).exists()
    assert not _sees(cast.helen, case)
    assert _sees(cast.carol, case)
    # Reopened, it is routed to the chair then.
    services.incident_reopen(incident=case, actor=cast.carol, reason="New evidence.")
    case = fresh(case)
    assert case.subject_is_head and case.owner == cast.carol


def test_the_next_sweep_after_the_reroute_reminds_and_escalates_to_the_chair_only(cast):
    """A minute later Celery's sweep fires the reminder and the missed deadline: the old owner and
    the DSL must not be told about a case they may no longer open."""
    from incidents import clocks
    from incidents.models import ResponsePolicy

    ResponsePolicy.objects.create(school=cast.oakfield, reminder_minutes=[60])
    adam = person("Adam Ash", cast.oakfield, Role.STAFF)
    case = _about(cast, adam, category=Category.SAFEGUARDING)
    Membership.objects.create(user=adam, school=cast.oakfield, role=Role.HEAD)
    before = set(Notification.objects.values_list("pk", flat=True))
    # The reminder at its moment (one that late would be skipped: incidents.clocks.REMINDER_LATE_AFTER),
    # then the missed deadline.
    due = fresh(case).response_due_at
    fired = clocks.deadlines_sweep(now=due - timedelta(minutes=60))
    assert fired + clocks.deadlines_sweep(now=due + timedelta(minutes=1)) >= 2
    swept = Notification.objects.filter(incident=case).exclude(pk__in=before)
    assert {"reminder", "escalation"} <= set(swept.values_list("kind", flat=True))
    told = set(swept.values_list("recipient__email", flat=True))
    assert cast.helen.email not in told and cast.dina.email not in told and adam.email not in told
    assert cast.carol.email in told


# --- A subject with roles in two schools; a DPO or trust admin as the subject ------------------------


def test_a_subject_with_roles_in_two_schools_sees_neither_case(cast):
    vera = person("Vera Vale", cast.oakfield, Role.STAFF, email="vera@example.org")
    Membership.objects.create(user=vera, school=cast.brookside, role=Role.HEAD)
    Membership.objects.create(user=vera, school=cast.brookside, role=Role.STAFF)
    colin = person("Colin Cole", cast.brookside, Role.CHAIR)
    at_oak = _about(cast, vera)
    at_brk = _about(cast, vera, school=cast.brookside, reporter=cast.bethan)
    assert at_oak.owner == cast.helen and not at_oak.subject_is_head  # not a head at Oakfield
    assert at_brk.owner == colin and at_brk.subject_is_head
    for case in (at_oak, at_brk):
        assert not _sees(vera, case) and _page(vera, case) == 404
        assert not Incident.objects.counted_for(vera).filter(pk=case.pk).exists()
    assert not _sees(cast.olive, at_brk)  # Brookside's other head
    assert _sees(colin, at_brk)


def test_a_dpo_or_trust_admin_who_is_the_subject_reaches_no_trace_of_the_case(cast):
    dora = person("Dora Dunn", cast.oakfield, Role.DPO, Role.STAFF)
    tina = person("Tina Todd", cast.oakfield, Role.TRUST_ADMIN, Role.STAFF)
    for subject in (dora, tina):
        case = _about(cast, subject)
        assert not _sees(subject, case)
        assert not Incident.objects.counted_for(subject).filter(pk=case.pk).exists()
        assert _page(subject, case) == 404
        assert case_roles(subject, case) == frozenset()
