"""Hypothesis property tests on every form and filter (SECURITY-TEST-PLAN item 18).

For each: at least 200 generated inputs; never a response of 500 or more; text that is accepted is
stored exactly as typed, after the app's one documented normalisation (form fields and services
strip leading and trailing whitespace; policy text also turns CR LF and CR into LF — see
policyhub/structure.py `_text`); an invalid choice is a form error (400), never a 500; garbage or
huge ids in URLs are 404.

Each example runs in a transaction rolled back afterwards, so every example meets the same case in
the same state.
"""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from accounts.models import AuditAction
from incidents import services
from incidents.models import (
    AllegationOutcome,
    Category,
    GovernorReview,
    Incident,
    Involved,
    Outcome,
    Platform,
    Referral,
    ReferralKind,
    ReviewDecision,
    Severity,
    Status,
    TimelineEntry,
)
from policyhub.models import Clause
from tests.incidents.factories import advance, report
from tests.security.conftest import _school_draft, sign_in

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any text a browser could send: every code point but lone surrogates (not encodable), NUL included.
# Mostly something that is not blank, so that most examples get past "required" and are stored.
_any = st.characters(blacklist_categories=("Cs",))
_filled = st.text(alphabet=_any, min_size=1, max_size=400).filter(str.strip)
text = st.one_of(_filled, _filled, _filled, st.text(alphabet=_any, max_size=400))
short = st.text(alphabet=_any, max_size=60)


def choice_or_garbage(values):
    """A valid choice, so that the free text next to it is what varies (Hypothesis would otherwise
    spend most examples on garbage choices, a space it finds more novel). Garbage choices have their
    own test, test_invalid_choices_are_form_errors."""
    return st.sampled_from(list(values))


def stored(value: str) -> str:
    """The documented normalisation of free text: leading and trailing whitespace removed."""
    return value.strip()


def acceptable(value: str) -> bool:
    """What a form accepts as required text: something left after stripping, and no NUL."""
    return bool(value.strip()) and "\x00" not in value


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def cases(cast):
    """One case in each state an action starts from, all owned by Helen at Oakfield."""
    about_sam = {"category": Category.STAFF_CONDUCT, "involved": Involved.STAFF, "subject": cast.sam}
    in_triage = report(cast.oakfield, cast.dina, **about_sam)
    services.incident_acknowledge(incident=in_triage, actor=cast.helen)
    return {
        "triage": Incident.objects.get(pk=in_triage.pk),
        "investigating": advance(report(cast.oakfield, cast.sam), Status.INVESTIGATING, cast),
        "review": advance(report(cast.oakfield, cast.sam), Status.GOVERNOR_REVIEW, cast),
        "closed": advance(report(cast.oakfield, cast.sam), Status.CLOSED, cast, outcome=Outcome.NO_BREACH),
    }


def _post(client, url, data):
    response = client.post(url, data)
    assert response.status_code < 500, (url, data, response.status_code)
    return response


# --- Reporting ---------------------------------------------------------------------------------


@FUZZ
@given(
    description=text,
    links=text,
    involved_detail=short,
    category=choice_or_garbage(Category.values),
    platform=choice_or_garbage(Platform.values),
    involved=choice_or_garbage([Involved.PARENT, Involved.PUPIL, Involved.UNKNOWN]),
    child_at_risk=choice_or_garbage(["yes", "no"]),
)
def test_report_form(client, cast, description, links, involved_detail, category, platform, involved, child_at_risk):
    sign_in(client, cast.sam)
    data = {
        "category": category,
        "platform": platform,
        "involved": involved,
        "child_at_risk": child_at_risk,
        "description": description,
        "links": links,
        "involved_detail": involved_detail,
        "seen_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    with rolled_back():
        before = Incident.objects.count()
        response = _post(client, reverse("incidents:report"), data)
        valid_choices = (
            category in Category.values
            and platform in Platform.values
            and involved in Involved.values
            and child_at_risk in ("yes", "no")
        )
        if not valid_choices or not acceptable(description) or "\x00" in links + involved_detail:
            assert response.status_code == 400
            assert Incident.objects.count() == before
            return
        assert response.status_code == 302, response.content.decode()[:500]
        event("stored")
        incident = Incident.objects.latest("pk")
        assert incident.description == stored(description)
        assert incident.links == stored(links)
        assert incident.involved_detail == stored(involved_detail)


# --- Working a case ----------------------------------------------------------------------------


@FUZZ
@given(
    severity=choice_or_garbage(Severity.values),
    answers=st.lists(choice_or_garbage(["yes", "no"]), min_size=4, max_size=4),
    harm_reason=text,
    route=choice_or_garbage(["low_level", "breach", "no_breach", ""]),
    clause=st.one_of(*[st.just("")] * 5, st.integers(min_value=-(2**63), max_value=2**70).map(str), short),
)
def test_triage_form(client, cast, cases, severity, answers, harm_reason, route, clause):
    sign_in(client, cast.helen)
    case = cases["triage"]
    names = ["harm_harmed_child", "harm_offence", "harm_risk_to_children", "harm_unsuitable"]
    data = {"triage-severity": severity, "triage-harm_reason": harm_reason, "triage-route": route}
    data |= {f"triage-{name}": answer for name, answer in zip(names, answers, strict=True)}
    if clause:
        data["triage-clauses"] = [clause]
    with rolled_back():
        response = _post(client, reverse("incidents:triage", args=[case.reference]), data)
        if severity not in Severity.values or any(a not in ("yes", "no") for a in answers):
            assert response.status_code == 400
        if response.status_code == 302:
            case = Incident.objects.get(pk=case.pk)
            if case.severity:  # recorded (a refusal is a message and a redirect, nothing changed)
                event("stored")
                assert case.harm_reason == stored(harm_reason)


@FUZZ
@given(note=text)
def test_note_form(client, cast, cases, note):
    sign_in(client, cast.helen)
    case = cases["triage"]
    with rolled_back():
        before = TimelineEntry.objects.filter(incident=case).count()
        response = _post(client, reverse("incidents:add_note", args=[case.reference]), {"add_note-note": note})
        if acceptable(note):
            assert response.status_code == 302
            assert TimelineEntry.objects.filter(incident=case).latest("pk").note == stored(note)
        else:
            assert response.status_code == 400
            assert TimelineEntry.objects.filter(incident=case).count() == before


@FUZZ
@given(outcome=choice_or_garbage(Outcome.values), allegation=choice_or_garbage(AllegationOutcome.values), reason=text)
def test_outcome_form(client, cast, cases, outcome, allegation, reason):
    sign_in(client, cast.helen)
    case = cases["investigating"]
    data = {
        "propose_outcome-outcome": outcome,
        "propose_outcome-allegation_outcome": allegation,
        "propose_outcome-reason": reason,
    }
    with rolled_back():
        response = _post(client, reverse("incidents:propose_outcome", args=[case.reference]), data)
        if outcome not in Outcome.values or not acceptable(reason):
            assert response.status_code == 400
        else:
            assert response.status_code == 302
            case = Incident.objects.get(pk=case.pk)
            assert (case.outcome, case.outcome_reason) == (outcome, stored(reason))


@FUZZ
@given(
    kind=choice_or_garbage(ReferralKind.values),
    made_on=st.one_of(st.dates().map(str), short),
    reference=short,
    note=text,
)
def test_referral_form(client, cast, cases, kind, made_on, reference, note):
    sign_in(client, cast.helen)
    case = cases["triage"]
    data = {
        "record_referral-kind": kind,
        "record_referral-made_on": made_on,
        "record_referral-reference": reference,
        "record_referral-note": note,
    }
    with rolled_back():
        before = Referral.objects.count()
        response = _post(client, reverse("incidents:record_referral", args=[case.reference]), data)
        if kind not in ReferralKind.values:
            assert response.status_code == 400
        if response.status_code == 302:
            event("stored")
            referral = Referral.objects.latest("pk")
            assert (referral.kind, referral.reference, referral.note) == (kind, stored(reference), stored(note))
        else:
            assert Referral.objects.count() == before


@FUZZ
@given(decision=choice_or_garbage(ReviewDecision.values), comment=text)
def test_governor_decision_form(client, cast, cases, decision, comment):
    sign_in(client, cast.gary)
    case = cases["review"]
    with rolled_back():
        response = _post(
            client,
            reverse("incidents:decide", args=[case.reference]),
            {"uphold-decision": decision, "uphold-comment": comment},
        )
        refer_back_without_reason = decision == ReviewDecision.REFER_BACK and not acceptable(comment)
        if decision not in ReviewDecision.values or refer_back_without_reason or "\x00" in comment:
            assert response.status_code == 400
        else:
            assert response.status_code == 302
            review = GovernorReview.objects.filter(incident=case).latest("pk")
            assert (review.decision, review.comment) == (decision, stored(comment))


@FUZZ
@given(reason=text)
def test_reopen_form(client, cast, cases, reason):
    sign_in(client, cast.helen)
    case = cases["closed"]
    with rolled_back():
        response = _post(client, reverse("incidents:reopen", args=[case.reference]), {"reopen-reason": reason})
        if acceptable(reason):
            assert response.status_code == 302
            assert TimelineEntry.objects.filter(incident=case).latest("pk").note == f"Reopened: {stored(reason)}"
        else:
            assert response.status_code == 400


@FUZZ
@given(reason=text)
def test_conflict_of_interest_form(client, cast, cases, reason):
    sign_in(client, cast.gary)
    case = cases["review"]
    with rolled_back():
        response = _post(
            client, reverse("incidents:declare_conflict", args=[case.reference]), {"declare_conflict-reason": reason}
        )
        conflicts = TimelineEntry.objects.filter(incident=case, kind="conflict")
        if acceptable(reason) and len(stored(reason)) <= 500:
            assert response.status_code == 302
            assert conflicts.get().note == stored(reason)
        else:
            assert response.status_code == 400
            assert not conflicts.exists()


# --- The policy: importing pasted text, editing a draft ------------------------------------------


def _policy_like(sections):
    return "\n".join(f"{i}. {heading}\n{i}.1 {body}" for i, (heading, body) in enumerate(sections, start=1))


# Pasted text: random text, and text shaped like a numbered policy with random headings and clauses.
pasted = st.one_of(
    text,
    st.lists(st.tuples(st.text(alphabet=_any, min_size=1, max_size=40), _filled), min_size=1, max_size=6).map(
        _policy_like
    ),
    st.lists(
        st.tuples(st.text(alphabet=st.characters(categories=("L", "Zs")), min_size=3, max_size=40), _filled),
        min_size=1,
        max_size=6,
    ).map(_policy_like),
)


@FUZZ
@given(title=short, body=pasted)
def test_policy_import_paste(client, cast, title, body):
    sign_in(client, cast.helen)
    with rolled_back():
        response = _post(client, reverse("policy:import"), {"owner": "school", "title": title, "text": body})
        assert response.status_code in (302, 400)
        if response.status_code == 302:
            event("imported")
            assert _post(client, reverse("policy:import_preview"), {}).status_code in (200, 400)
            assert client.get(reverse("policy:import_preview")).status_code == 200


def policy_text(value: str) -> str:
    """Policy text's normalisation (policyhub/structure.py): stripped, line ends made LF."""
    return value.strip().replace("\r\n", "\n").replace("\r", "\n").strip()


@FUZZ
@given(heading=short, clause_text=text, ref=choice_or_garbage(["1.1", "2", "7.4.1", "A(1)"]))
def test_policy_draft_section_editor(client, cast, oak_draft, heading, clause_text, ref):
    sign_in(client, cast.helen)
    draft = oak_draft
    data = {
        "s-TOTAL_FORMS": "1",
        "s-INITIAL_FORMS": "1",
        "s-0-number": "1",
        "s-0-heading": heading,
        "c-TOTAL_FORMS": "1",
        "c-INITIAL_FORMS": "1",
        "c-0-orig_ref": "1.1",
        "c-0-ref": ref,
        "c-0-parent": "",
        "c-0-text": clause_text,
        "action": "done",
    }
    with rolled_back():
        response = _post(client, reverse("policy:draft_section", args=[draft.pk, 0]), data)
        if response.status_code != 302:
            assert response.status_code == 400
            return
        event("stored")
        saved = _post(client, reverse("policy:draft_edit", args=[draft.pk]), {"action": "save"})
        assert saved.status_code == 302
        clause = Clause.objects.get(version=draft)
        assert clause.text == policy_text(clause_text)
        assert clause.section.heading == policy_text(heading)


@pytest.fixture
def oak_draft(cast):
    return _school_draft(cast.oakfield, "Oakfield's own policy")[1]


# --- Searches and filters ----------------------------------------------------------------------


@FUZZ
@given(q=text, everything=short)
def test_policy_search(client, cast, q, everything):
    sign_in(client, cast.sam)
    response = client.get(reverse("policy:search"), {"q": q, "all": everything})
    # A NUL character or an over-long query is refused with a message (400); anything else is searched.
    refused = "\x00" in q or len(q.strip()) > 200
    assert response.status_code == (400 if refused else 200)


@FUZZ
@given(status=choice_or_garbage(Status.values), category=choice_or_garbage(Category.values), severity=short, page=short)
def test_queue_filters(client, cast, cases, status, category, severity, page):
    sign_in(client, cast.helen)
    response = client.get(
        reverse("incidents:queue"), {"status": status, "category": category, "severity": severity, "page": page}
    )
    assert response.status_code == 200


@FUZZ
@given(
    school=st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), short),
    action=choice_or_garbage(AuditAction.values),
    actor=short,
    since=st.one_of(st.dates().map(str), short),
    until=st.one_of(st.dates().map(str), short),
    page=short,
    csv=st.sampled_from(["", "csv", "html"]),
)
def test_audit_log_filters(client, cast, school, action, actor, since, until, page, csv):
    sign_in(client, cast.tom)
    query = {"school": school, "action": action, "actor": actor, "since": since, "until": until, "page": page}
    response = client.get(reverse("audit:log"), query | {"format": csv})
    assert response.status_code == 200


@FUZZ
@given(term=short)
def test_termly_report_term(client, cast, term):
    sign_in(client, cast.gary)
    assert client.get(reverse("incidents:termly_report"), {"term": term}).status_code == 200


# --- Garbage ids in URLs -------------------------------------------------------------------------

ID_URLS = [
    "/incidents/{}/",
    "/incidents/report/{}/done/",
    "/incidents/evidence/{}/download/",
    "/incidents/evidence/{}/preview/",
    "/incidents/people/{}/",
    "/audit/case/{}/",
    "/policy/clause/{}/",
    "/policy/versions/{}/",
    "/policy/versions/{}/edit/",
    "/policy/versions/{}/publish/",
]


@FUZZ
@given(
    segment=st.one_of(
        st.integers(min_value=10**6, max_value=10**40).map(str),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"), min_size=1),
    ),
    template=st.sampled_from(ID_URLS),
)
def test_garbage_ids_are_404(client, cast, segment, template):
    sign_in(client, cast.helen)
    from urllib.parse import quote

    response = client.get(template.format(quote(segment)))
    assert response.status_code == 404, (template, segment, response.status_code)


# --- Invalid choices: a form error, never a 500 ----------------------------------------------------

# (url name, case state, who, prefix, the valid data, {field: its valid values})
CHOICE_FORMS = {
    "report": (
        "incidents:report",
        None,
        "sam",
        "",
        {
            "category": "parent_post",
            "platform": "facebook",
            "involved": "parent",
            "child_at_risk": "no",
            "description": "A post.",
            "seen_at": "2026-01-05T10:00",
        },
        {
            "category": Category.values,
            "platform": Platform.values,
            "involved": Involved.values,
            "child_at_risk": ["yes", "no"],
        },
    ),
    "triage": (
        "incidents:triage",
        "triage",
        "helen",
        "triage-",
        {
            "severity": "low",
            "harm_harmed_child": "no",
            "harm_offence": "no",
            "harm_risk_to_children": "no",
            "harm_unsuitable": "no",
            "harm_reason": "None.",
            "route": "breach",
        },
        {
            "severity": Severity.values,
            "harm_harmed_child": ["yes", "no"],
            "harm_offence": ["yes", "no"],
            "harm_risk_to_children": ["yes", "no"],
            "harm_unsuitable": ["yes", "no"],
            "route": ["low_level", "breach", "no_breach"],
        },
    ),
    "outcome": (
        "incidents:propose_outcome",
        "investigating",
        "helen",
        "propose_outcome-",
        {"outcome": "advice", "reason": "Because."},
        {"outcome": Outcome.values},
    ),
    "referral": (
        "incidents:record_referral",
        "triage",
        "helen",
        "record_referral-",
        {"kind": "lado", "made_on": "2026-01-05"},
        {"kind": ReferralKind.values},
    ),
    "decision": (
        "incidents:decide",
        "review",
        "gary",
        "uphold-",
        {"decision": "uphold"},
        {"decision": ReviewDecision.values},
    ),
}


@pytest.mark.parametrize("form", list(CHOICE_FORMS))
def test_invalid_choices_are_form_errors(client, cast, cases, form):
    name, state, who, prefix, valid, choices = CHOICE_FORMS[form]
    sign_in(client, getattr(cast, who))
    url = reverse(name, args=[cases[state].reference]) if state else reverse(name)
    with rolled_back():  # the valid data is accepted: the garbage below is the only fault
        assert _post(client, url, {prefix + k: v for k, v in valid.items()}).status_code == 302

    @FUZZ
    @given(field=st.sampled_from(sorted(choices)), garbage=short)
    def check(field, garbage):
        assume(garbage not in choices[field])
        data = {prefix + k: v for k, v in valid.items()} | {prefix + field: garbage}
        with rolled_back():
            assert _post(client, url, data).status_code == 400

    check()


@FUZZ
@given(reference=short)
def test_retention_reference_search(client, cast, reference):
    sign_in(client, cast.priya)
    assert client.get(reverse("retention:upcoming"), {"reference": reference}).status_code in (200, 400)


@FUZZ
@given(also=text)
def test_subject_access_name_search(client, cast, also):
    sign_in(client, cast.priya)
    with rolled_back():
        response = _post(client, reverse("sar:preview", args=[cast.sam.pk]), {"also_search": also})
        assert response.status_code in (200, 400)
