"""The sign-in page writes its fields without crispy's templates (policyhub/templatetags/plain_crispy.py,
[12] Performance): the markup must be what `{{ field|as_crispy_field }}` gave, attribute for
attribute (labels, the required asterisk, autocomplete, autofocus, aria-invalid and
aria-describedby, the error block), in every state the page shows."""

import re

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.template.loader import render_to_string
from django.test import Client
from django.test.html import parse_html
from django.urls import reverse

from accounts.forms import EmailAuthenticationForm
from policyhub.templatetags.plain_crispy import plain_crispy_field
from tests.oidc_provider import provider_for

pytestmark = pytest.mark.django_db

WRONG = "not the password at all"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _old_form(response) -> str:
    """The form as the page wrote it before: templates/_form.html, fields through crispy."""
    html = render_to_string(
        "_form.html", {"form": response.context["form"], "submit_label": "Sign in"}, request=response.wsgi_request
    )
    return CSRF.sub('name="csrfmiddlewaretoken" value="x"', html)


def _page(response) -> str:
    return CSRF.sub('name="csrfmiddlewaretoken" value="x"', response.content.decode())


def _assert_same_form(response):
    page, old = _page(response), _old_form(response)
    assert parse_html(page).count(parse_html(old)) == 1, old


class _Idp:  # provider_for needs only these
    issuer = "https://login.example.net/riverside"
    url = "https://login.example.net"


def test_the_empty_form_is_as_crispy_wrote_it():
    response = Client().get(reverse("login"))
    _assert_same_form(response)
    page = response.content.decode()
    for attribute in ('autocomplete="email"', 'autocomplete="current-password"', "autofocus", "required"):
        assert attribute in page


@pytest.mark.parametrize(
    "data",
    [
        {"username": "not an address", "password": ""},
        {"username": "", "password": ""},
        {"username": "<b>x@y</b>", "password": "p"},
        {"username": "nobody@oakfield.example.org", "password": WRONG},
    ],
)
def test_a_refused_form_is_as_crispy_wrote_it(cast, data):
    response = Client().post(reverse("login"), data)
    assert response.status_code == 200
    _assert_same_form(response)
    if data["username"] != "nobody@oakfield.example.org":
        page = response.content.decode()
        assert 'aria-invalid="true"' in page and 'aria-describedby="id_username_error"' in page
        assert "&lt;b&gt;" in page or "<b>" not in data["username"]


def test_the_sso_only_refusal_and_the_buttons_are_as_before(cast):
    provider_for(_Idp, cast.trust, password_sign_in=False, allowed_domains="oakfield.example.org")
    response = Client().post(reverse("login"), {"username": cast.sam.email, "password": cast.password})
    assert response.status_code == 200
    assert "signs in with Riverside accounts only" in response.content.decode()
    _assert_same_form(response)
    button = (
        '<a class="btn btn-outline-primary w-100" href="/accounts/sso/riverside/start/">'
        "Sign in with Riverside accounts</a>"
    )
    assert parse_html(button) in parse_html(response.content.decode())


def test_after_a_lockout_the_form_is_as_before(cast):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(5):
        response = client.post(reverse("login"), {"username": cast.dina.email, "password": WRONG})
    assert response.status_code == 429
    assert "Sign-in paused for this account" in response.content.decode()
    response = client.post(reverse("login"), {"username": cast.sam.email, "password": WRONG})
    assert response.status_code == 200
    _assert_same_form(response)


class Odd(forms.Form):
    """Inputs the sign-in form does not have, to show the markup follows the field, not a copy of it."""

    name = forms.CharField(
        required=False, label="Name & <title>", widget=forms.TextInput(attrs={"class": "wide", "data-x": 'say "hi"'})
    )
    age = forms.IntegerField(min_value=3, widget=forms.NumberInput(attrs={"disabled": False, "spellcheck": True}))
    unlabelled = forms.CharField(label="", required=False)
    helped = forms.CharField(help_text="<em>as written</em>", required=False)  # left to crispy
    agree = forms.BooleanField(required=False)  # left to crispy
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)  # left to crispy


@pytest.mark.parametrize("form_class", [EmailAuthenticationForm, Odd])
@pytest.mark.parametrize(
    "data", [None, {}, {"username": "a@b.example", "name": '"><script>', "age": "2"}, {"age": "x", "unlabelled": "u"}]
)
def test_each_field_renders_as_crispy_renders_it(form_class, data):
    form = form_class(data=data) if form_class is Odd else form_class(data=data)
    form.is_valid() if data is not None else None
    # Ours first: crispy adds its classes to the widget's attributes as it renders.
    ours = {name: plain_crispy_field(form[name]) for name in form.fields}
    for name in form.fields:
        assert parse_html(ours[name]) == parse_html(as_crispy_field(form[name])), name
