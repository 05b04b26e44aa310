"""The case page's action forms are written without crispy's templates (policyhub/templatetags/
plain_crispy.py, [12] Performance): the markup must be what `{{ form|crispy }}` and
`{{ field|as_crispy_field }}` wrote, for every form a panel can hold (taken from views._panels and
transitions.TABLE, so a new action is covered), unbound, bound with refused data, with a non-field
error and disabled. Compared twice: as parsed HTML, and as text with only the whitespace between
and inside tags squeezed (attribute order, class order and escaping count there)."""

import re
from datetime import UTC, datetime

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field, as_crispy_form
from django import forms
from django.http import QueryDict
from django.test import Client
from django.test.html import parse_html
from django.urls import reverse

from incidents import takedowns, views
from incidents.models import Incident, Involved, Route, Status
from incidents.transitions import TABLE
from policyhub.templatetags import plain_crispy
from tests.factories import SchoolFactory
from tests.incidents.factories import (
    advance,
    facebook_takedown,
    fast_passwords,
    fresh,
    policy_for,
    report,
    sign_in,
    upload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

EVIL = "\"><b>x</b> & 'y'"
WHEN = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _squeezed(html: str) -> str:
    html = re.sub(r"\s+", " ", str(html))
    return re.sub(r"\s*([<>])\s*", r"\1", html).strip()


def _assert_same(ours, theirs, what):
    assert _squeezed(ours).replace("><", ">\n<").splitlines() == _squeezed(theirs).replace("><", ">\n<").splitlines(), (
        what
    )
    assert parse_html(ours) == parse_html(theirs), what


def _case(cast, involved, status=Status.INVESTIGATING):
    policy_for(cast.oakfield)
    subject = {"subject": cast.sam} if involved == Involved.STAFF else {}
    case = report(cast.oakfield, cast.dina, involved=involved, files=[upload()], **subject)
    case = advance(case, status, cast)
    facebook_takedown(case, cast.helen)
    case = fresh(case)
    if involved == Involved.STAFF:  # the allegation forms and the allegation outcome
        case.route = Route.ALLEGATION
    return case


def _panel_forms(incident, data=None, files=None) -> dict:
    """Every action form a case page can show, as views._panels builds them (bound: as case_action)."""
    actions = {t.name: t for t in TABLE}
    fetched = {"takedowns": takedowns.for_case(incident)}
    bound = {}
    if data is not None:
        bound = {name: views._form_for(t, incident, data, files or {}, fetched=fetched) for name, t in actions.items()}
        bound = {name: form for name, form in bound.items() if form is not None}
    panels = views._panels(incident, actions, bound, {}, fetched)
    return {panel.name: panel.form for panel in panels if panel.form is not None}


def _data(incident, how: str) -> QueryDict:
    data = QueryDict(mutable=True)
    if how == "empty":
        return data
    for form in _panel_forms(incident).values():
        for name, field in form.fields.items():
            key = form.add_prefix(name)
            choices = [str(value) for value, _ in getattr(field, "choices", ()) if str(value)]
            if how == "picked" and choices:
                data.setlist(key, choices if isinstance(field, forms.MultipleChoiceField) else choices[-1:])
            else:
                data[key] = EVIL if how == "evil" else "   "
    return data


def _forms(incident, how: str, disabled: bool) -> dict:
    data = None if how == "unbound" else _data(incident, how)
    built = _panel_forms(incident, data)
    for form in built.values():
        if disabled:
            for field in form.fields.values():
                field.disabled = True
        if data is not None:
            form.is_valid()
            if how == "evil":
                form.add_error(None, EVIL)
    return built


@pytest.fixture
def fallbacks(monkeypatch):
    """The fields plain_crispy handed to crispy."""
    seen = []

    def recorded(field, *args, **kwargs):
        seen.append(field)
        return as_crispy_field(field, *args, **kwargs)

    monkeypatch.setattr(plain_crispy, "as_crispy_field", recorded)
    return seen


@pytest.mark.parametrize("involved", [Involved.PARENT, Involved.STAFF])
@pytest.mark.parametrize("how", ["unbound", "empty", "evil", "picked"])
@pytest.mark.parametrize("disabled", [False, True])
def test_every_action_form_is_written_as_crispy_wrote_it(cast, fallbacks, involved, how, disabled):
    incident = _case(cast, involved)
    # Two builds of the same forms: crispy writes its classes into the widgets as it renders.
    ours, theirs = _forms(incident, how, disabled), _forms(incident, how, disabled)
    assert ours.keys() == theirs.keys() and {"triage", "add_note", "add_evidence", "record_removal"} <= ours.keys()
    if involved == Involved.STAFF:
        assert {"record_formal_action", "propose_outcome"} <= ours.keys()
    for name, form in ours.items():
        _assert_same(plain_crispy.plain_crispy(form), as_crispy_form(theirs[name]), name)
        for field in form:  # the triage form writes its fields one by one
            _assert_same(plain_crispy.plain_crispy_field(field), as_crispy_field(theirs[name][field.name]), field)
    if how != "unbound":
        assert any(form.errors for form in ours.values())
    # Every field of every action is written here, AssignTaskForm's help text with its apostrophe too
    # (crispy writes help text `|safe`; escaping it sent the field to crispy's templates before).
    assert fallbacks == []


class Odd(forms.Form):
    """Widgets and states the case page's forms do not have today."""

    required_css_class = "needed"
    error_css_class = "wrong"
    agree = forms.BooleanField(label="I agree & <sign>", help_text="Tick it.")
    optional_agree = forms.BooleanField(required=False, widget=forms.CheckboxInput(attrs={"class": "big"}))
    grouped = forms.ChoiceField(
        choices=[("", "None"), ("Fruit", [("a", "Apple"), ("b", "<b>Banana</b>")]), ("Veg", [("c", "Carrot")])],
        required=False,
    )
    many = forms.MultipleChoiceField(choices=[(1, "One"), (2, "Two")], widget=forms.SelectMultiple)
    ticks = forms.MultipleChoiceField(
        choices=[("x", "X"), ("y", "Y")], widget=forms.CheckboxSelectMultiple, help_text="Any."
    )
    flags = forms.TypedChoiceField(
        choices=[(True, "Yes"), (False, "No")], coerce=bool, widget=forms.RadioSelect(attrs={"data-x": "1"})
    )
    number = forms.DecimalField(widget=forms.NumberInput(attrs={"class": "form-control numberinput narrow"}))
    when = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"id": "own-id"}))
    file = forms.FileField(required=False, widget=forms.ClearableFileInput(attrs={"class": "x"}), help_text="One.")
    marked = forms.CharField(required=False, help_text="<em>as written</em> & 'quoted'")  # |safe, as crispy
    price = forms.DecimalField(required=False, localize=True)  # left to crispy
    secret = forms.CharField(widget=forms.HiddenInput, initial='a"b')
    nolabel = forms.CharField(label="", widget=forms.Textarea, required=False)
    twice = forms.ChoiceField(choices=[("a", "A"), ("b", "B"), ("a", "A again")], required=False)  # first one chosen


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {
            "grouped": "b",
            "many": ["2"],
            "ticks": ["x", "y"],
            "flags": "True",
            "number": "x",
            "when": "nope",
            "nolabel": "  \n ",
            "agree": "on",
            "twice": "a",
        },
    ],
)
@pytest.mark.parametrize("disabled", [False, True])
def test_other_widgets_are_written_as_crispy_wrote_them(fallbacks, data, disabled):
    def build():
        form = Odd(data=data, initial={"when": WHEN})
        for field in form.fields.values():
            field.disabled = disabled
        if data is not None:
            form.is_valid()
            form.add_error(None, "First")
            form.add_error(None, EVIL)
        return form

    ours, theirs = build(), build()
    _assert_same(plain_crispy.plain_crispy(ours), as_crispy_form(theirs), "form")
    ours, theirs = build(), build()
    for field in ours:
        _assert_same(plain_crispy.plain_crispy_field(field), as_crispy_field(theirs[field.name]), field.name)
    assert {field.name for field in fallbacks} == {"price"}


def _page(client, method, url, data=None) -> str:
    response = getattr(client, method)(url, data)
    assert response.status_code in (200, 400), response.status_code
    return CSRF.sub('name="csrfmiddlewaretoken" value="x"', response.content.decode())


@pytest.mark.parametrize("involved", [Involved.PARENT, Involved.STAFF])
@pytest.mark.parametrize("status", [Status.TRIAGE, Status.INVESTIGATING])
def test_the_heads_case_page_is_the_page_crispy_wrote(cast, monkeypatch, involved, status):
    """The whole page, as shown and refused, against the same page with every field left to crispy."""
    case = _case(cast, involved, status)
    client = Client()
    sign_in(client, cast.helen)
    ref = case.reference
    requests = [("get", reverse("incidents:detail", args=[ref]), None)]
    if status == Status.TRIAGE:
        requests.append(("post", reverse("incidents:triage", args=[ref]), {"triage-route": EVIL}))
    else:
        requests.append(("post", reverse("incidents:add_note", args=[ref]), {"add_note-note": "   "}))
        requests.append(("post", reverse("incidents:record_removal", args=[ref]), {"record_removal-takedown": EVIL}))
    for method, url, data in requests:
        plain_crispy._FIXED.clear()  # each page writes its fixed forms itself (plain_crispy.fixed_markup)
        ours = _page(client, method, url, data)
        with monkeypatch.context() as patched:
            patched.setattr(plain_crispy, "_kind", lambda field: None)
            plain_crispy._FIXED.clear()
            theirs = _page(client, method, url, data)
        plain_crispy._FIXED.clear()
        assert 'class="textarea form-control' in ours and 'name="withdraw-reason"' in ours
        assert ("is-invalid" in ours) == (data is not None)
        _assert_same(ours, theirs, url)


# --- Forms written once (plain_crispy.fixed_markup) ---------------------------------------------------


@pytest.mark.parametrize("involved", [Involved.PARENT, Involved.STAFF])
def test_a_fixed_forms_markup_is_the_markup_of_the_form_built_for_the_case(cast, involved):
    """Every action whose form is written once per process writes what its form, built for this case
    as the page built it before, writes; the forms that depend on the case are not written once."""
    incident = _case(cast, involved)
    fetched = {"takedowns": takedowns.for_case(incident)}
    plain_crispy._FIXED.clear()
    fixed = {}
    for t in TABLE:
        if not (t.path and t.form):
            continue
        form_class = views._form_class(t.form)[0]
        found = plain_crispy.fixed_markup(form_class, t.name)
        if found is None:
            continue
        fixed[t.name] = found
        built = views._form_for(t, incident, fetched=fetched)
        assert found == (plain_crispy.plain_crispy(built), built.is_multipart()), t.name
        assert plain_crispy.fixed_markup(form_class, t.name) is found  # written once
    # Forms of fields alone are fixed; those given the case, its clauses, its people or its take-downs,
    # or a constructor of their own, are built for each page.
    assert {"add_note", "add_evidence", "record_referral", "close", "request_takedown"} <= fixed.keys()
    assert not fixed.keys() & {"triage", "assign_task", "record_removal", "propose_outcome", "what_we_did"}
    assert fixed["add_evidence"][1] and not fixed["add_note"][1]  # posts files, or not


class _Person(forms.Form):
    name = forms.CharField()


class _Built(_Person):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)


class _Now(_Person):
    when = forms.DateTimeField(initial=lambda: datetime.now(UTC))


class _Query(_Person):
    who = forms.ModelChoiceField(queryset=Incident.objects.none())


class _Called(_Person):
    pick = forms.ChoiceField(choices=lambda: [("a", "A")])


def test_a_form_is_fixed_only_when_nothing_in_it_is_worked_out_when_built_or_written():
    assert plain_crispy.fixed_markup(_Person, "p") is not None
    for form_class in (_Built, _Now, _Query, _Called):
        assert plain_crispy.fixed_markup(form_class, "p") is None, form_class


def test_the_case_page_builds_only_the_forms_that_depend_on_the_case(cast, monkeypatch):
    incident = _case(cast, Involved.PARENT, Status.INVESTIGATING)
    built = []
    form_for = views._form_for
    monkeypatch.setattr(
        views, "_form_for", lambda t, *args, **kwargs: built.append(t.name) or form_for(t, *args, **kwargs)
    )
    client = Client()
    sign_in(client, cast.helen)
    page = _page(client, "get", reverse("incidents:detail", args=[incident.reference]))
    # The fixed forms are on the page, written from their markup: not built.
    assert 'name="add_note-note"' in page and 'name="add_evidence-files"' in page
    assert built and not {"add_note", "add_evidence", "record_referral"} & set(built)
    # The task form is written around its people's options (test_the_task_form_s_people_...).
    assert 'name="assign_task-assignee"' in page and "assign_task" not in built


def test_the_task_form_s_people_are_written_into_its_kept_markup_as_crispy_writes_the_form(cast, fallbacks):
    """The task form on the case page: its markup kept around the options of its people, and the
    options of this case's people written into it. The same markup as crispy's for the form whose
    people come from its model choice field (assignable_people: the rule, names escaped, in order),
    for a case with people of awkward names, a case about the head (fewer people) and a case with
    nobody to give a task to."""
    from accounts.models import Membership, Role, User
    from incidents.assignments import assignable_people
    from incidents.forms import AssignTaskForm
    from tests.factories import person

    person(EVIL, cast.oakfield, Role.STAFF)
    person("Zoë O'Neill & Sons", cast.oakfield, Role.STAFF)
    nameless = person("Nameless", cast.oakfield, Role.STAFF)
    User.objects.filter(pk=nameless.pk).update(full_name="")  # labelled by the email address
    cases = [
        _case(cast, Involved.PARENT),
        fresh(report(cast.oakfield, cast.dina, involved=Involved.STAFF, subject=cast.helen)),
    ]
    lone = SchoolFactory(trust=None, name="Lone School", slug="lone", code="LON", urn="100009")
    head = person("Hana Ito", lone, Role.HEAD, Role.STAFF)
    dsl = person("Lena Ode", lone, Role.DSL, Role.STAFF)
    cases.append(fresh(report(lone, dsl, involved=Involved.STAFF, subject=head)))  # no-one else there
    assign, seen = next(t for t in TABLE if t.name == "assign_task"), []
    for incident in cases:
        (panel,) = views._panels(incident, {"assign_task": assign}, {}, {}, {})
        expected = AssignTaskForm(prefix="assign_task", incident=incident, options=[])
        expected.fields["assignee"].queryset = assignable_people(incident)  # Django's own options
        _assert_same(panel.fields, as_crispy_form(expected), incident.reference)
        seen.append(len(list(assignable_people(incident))))
        assert panel.multipart is False
    assert seen[0] > seen[1] > seen[2] == 0  # people, fewer people (about the head), nobody
    assert User.objects.filter(pk__in=Membership.objects.values("user")).count() > seen[0]
    assert fallbacks == []


@pytest.mark.parametrize("involved", [Involved.PARENT, Involved.STAFF])
def test_each_plain_card_is_written_as_its_template_wrote_it(cast, involved):
    """views._Panel.card (the cards without a partial of their own) against incidents/_action.html
    rendered for the same card: the same text, character for character, for the cards of cases at
    each stage, unbound and bound with refused data, with unmet requirements (a disabled button),
    forms that post files and a text that needs escaping."""
    from django.template import Context
    from django.template.defaulttags import CsrfTokenNode
    from django.template.loader import render_to_string

    token = "tok<&>"
    csrf = CsrfTokenNode().render(Context({"csrf_token": token}))
    actions = {t.name: t for t in TABLE if t.path}
    compared, disabled, multipart, bound_seen = set(), 0, 0, 0
    for status in (Status.SUBMITTED, Status.TRIAGE, Status.INVESTIGATING, Status.OUTCOME_PROPOSED):
        incident = _case(cast, involved, status)
        fetched = {"takedowns": takedowns.for_case(incident)}
        data = _data(incident, "evil")
        for bound in ({}, {n: views._form_for(t, incident, data, {}, fetched=fetched) for n, t in actions.items()}):
            bound = {name: form for name, form in bound.items() if form is not None}
            for form in bound.values():
                form.is_valid()
                form.add_error(None, EVIL)
            for panel in views._panels(incident, actions, bound, {}, fetched):
                if not panel.plain:
                    continue
                panel.problems = [*panel.problems, EVIL] if panel.name == "add_note" else panel.problems
                expected = render_to_string("incidents/_action.html", {"panel": panel, "csrf_token": token})
                assert panel.card(csrf) == expected, panel.name
                compared.add(panel.name)
                disabled += bool(panel.problems)
                multipart += panel.multipart
                bound_seen += panel._bound is not None
    assert {"add_note", "add_evidence", "assign_task", "record_referral"} <= compared
    assert disabled and multipart and bound_seen  # each branch of the card was compared
    assert "record_removal" in compared  # offered while a take-down request waits (views._OFFERED_WHEN)
    assert ("decide_to_investigate" in compared) == (involved == Involved.STAFF)  # on the allegation route only
    assert not compared & {"triage", "uphold"}  # cards with partials of their own
