"""`{{ field|as_crispy_field }}` written straight out for plain text-like inputs (text, email,
password, number...): crispy renders a dozen templates per field, which was a quarter of the
sign-in page's time (docs/performance.md). The markup is crispy's bootstrap5 field.html with
Django's own input attributes; any other field (a checkbox, a select, a file, a field with help text,
a form with a crispy helper) is handed to crispy as before. tests/accounts/test_sign_in_markup.py
compares the two."""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import template
from django.forms.widgets import CheckboxInput, FileInput, Input
from django.utils.html import conditional_escape as esc
from django.utils.safestring import SafeString

register = template.Library()
ASTERISK = SafeString('<span class="asteriskField">*</span>')


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
    # conditional_escape on every value, as format_html would: f-strings cost a third of it.
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
    value = f' value="{esc(str(context["value"]))}"' if context["value"] is not None else ""
    attributes = "".join(
        f" {esc(k)}" if v is True else f' {esc(k)}="{esc(v)}"' for k, v in context["attrs"].items() if v is not False
    )
    html = [f'<div id="div_{esc(auto_id)}" class="mb-3{f" {esc(c)}" if (c := field.css_classes()) else ""}">']
    if field.label:
        label_for = f' for="{esc(field.id_for_label)}"' if field.id_for_label else ""
        html.append(
            f'<label{label_for} class="form-label{" requiredField" if required else ""}">'
            f"{esc(field.label)}{ASTERISK if required else ''}</label>"
        )
    html.append(f'<input type="{esc(context["type"])}" name="{esc(context["name"])}"{value}{attributes}>')
    if errors:
        html.append(f'<div id="{esc(errors.field_id)}_error" class="invalid-feedback">')
        html.extend(f'<p id="error_{n}_{esc(auto_id)}"><strong>{esc(e)}</strong></p>' for n, e in enumerate(errors, 1))
        html.append("</div>")
    html.append("</div>")
    return SafeString("".join(html))
