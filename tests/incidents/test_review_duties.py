"""Separation of duties in the governors' review (issue item 6): the person who owned the case,
proposed its outcome, reported it or is its subject never decides its review; a governor may
declare a conflict of interest and is then out of it; with no governor left, the trust decides.

Each exclusion is tested through the service and the view; the conflict declaration is a
state-changing view like the others: success, anonymous, 405, wrong role, other school, wrong
state, stale copy.
"""

from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent, Membership, Role
from incidents import services
from incidents.errors import NotAllowed, Stale, WrongState
from incidents.models import (
    Category,
    Incident,
    Involved,
    Notification,
    ReviewDecision,
    Status,
    TimelineEntry,
    TimelineKind,
)
from incidents.transitions import CaseRole, case_roles, review_panel
from tests.factories import person
from tests.incidents.factories import advance, fast_passwords, fresh, report, sign_in, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

TRUST_LINE = "No governor without a conflict remains: this review is decided by the trust (Tom Reed)"


def _client(user=None):
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def _decide(user, incident, decision=ReviewDecision.UPHOLD):
    return _client(user).post(
        reverse("incidents:decide", args=[incident.reference]), {"uphold-decision": decision, "uphold-comment": "Fine."}
    )


def _in_review(cast, **kwargs):
    return advance(report(cast.oakfield, cast.sam, **kwargs), Status.GOVERNOR_REVIEW, cast)


def _about_head(cast):
    case = report(cast.oakfield, cast.sam, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.helen)
    return advance(case, Status.GOVERNOR_REVIEW, cast)  # the chair acknowledges, proposes and refers


def _assert_excluded(user, incident, why):
    """The service refuses, the view answers 403 and changes nothing, the page offers no decision
    and tells the person why."""
    with pytest.raises(NotAllowed):
        services.incident_governor_decide(incident=fresh(incident), actor=user, decision=ReviewDecision.UPHOLD)
    assert _decide(user, incident).status_code == 403
    assert fresh(incident).status == Status.GOVERNOR_REVIEW
    assert CaseRole.DECIDER not in case_roles(user, fresh(incident))
    assert review_panel(fresh(incident)).excluded[user.pk] == why
    page = _client(user).get(reverse("incidents:detail", args=[incident.reference]))
    html = page.content.decode()
    assert reverse("incidents:decide", args=[incident.reference]) not in html
    assert f"You may not decide it: {why}." in html


# --- Each exclusion ---------------------------------------------------------------------------------


def test_the_chair_who_owned_a_case_about_the_head_does_not_decide_its_review(cast):
    case = _about_head(cast)
    _assert_excluded(cast.carol, case, "you own the case")
    assert [p.pk for p in review_panel(fresh(case)).deciders] == [cast.gary.pk]
    services.incident_governor_decide(incident=fresh(case), actor=cast.gary, decision=ReviewDecision.UPHOLD)


def test_a_head_who_is_a_governor_cannot_uphold_her_own_outcome(cast):
    Membership.objects.create(user=cast.helen, school=cast.oakfield, role=Role.GOVERNOR)
    case = _in_review(cast)  # Helen owned it and proposed the outcome
    _assert_excluded(cast.helen, case, "you own the case")


def test_the_reporter_who_is_a_governor_does_not_decide(cast):
    Membership.objects.create(user=cast.sam, school=cast.oakfield, role=Role.GOVERNOR)  # a staff governor
    case = _in_review(cast)
    _assert_excluded(cast.sam, case, "you reported it")


def test_the_proposer_does_not_decide_after_leaving_the_head_role(cast):
    hugo = person("Hugo Hale", cast.oakfield, Role.HEAD, Role.GOVERNOR)
    case = report(cast.oakfield, cast.sam)
    case = advance(case, Status.GOVERNOR_REVIEW, SimpleNamespace(helen=hugo, carol=cast.carol, gary=cast.gary))
    Membership.objects.get(user=hugo, role=Role.HEAD).delete()  # no longer a head: still the proposer
    _assert_excluded(hugo, case, "you proposed the outcome")


def test_the_recorded_owner_does_not_decide_even_without_the_head_role(cast):
    """Helen was routed the case (its recorded owner) but Hugo worked it; Helen then stepped down
    as head and sits on the board: she still owned the case."""
    hugo = person("Hugo Hale", cast.oakfield, Role.HEAD)
    case = report(cast.oakfield, cast.sam)
    assert case.owner == cast.helen
    case = advance(case, Status.GOVERNOR_REVIEW, SimpleNamespace(helen=hugo, carol=cast.carol, gary=cast.gary))
    Membership.objects.get(user=cast.helen, role=Role.HEAD).delete()
    Membership.objects.create(user=cast.helen, school=cast.oakfield, role=Role.GOVERNOR)
    _assert_excluded(cast.helen, case, "you own the case")


def test_the_subject_who_is_a_governor_never_reaches_the_review(cast):
    Membership.objects.create(user=cast.sam, school=cast.oakfield, role=Role.GOVERNOR)
    case = report(cast.oakfield, cast.dina, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.sam)
    case = advance(case, Status.GOVERNOR_REVIEW, cast)
    assert _decide(cast.sam, case).status_code == 404
    assert review_panel(fresh(case)).excluded[cast.sam.pk] == "the case is about you"
    assert cast.sam.pk not in {p.pk for p in review_panel(fresh(case)).deciders}
    assert not Notification.objects.filter(incident=case, recipient=cast.sam).exists()


def test_a_governor_who_declared_a_conflict_does_not_decide(cast):
    case = _in_review(cast)
    services.incident_declare_conflict(incident=fresh(case), actor=cast.gary, reason="I know the parent.")
    _assert_excluded(cast.gary, case, "you declared a conflict of interest")
    assert [p.pk for p in review_panel(fresh(case)).deciders] == [cast.carol.pk]
    assert not fresh(case).review_by_trust


def test_only_those_who_may_decide_are_told_of_the_review(cast):
    hugo = person("Hugo Hale", cast.oakfield, Role.HEAD, Role.GOVERNOR)
    case = _in_review(cast)
    told = set(Notification.objects.filter(incident=case, kind="governor_review").values_list("recipient", flat=True))
    assert told == {cast.gary.pk, cast.carol.pk}
    assert hugo.pk not in told


def test_the_page_shows_who_may_decide(cast):
    case = _in_review(cast)
    for viewer in (cast.gary, cast.helen):  # a governor, and the owner
        html = _client(viewer).get(reverse("incidents:detail", args=[case.reference])).content.decode()
        assert "Who may decide this review" in html
        assert "Carol Chambers, Gary Green." in html
    # The reporter's view says nothing about the board.
    html = _client(cast.sam).get(reverse("incidents:detail", args=[case.reference])).content.decode()
    assert "Who may decide" not in html


# --- The fallback to the trust ---------------------------------------------------------------------


def test_with_no_governor_left_the_trust_decides_and_sees_only_the_review(cast):
    case = report(
        cast.oakfield,
        cast.sam,
        category=Category.STAFF_CONDUCT,
        involved=Involved.STAFF,
        subject=cast.helen,
        files=[upload("shot.png")],
    )
    case = advance(case, Status.GOVERNOR_REVIEW, cast)  # Carol owns it: only Gary could decide
    tom_page = reverse("incidents:detail", args=[case.reference])
    assert _client(cast.tom).get(tom_page).status_code == 404  # the trust is not in it yet

    response = _client(cast.gary).post(
        reverse("incidents:declare_conflict", args=[case.reference]), {"declare_conflict-reason": "My neighbour."}
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.review_by_trust
    panel = review_panel(case)
    assert panel.by_trust and [p.pk for p in panel.deciders] == [cast.tom.pk]
    assert TimelineEntry.objects.filter(incident=case, kind=TimelineKind.ROUTED, data__review_by_trust=True).exists()
    assert Notification.objects.filter(incident=case, recipient=cast.tom, kind="trust_review").exists()

    for viewer in (cast.tom, cast.carol):
        html = _client(viewer).get(tom_page).content.decode()
        assert TRUST_LINE in html
    html = _client(cast.tom).get(tom_page).content.decode()
    assert "For the governors" in html and "A breach; see reasons." in html  # the review summary
    assert case.description not in html and "Timeline" not in html  # no case content
    item = case.evidence.get()
    assert _client(cast.tom).get(reverse("incidents:evidence_download", args=[item.public_id])).status_code == 404
    assert not Incident.objects.counted_for(cast.priya).filter(pk=case.pk).exists()

    assert _decide(cast.gary, case).status_code == 403
    assert _decide(cast.tom, case).status_code == 302
    case = fresh(case)
    assert case.status == Status.CLOSED and case.governor_reviews.get().decided_by == cast.tom
    assert _client(cast.tom).get(tom_page).status_code == 404  # decided: the trust is out again


def test_a_new_governor_brings_the_review_back_to_the_board(cast):
    case = _about_head(cast)
    services.incident_declare_conflict(incident=fresh(case), actor=cast.gary, reason="My neighbour.")
    assert fresh(case).review_by_trust
    nina = person("Nina North", cast.oakfield, Role.GOVERNOR)
    case = fresh(case)
    assert not case.review_by_trust
    assert [p.pk for p in review_panel(case).deciders] == [nina.pk]
    assert _decide(cast.tom, case).status_code == 404


def test_the_trust_admin_who_reported_is_not_the_trusts_decider(cast):
    tina = person("Tina Todd", cast.oakfield, Role.TRUST_ADMIN, Role.STAFF)
    case = advance(
        report(cast.oakfield, tina, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.helen),
        Status.GOVERNOR_REVIEW,
        cast,
    )
    services.incident_declare_conflict(incident=fresh(case), actor=cast.gary, reason="My neighbour.")
    assert [p.pk for p in review_panel(fresh(case)).deciders] == [cast.tom.pk]
    assert CaseRole.DECIDER not in case_roles(tina, fresh(case))


# --- Declaring a conflict: the view ----------------------------------------------------------------


def _declare(user, incident, reason="I know the family."):
    client = _client(user) if user else Client()
    return client.post(
        reverse("incidents:declare_conflict", args=[incident.reference]), {"declare_conflict-reason": reason}
    )


def _conflicts(incident):
    return TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.CONFLICT).count()


def test_declaring_a_conflict_is_recorded_on_the_timeline_and_audited(cast):
    case = _in_review(cast)
    response = _declare(cast.gary, case)
    assert response.status_code == 302
    entry = TimelineEntry.objects.get(incident=case, kind=TimelineKind.CONFLICT)
    assert entry.actor == cast.gary and entry.note == "I know the family." and entry.internal
    event = AuditEvent.objects.filter(action=AuditAction.CHANGE, object_id=str(case.pk), object_type="incident")
    assert event.filter(detail__conflict_declared=cast.gary.pk).exists()
    assert "I know the family" not in str(list(event.values_list("detail", flat=True)))  # ids only
    # The owners read it on the timeline.
    html = _client(cast.helen).get(reverse("incidents:detail", args=[case.reference])).content.decode()
    assert "I know the family." in html
    # Declared once: the button is gone, and a second declaration changes nothing.
    html = _client(cast.gary).get(reverse("incidents:detail", args=[case.reference])).content.decode()
    assert reverse("incidents:declare_conflict", args=[case.reference]) not in html
    response = _declare(cast.gary, case)
    assert response.status_code == 302 and _conflicts(case) == 1
    assert "already declared" in str(list(get_messages(response.wsgi_request))[0])


def test_declaring_a_conflict_anonymous_wrong_method_wrong_role_other_school(cast):
    case = _in_review(cast)
    url = reverse("incidents:declare_conflict", args=[case.reference])
    assert _declare(None, case)["Location"].startswith(reverse("login"))
    assert _client(cast.gary).get(url).status_code == 405
    assert _declare(cast.sam, case).status_code == 403  # the reporter sees the case, not the review
    assert _declare(cast.helen, case).status_code == 403  # the owner is no governor
    assert _declare(cast.olive, case).status_code == 404  # another school: no such case
    assert _declare(cast.tom, case).status_code == 404  # the trust is not deciding it
    assert _conflicts(case) == 0


def test_declaring_a_conflict_needs_a_reason(cast):
    case = _in_review(cast)
    assert _declare(cast.gary, case, reason="  ").status_code == 400
    assert _conflicts(case) == 0
    with pytest.raises(services.Invalid):
        services.incident_declare_conflict(incident=fresh(case), actor=cast.gary, reason="x" * 501)


def test_declaring_a_conflict_on_a_decided_case_says_so(cast):
    case = advance(report(cast.oakfield, cast.sam), Status.CLOSED, cast)  # upheld: governors still see it
    response = _declare(cast.gary, case)
    assert response.status_code == 302 and _conflicts(case) == 0
    assert "cannot be changed" in str(list(get_messages(response.wsgi_request))[0])
    with pytest.raises(WrongState):
        services.incident_declare_conflict(incident=fresh(case), actor=cast.gary, reason="Late.")


def test_a_conflict_declared_on_a_stale_copy_loses(cast):
    case = _in_review(cast)
    stale = fresh(case)
    services.incident_governor_decide(
        incident=fresh(case), actor=cast.carol, decision=ReviewDecision.REFER_BACK, comment="More, please."
    )
    with pytest.raises(Stale):
        services.incident_declare_conflict(incident=stale, actor=cast.gary, reason="I know the family.")
    assert _conflicts(case) == 0


def test_a_decision_on_a_copy_read_before_a_conflict_loses(cast):
    """Gary read the case, then declared a conflict in another tab: the decision from the first
    tab is refused (he is out now), not taken on the old copy."""
    case = _in_review(cast)
    before = fresh(case)
    services.incident_declare_conflict(incident=fresh(case), actor=cast.gary, reason="I know the family.")
    with pytest.raises(NotAllowed):
        services.incident_governor_decide(incident=before, actor=cast.gary, decision=ReviewDecision.UPHOLD)
    assert fresh(case).status == Status.GOVERNOR_REVIEW
