"""transitions.TABLE is the complete list of case actions ([7] item 4): every address that acts on or
reads one case is named by a row; the rows under the case are served by one view from the row's form
and service; and the views take who may act from the table, not from code of their own."""

import dataclasses
import inspect

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.module_loading import import_string

from incidents import references, transitions, views
from incidents.models import Status
from incidents.transitions import TABLE, TRANSITIONS
from tests.incidents.factories import advance, fast_passwords, fresh, policy_for, report, sign_in, upload

pytestmark = [pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

# Pages about one case that are not actions: the case page itself and the reporter's confirmation.
# The preview of an evidence file is the same reading as its download (the "view_evidence" row).
NOT_ACTIONS = {"incidents:detail", "incidents:report_done", "incidents:evidence_preview"}


def _case_urls(patterns=None, prefix="", namespace=""):
    """(name, route) of every URL pattern that takes a case reference or an evidence file's id (other
    apps' random ids, such as a declaration's, are not about a case)."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _case_urls(p.url_patterns, route, ns)
        elif isinstance(p, URLPattern) and (
            "<ref:reference>" in route or ("<uuid:public_id>" in route and namespace.startswith("incidents"))
        ):
            yield f"{namespace}{p.name}", route


def test_every_address_about_one_case_is_a_row_of_the_table():
    found = dict(_case_urls())
    assert "incidents:acknowledge" in found and "audit:case_history" in found and "retention:hold" in found
    named = {t.url_name for t in TABLE}
    assert set(found) - NOT_ACTIONS - named == set(), "an action that is not in transitions.TABLE"
    assert named - set(found) == set(), "a row whose URL does not exist"


def test_the_rows_under_the_case_are_served_by_the_one_view():
    reference = references.new_reference("OAK")
    for t in TABLE:
        if not t.path:
            continue
        match = resolve(reverse(t.url_name, args=[reference]))
        assert match.func is views.case_action, t.name
        assert match.kwargs["name"] == t.name


@pytest.mark.parametrize("t", [t for t in TABLE if t.path], ids=lambda t: t.name)
def test_each_row_names_a_form_its_service_accepts(t):
    """What the form cleans is what the service takes (with the case and the person acting)."""
    service = import_string(t.service)
    params = inspect.signature(service).parameters
    assert {"incident", "actor"} <= set(params), t.service
    assert t.success, t.name
    if t.form:
        fields = set(import_string(t.form).base_fields)
        assert fields <= set(params), (t.form, t.service)
        # Nobody posts who acted, on which case, or when: those come from the request and the clock.
        assert fields.isdisjoint({"incident", "actor", "now", "item"}), t.form


def test_the_errors_are_not_re_exported_from_transitions():
    for name in ("ActionRefused", "Stale", "Invalid"):
        assert not hasattr(transitions, name), name


# --- The views ask the table who may act ----------------------------------------------------------


def _without_roles(monkeypatch, name):
    monkeypatch.setitem(TRANSITIONS, name, dataclasses.replace(TRANSITIONS[name], roles=frozenset()))


@pytest.mark.django_db
def test_an_action_takes_its_roles_from_the_table(client, cast, monkeypatch):
    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam)
    sign_in(client, cast.helen)
    _without_roles(monkeypatch, "acknowledge")
    assert client.post(reverse("incidents:acknowledge", args=[incident.reference])).status_code == 403
    assert fresh(incident).status == Status.SUBMITTED
    monkeypatch.undo()
    assert client.post(reverse("incidents:acknowledge", args=[incident.reference])).status_code == 302
    assert fresh(incident).status == Status.TRIAGE


@pytest.mark.django_db
def test_the_access_history_takes_its_roles_from_the_table(client, cast, monkeypatch):
    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam)
    sign_in(client, cast.helen)
    url = reverse("audit:case_history", args=[incident.reference])
    assert client.get(url).status_code == 200
    _without_roles(monkeypatch, "access_history")
    assert client.get(url).status_code == 403
    assert "Access history" not in client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()


@pytest.mark.django_db
def test_evidence_files_take_their_readers_from_the_table(client, cast, monkeypatch):
    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam, files=[upload()])
    item = incident.evidence.get()
    url = reverse("incidents:evidence_download", args=[item.public_id])
    for reader in (cast.helen, cast.sam):  # the owner, and the reporter who uploaded it
        sign_in(client, reader)
        assert client.get(url).status_code == 200
        with monkeypatch.context() as m:
            _without_roles(m, "view_evidence")
            assert client.get(url).status_code == 404  # a file you may not open is not there


@pytest.mark.django_db
def test_the_pension_age_takes_its_roles_from_the_table(client, cast, monkeypatch):
    from incidents.models import Involved

    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam, involved=Involved.STAFF, subject=cast.dina)
    url = reverse("retention:pension_age", args=[incident.reference])
    sign_in(client, cast.helen)
    with monkeypatch.context() as m:
        _without_roles(m, "set_pension_age")
        assert client.post(url, {"retirement_date": "2050-01-31"}).status_code == 403
        assert fresh(incident).subject_retirement_date is None
    assert client.post(url, {"retirement_date": "2050-01-31"}).status_code == 302
    assert fresh(incident).subject_retirement_date is not None


@pytest.mark.django_db
def test_a_legal_hold_takes_the_heads_side_from_the_table(client, cast, monkeypatch):
    policy_for(cast.oakfield)
    incident = advance(report(cast.oakfield, cast.sam), Status.TRIAGE, cast)
    url = reverse("retention:hold", args=[incident.reference])
    sign_in(client, cast.helen)
    _without_roles(monkeypatch, "place_legal_hold")
    assert client.post(url, {"reason": "Tribunal claim"}).status_code == 403
    assert not fresh(incident).legal_hold
    monkeypatch.undo()
    assert client.post(url, {"reason": "Tribunal claim"}).status_code == 302
    assert fresh(incident).legal_hold


def test_decider_rows_act_only_in_review_so_the_page_works_out_the_panel_only_then():
    """transitions.page_roles skips the review panel outside GOVERNOR_REVIEW: that is right only while
    every row DECIDER may use acts in review alone."""
    decider_rows = [t for t in TABLE if transitions.CaseRole.DECIDER in t.roles]
    assert decider_rows
    for t in decider_rows:
        assert t.sources == frozenset({Status.GOVERNOR_REVIEW}), t.name
