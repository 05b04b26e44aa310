"""policyhub/templatetags/plain_fields.py writes a <select> without Django's widget templates: the
markup must be what `{{ field }}` gives, whatever the data (docs/performance.md)."""

import pytest
from django import forms
from django.test.html import parse_html

from incidents.forms import QueueFilterForm
from policyhub.templatetags.plain_fields import plain_select


class Odd(forms.Form):
    flag = forms.ChoiceField(
        choices=[("a", "<b>A & B</b>"), ("1", "One")],
        help_text="Pick one",
        widget=forms.Select(attrs={"class": "form-select", "data-x": 'say "hi"', "disabled": False, "autofocus": True}),
    )
    grouped = forms.ChoiceField(required=False, choices=[("Group", [("g", "G")])])
    many = forms.MultipleChoiceField(required=False, choices=[("m", "M")])


@pytest.mark.parametrize(
    "data",
    [None, {}, {"status": "submitted", "category": "", "severity": "high"}, {"status": "closed", "severity": "bogus"}],
)
def test_the_queue_filters_render_as_django_renders_them(data):
    form = QueueFilterForm(data)
    form.is_valid()
    for name in ("status", "category", "severity"):
        assert parse_html(plain_select(form[name])) == parse_html(str(form[name])), name


@pytest.mark.parametrize("data", [None, {"flag": "1"}, {"flag": "<x>"}])
def test_escaping_help_text_bare_and_false_attributes_and_required_match(data):
    form = Odd(data)
    form.is_valid()
    assert parse_html(plain_select(form["flag"])) == parse_html(str(form["flag"]))
    assert "&lt;b&gt;A &amp; B&lt;/b&gt;" in plain_select(form["flag"])


def test_grouped_and_multiple_choices_fall_back_to_the_widget():
    form = Odd({"many": ["m"]})
    assert plain_select(form["grouped"]) == str(form["grouped"])
    assert plain_select(form["many"]) == str(form["many"])


def test_written_options_are_kept_per_label_text_and_safety():
    """The options are written once per choices and selection: a label marked safe and the same
    text not marked safe are two entries, each rendered as Django renders it."""
    from django.utils.safestring import mark_safe

    def form(label):
        class One(forms.Form):
            pick = forms.ChoiceField(choices=[("x", label)])

        return One({"pick": "x"})

    plain, safe = form("<i>x</i>")["pick"], form(mark_safe("<i>x</i>"))["pick"]  # noqa: S308
    for field in (plain, safe, plain):
        assert parse_html(plain_select(field)) == parse_html(str(field))
    assert "&lt;i&gt;" in plain_select(plain) and "<i>x</i>" in plain_select(safe)
