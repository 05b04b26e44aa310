"""Form fields written straight out, for pages where Django's widget templates cost more than the
page around them: a <select> renders one template per option, which was most of the triage queue's
filter form (docs/performance.md). The markup is the same as `{{ field }}` (tests/policyhub/test_plain_fields.py
compares the two)."""

from functools import lru_cache

from django import template
from django.forms import Select
from django.utils.html import conditional_escape, format_html, format_html_join

register = template.Library()


@register.simple_tag
def plain_select(field):
    """`{{ field }}` for a single-choice select with flat choices; anything else renders as usual."""
    widget = field.field.widget
    choices = list(widget.choices)
    if type(widget) is not Select or any(isinstance(label, list | tuple) for _value, label in choices):
        return str(field)
    attrs = {"name": field.html_name, **widget.attrs, **field.build_widget_attrs({}, widget)}
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    selected = tuple(sorted(set(widget.format_value(field.value()))))
    # The options are the same for every page with the same choices and selection: written once, keyed
    # by each label as it will be written (escaped unless marked safe), so an entry is exactly the
    # markup for those labels.
    options = _options(tuple((str(value), conditional_escape(label)) for value, label in choices), selected)
    return format_html("<select{}>{}</select>", _attributes(attrs), options)


@lru_cache(maxsize=1024)
def _options(choices: tuple, selected: tuple) -> str:
    """The <option>s of `choices` ((value, label already escaped)), as the widget's template writes them."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if value in selected else "", label) for value, label in choices),
    )


def _attributes(attrs: dict):
    # As django/forms/widgets/attrs.html: True is a bare name, False is left out.
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", k) if v is True else format_html(' {}="{}"', k, v),)
            for k, v in attrs.items()
            if v is not False
        ),
    )
