"""`{{ form|crispy }}` and `{{ field|as_crispy_field }}` written straight out in Python: crispy renders
a dozen templates per field, which was a quarter of the sign-in page's time and a third of the case
page's (docs/performance.md). The markup is crispy-bootstrap5's (uni_form.html, errors.html,
field.html and its layout/ partials) around Django's own widget markup (input.html, textarea.html,
select.html), for the widgets the project's forms use: text-like and date inputs, textareas,
selects, radio buttons, checkbox lists, checkboxes, file inputs and hidden inputs, with labels,
help text, errors, disabled fields and fieldsets. Anything else (another widget or widget template,
a crispy helper, a localized field, help text that escaping would change: crispy writes it
unescaped) is handed to crispy. Every value goes through format_html. tests/accounts/
test_sign_in_markup.py and tests/incidents/test_action_markup.py compare the two."""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field, as_crispy_form, optgroups
from django import template
from django.conf import settings
from django.forms import BaseForm
from django.forms.widgets import (
    CheckboxInput,
    FileInput,
    Input,
    RadioSelect,
    Select,
    Textarea,
)
from django.templatetags.l10n import unlocalize
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeData
from django.utils.timezone import template_localtime

register = template.Library()
ASTERISK = format_html('<span class="asteriskField">{}</span>', "*")
FIELDSET_END = format_html("</{}>", "fieldset")
# Django's widget templates that are only django/forms/widgets/input.html.
_INPUT = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "search",
        "tel",
        "color",
        "checkbox",
        "file",
    )
)
_TEXTAREA = "django/forms/widgets/textarea.html"
_SELECT = ("django/forms/widgets/select.html", "django/forms/widgets/select_option.html")


def _kind(field) -> str | None:
    """Which of crispy's field.html branches the field takes, if it is written here; None: crispy's."""
    widget = field.field.widget
    help_text = field.help_text
    if (
        getattr(field.form, "helper", None) is not None
        or field.field.localize
        or hasattr(widget, "widgets")  # a MultiWidget, or a wrapper around another widget
        or hasattr(widget, "widget")
        or (help_text and str(conditional_escape(help_text)) != str(help_text))
    ):
        return None
    if widget.is_hidden:
        return "hidden" if isinstance(widget, Input) and widget.template_name in _INPUT else None
    if isinstance(widget, RadioSelect):  # and CheckboxSelectMultiple: crispy writes the options itself
        return "choices"
    if isinstance(widget, FileInput):
        return "file"
    if isinstance(widget, Select):
        return "select" if (widget.template_name, widget.option_template_name) == _SELECT else None
    if isinstance(widget, CheckboxInput):
        return "checkbox" if widget.template_name in _INPUT else None
    if isinstance(widget, Textarea):
        return "textarea" if widget.template_name == _TEXTAREA else None
    if isinstance(widget, Input) and widget.template_name in _INPUT:
        return "input"
    return None


def _s(value):
    """`{{ value|stringformat:'s' }}`: no localization; a safe string stays unescaped."""
    return value if isinstance(value, SafeData) else str(value)


def _text(value):
    """`{{ value }}`: what the template engine writes for a value (localized unless a string)."""
    if isinstance(value, str | Promise):
        return value
    return str(localize(template_localtime(value)))


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: True is a bare name, False is left out."""
    return format_html_join(
        "",
        " {}{}",
        (
            (name, "" if value is True else format_html('="{}"', _s(value)))
            for name, value in attrs.items()
            if value is not False
        ),
    )


def _crispy_class(widget, extra: str) -> str:
    """The class crispy's {% crispy_field %} gives the widget: its own, the widget's class name, then
    Bootstrap's (crispy writes it into widget.attrs; here it is only computed)."""
    name = type(widget).__name__.lower()
    name = getattr(settings, "CRISPY_CLASS_CONVERTERS", {}).get(name, name)
    css = widget.attrs.get("class", "")
    css = (f"{css} {name}" if name not in css else css) if css else name
    tokens = css.split()
    for token in extra.split():
        if token not in tokens:
            css += f" {token}"
            tokens.append(token)
    return css


def _widget_context(field, css: str | None) -> dict:
    """BoundField.as_widget's context, with crispy's class as {% crispy_field %} leaves it."""
    widget = field.field.widget
    attrs = field.build_widget_attrs({})
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    if css is not None:  # where crispy puts it: in widget.attrs, before the attributes of the field
        merged = {**widget.attrs, "class": css}
        merged.update(context["attrs"])
        merged["class"] = css
        context["attrs"] = merged
    return context


def _input(context) -> str:
    value = context["value"]
    return format_html(
        '<input type="{}" name="{}"{}{}>',
        context["type"],
        context["name"],
        format_html(' value="{}"', _s(value)) if value is not None else "",
        _attrs(context["attrs"]),
    )


def _textarea(context, spaceless: bool) -> str:
    value = context["value"]
    if spaceless and value and not value.strip() and len(value) >= 2:
        # crispy's {% specialspaceless %} turns ">" + 3 or more spaces + "<" into "> <".
        return format_html('<textarea name="{}"{}> </textarea>', context["name"], _attrs(context["attrs"]))
    return format_html(
        '<textarea name="{}"{}>\n{}</textarea>',
        context["name"],
        _attrs(context["attrs"]),
        _text(value) if value else "",
    )


def _option(option) -> str:
    return format_html(
        '\n  <option value="{}"{}>{}</option>', _s(option["value"]), _attrs(option["attrs"]), _text(option["label"])
    )


def _select(context) -> str:
    groups = []
    for name, options, _index in context["optgroups"]:
        html = format_html_join("", "{}", ((_option(option),) for option in options))
        groups.append(format_html('\n  <optgroup label="{}">{}\n  </optgroup>', _text(name), html) if name else html)
    return format_html(
        '<select name="{}"{}>{}\n</select>',
        context["name"],
        _attrs(context["attrs"]),
        format_html_join("", "{}", ((g,) for g in groups)),
    )


def _errors(field) -> str:
    """bootstrap5/layout/field_errors_block.html."""
    errors = field.errors
    if not errors:
        return ""
    auto_id = field.auto_id
    return format_html(
        '<div id="{}_error" class="invalid-feedback">{}</div>',
        errors.field_id,
        format_html_join(
            "", '<p id="error_{}_{}"><strong>{}</strong></p>', ((n, auto_id, _text(e)) for n, e in enumerate(errors, 1))
        ),
    )


def _help(field) -> str:
    """bootstrap5/layout/help_text.html (help text that escaping leaves as it is: _kind)."""
    if not field.help_text:
        return ""
    auto_id = field.auto_id
    return format_html(
        '<div {}class="form-text">{}</div>',
        format_html('id="{}_helptext" ', auto_id) if auto_id else "",
        field.help_text,
    )


def _choices(field) -> str:
    """bootstrap5/layout/radio_checkbox_select.html: the errors inside the last option."""
    invalid = " is-invalid" if field.errors else ""
    groups = optgroups(field)
    last_group = len(groups) - 1
    html = []
    for g, (group, options, _index) in enumerate(groups):
        if group:
            html.append(format_html("<strong>{}</strong>", _text(group)))
        for o, option in enumerate(options):
            errors = _errors(field) if g == last_group and o == len(options) - 1 else ""
            html.append(
                format_html(
                    '<div class="form-check"><input type="{}" class="form-check-input{}" name="{}" value="{}"{}>'
                    '<label for="{}" class="form-check-label">{}</label>{}</div>',
                    option["type"],
                    invalid,
                    field.html_name,
                    unlocalize(option["value"]),
                    _attrs(option["attrs"]),
                    _text(option["attrs"].get("id", "")),
                    unlocalize(option["label"]),
                    errors,
                )
            )
    return format_html("<div>{}</div>{}", format_html_join("", "{}", ((part,) for part in html)), _help(field))


def _file(field) -> str | None:
    """bootstrap5/layout/field_file.html, for a field without a current file (None: with one)."""
    widget = field.field.widget
    id_ = widget.attrs.get("id") or field.auto_id
    context = widget.get_context(field.html_name, field.value(), field.build_widget_attrs({"id": id_} if id_ else {}))
    context = context["widget"]
    if context.get("is_initial"):
        return None
    attrs = context["attrs"]
    errors = field.errors
    return format_html(
        '<div{}><input type="{}" name="{}" class="form-control{}{}"{}{}>{}{}</div>',
        format_html(' class="{}"', "is-invalid") if errors else "",
        context["type"],
        context["name"],
        format_html(" {}", _s(attrs["class"])) if attrs.get("class") else "",
        " is-invalid" if errors else "",
        " disabled" if field.field.disabled else "",
        _attrs({k: v for k, v in attrs.items() if k != "class"}),
        _errors(field),
        _help(field),
    )


def _label(field, tag: str) -> str:
    for_ = format_html(' for="{}"', field.id_for_label) if field.id_for_label else ""
    required = field.field.required
    return format_html(
        '<{}{} class="form-label{}{}">{}{}</{}>',
        tag,
        for_,
        " requiredField" if required else "",
        " fs-6" if tag == "legend" else "",
        _text(field.label),
        ASTERISK if required else "",
        tag,
    )


def _field(field, kind: str, spaceless: bool) -> str | None:
    """bootstrap5/field.html for one of _kind's kinds; None where crispy must write it after all."""
    if kind == "hidden":
        return _input(_widget_context(field, None))
    errors = bool(field.errors)
    classes = field.css_classes()
    classes = f" {classes}" if classes else ""
    auto_id = field.auto_id
    if kind == "checkbox":
        required = field.field.required
        body = format_html(
            '{}<label for="{}" class="form-check-label{}">{}{}</label>{}{}',
            _input(_widget_context(field, _crispy_class(field.field.widget, _bootstrap("form-check-input", errors)))),
            _text(field.id_for_label),
            " requiredField" if required else "",
            _text(field.label),
            ASTERISK if required else "",
            _errors(field),
            _help(field),
        )
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="form-check{}">{}</div></div>', auto_id, classes, body
        )
    if kind == "file":
        body = _file(field)
        if body is None:
            return None
    elif kind == "choices":
        body = _choices(field)
    else:
        widget = field.field.widget
        bootstrap = _bootstrap("form-select" if kind == "select" else "form-control", errors)
        context = _widget_context(field, _crispy_class(widget, bootstrap))
        if kind == "select":
            control = _select(context)
        elif kind == "textarea":
            control = _textarea(context, spaceless)
        else:
            control = _input(context)
        body = format_html("{}{}{}", control, _errors(field), _help(field))
    fieldset = field.use_fieldset and field.label
    if field.label:
        label = _label(field, "legend" if field.use_fieldset else "label")
        if fieldset:
            described = field.aria_describedby
            label = format_html(
                "<fieldset{}>{}", format_html(' aria-describedby="{}"', described) if described else "", label
            )
        body = format_html("{}{}", label, body)
    return format_html(
        '<div id="div_{}" class="mb-3{}">{}{}</div>', auto_id, classes, body, FIELDSET_END if fieldset else ""
    )


def _bootstrap(css: str, errors: bool) -> str:
    return f"{css} is-invalid" if errors else css


def _write_field(field, spaceless: bool):
    kind = _kind(field)
    html = _field(field, kind, spaceless) if kind else None
    return as_crispy_field(field) if html is None else html


@register.filter
def plain_crispy_field(field):
    """`{{ field|as_crispy_field }}`."""
    return _write_field(field, spaceless=False)


@register.filter
def plain_crispy(form):
    """`{{ form|crispy }}`: the non-field errors, then every field in order (hidden ones bare)."""
    if not isinstance(form, BaseForm) or getattr(form, "helper", None) is not None:
        return as_crispy_form(form)
    errors = form.non_field_errors()
    block = ""
    if errors:
        block = format_html(
            '<div class="alert alert-block alert-danger"><ul class="m-0">{}</ul></div>',
            format_html_join("\n", "\t<li>{}</li>", ((e,) for e in errors)),
        )
    fields = format_html_join("", "{}", ((_write_field(field, spaceless=True),) for field in form))
    return format_html("{}{}", block, fields)
