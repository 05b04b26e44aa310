"""`{{ field|as_crispy_field }}` written straight out for plain text-like inputs (text, email,
password, number...): crispy renders a dozen templates per field, which was a quarter of the
sign-in page's time (docs/performance.md). The markup is crispy's bootstrap5 field.html with
Django's own input attributes; any other field (a checkbox, a select, a file, a field with help text,
a form with a crispy helper) is handed to crispy as before. tests/accounts/test_sign_in_markup.py
compares the two."""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import template
from django.forms.widgets import CheckboxInput, FileInput, Input
from django.utils.html import format_html, format_html_join

register = template.Library()
ASTERISK = format_html('<span class="asteriskField">{}</span>', "*")


def _is_plain(field) -> bool:
    widget = field.field.widget
    return (
        isinstance(widget, Input)
        and not isinstance(widget, FileInput | CheckboxInput)
        and not widget.is_hidden
        and getattr(field.form, "helper", None) is None
        and not field.use_fieldset
        and not field.help_text  # crispy writes it unescaped; left to crispy
    )


@register.filter
def plain_crispy_field(field):
    if not _is_plain(field):
        return as_crispy_field(field)
    widget, errors, auto_id = field.field.widget, field.errors, field.auto_id
    required = field.field.required
    # crispy adds the widget's class name and Bootstrap's classes to the widget's own.
    css = widget.attrs.get("class", "")
    name = type(widget).__name__.lower()
    css = f"{css} {name}" if css and name not in css else (css or name)
    css += " form-control is-invalid" if errors else " form-control"
    attrs = field.build_widget_attrs({})
    if auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    context["attrs"]["class"] = css
    # As django/forms/widgets/input.html and attrs.html: True is a bare name, False is left out.
    value = format_html(' value="{}"', str(context["value"])) if context["value"] is not None else ""
    attributes = format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", k) if v is True else format_html(' {}="{}"', k, v),)
            for k, v in context["attrs"].items()
            if v is not False
        ),
    )
    classes = field.css_classes()
    html = [format_html('<div id="div_{}" class="mb-3{}">', auto_id, f" {classes}" if classes else "")]
    if field.label:
        label_for = format_html(' for="{}"', field.id_for_label) if field.id_for_label else ""
        html.append(
            format_html(
                '<label{} class="form-label{}">{}{}</label>',
                label_for,
                " requiredField" if required else "",
                field.label,
                ASTERISK if required else "",
            )
        )
    html.append(format_html('<input type="{}" name="{}"{}{}>', context["type"], context["name"], value, attributes))
    if errors:
        messages = format_html_join(
            "", '<p id="error_{}_{}"><strong>{}</strong></p>', ((n, auto_id, e) for n, e in enumerate(errors, 1))
        )
        html.append(format_html('<div id="{}_error" class="invalid-feedback">{}</div>', errors.field_id, messages))
    return format_html("{}</div>", format_html_join("", "{}", ((part,) for part in html)))
