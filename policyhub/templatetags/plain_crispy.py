"""`{{ form|crispy }}` and `{{ field|as_crispy_field }}` written straight out in Python: crispy renders
a dozen templates per field, which was a quarter of the sign-in page's time and a third of the case
page's (docs/performance.md). The markup is crispy-bootstrap5's (uni_form.html, errors.html,
field.html and its layout/ partials) around Django's own widget markup (input.html, textarea.html,
select.html), for the widgets the project's forms use: text-like and date inputs, textareas,
selects, radio buttons, checkbox lists, checkboxes, file inputs and hidden inputs, with labels,
help text, errors, disabled fields and fieldsets. Anything else (another widget or widget template,
a crispy helper, a localized field, help text that escaping would change: crispy writes it
unescaped) is handed to crispy. The markup of a form is one format_html call: its format string is
joined from this module's literals only, and every value is an argument, escaped (_Markup).
tests/accounts/test_sign_in_markup.py and tests/incidents/test_action_markup.py compare the two."""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field, as_crispy_form, optgroups
from django import template
from django.conf import settings
from django.forms import BaseForm, ModelChoiceField
from django.forms.widgets import (
    CheckboxInput,
    ChoiceWidget,
    FileInput,
    Input,
    RadioSelect,
    Select,
    Textarea,
    Widget,
)
from django.templatetags.l10n import unlocalize
from django.utils.choices import CallableChoiceIterator
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeData, mark_safe
from django.utils.timezone import get_current_timezone_name, template_localtime
from django.utils.translation import get_language

register = template.Library()
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
    if (
        getattr(field.form, "helper", None) is not None
        or field.field.localize
        or hasattr(widget, "widgets")  # a MultiWidget, or a wrapper around another widget
        or hasattr(widget, "widget")
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


class _Markup:
    """Markup gathered as format_html's format string and arguments, written by one format_html
    call: a call per element cost as much as the templates' lookups. `fmt` is always a literal of
    this module (no value is ever part of the format string); values go in `args`."""

    __slots__ = ("args", "fmt")

    def __init__(self):
        self.fmt, self.args = [], []

    def __call__(self, fmt: str, *args) -> None:
        self.fmt.append(fmt)
        self.args.extend(args)

    def attrs(self, attrs: dict) -> None:
        """django/forms/widgets/attrs.html: True is a bare name, False is left out."""
        for name, value in attrs.items():
            if value is True:
                self(" {}", name)
            elif value is not False:
                self(' {}="{}"', name, _s(value))

    def html(self):
        return format_html("".join(self.fmt), *self.args) if self.args else ""


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


def _plain_options(widget) -> bool:
    """Whether the select writes its options as Django's Select does: no attributes of their own but
    `selected`, from the widget's own choices (then _options writes them without a dict per option)."""
    kind = type(widget)
    return (
        kind.get_context is Select.get_context
        and kind.optgroups is ChoiceWidget.optgroups
        and kind.create_option is ChoiceWidget.create_option
        and not widget.option_inherits_attrs
        and widget.checked_attribute == {"selected": True}
    )


_SELECTED = {"selected": True}
_NOT_SELECTED: dict = {}


def _options(widget, values) -> list:
    """ChoiceWidget.optgroups for a select with _plain_options, as (group, [option]) where an option
    is a dict of its value, attrs and label only (what select_option.html reads)."""
    groups, has_selected, multiple = [], False, widget.allow_multiple_selected
    for option_value, option_label in widget.choices:
        if option_value is None:
            option_value = ""
        if isinstance(option_label, list | tuple):
            group, choices = option_value, option_label
        else:
            group, choices = None, [(option_value, option_label)]
        options = []
        for value, label in choices:
            selected = (not has_selected or multiple) and str(value) in values
            has_selected |= selected
            options.append({"value": value, "attrs": _SELECTED if selected else _NOT_SELECTED, "label": label})
        groups.append((group, options, None))
    return groups


def _widget_context(field, css: str | None) -> dict:
    """BoundField.as_widget's context, with crispy's class as {% crispy_field %} leaves it."""
    widget = field.field.widget
    attrs = field.build_widget_attrs({})
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    if isinstance(widget, Select) and _plain_options(widget):
        # Select.get_context, with the options written by _options (Django builds a dict of ten
        # entries and a copy of the attributes per option: most of a list of people's cost).
        context = Widget.get_context(widget, field.html_name, field.value(), attrs)["widget"]
        if widget.allow_multiple_selected:
            context["attrs"]["multiple"] = True
        context["optgroups"] = _options(widget, context["value"])
    else:
        context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    if css is not None:  # where crispy puts it: in widget.attrs, before the attributes of the field
        merged = {**widget.attrs, "class": css}
        merged.update(context["attrs"])
        merged["class"] = css
        context["attrs"] = merged
    return context


def _input(w: _Markup, context) -> None:
    """django/forms/widgets/input.html."""
    w('<input type="{}" name="{}"', context["type"], context["name"])
    if context["value"] is not None:
        w(' value="{}"', _s(context["value"]))
    w.attrs(context["attrs"])
    w(">")


def _textarea(w: _Markup, context, spaceless: bool) -> None:
    """django/forms/widgets/textarea.html."""
    value = context["value"]
    w('<textarea name="{}"', context["name"])
    w.attrs(context["attrs"])
    if spaceless and value and not value.strip() and len(value) >= 2:
        w("> </textarea>")  # crispy's {% specialspaceless %} turns ">" + 3 or more spaces + "<" into "> <"
    elif value:
        w(">\n{}</textarea>", _text(value))
    else:
        w(">\n</textarea>")


def _select(w: _Markup, context) -> None:
    """django/forms/widgets/select.html and select_option.html."""
    w('<select name="{}"', context["name"])
    w.attrs(context["attrs"])
    w(">")
    for group, options, _index in context["optgroups"]:
        if group:
            w('\n  <optgroup label="{}">', _text(group))
        for option in options:
            w('\n  <option value="{}"', _s(option["value"]))
            w.attrs(option["attrs"])
            w(">{}</option>", _text(option["label"]))
        if group:
            w("\n  </optgroup>")
    w("\n</select>")


def _errors(w: _Markup, field, errors) -> None:
    """bootstrap5/layout/field_errors_block.html."""
    if errors:
        w('<div id="{}_error" class="invalid-feedback">', errors.field_id)
        auto_id = field.auto_id
        for n, error in enumerate(errors, 1):
            w('<p id="error_{}_{}"><strong>{}</strong></p>', n, auto_id, _text(error))
        w("</div>")


def _help(w: _Markup, field) -> None:
    """bootstrap5/layout/help_text.html, which writes the help text `|safe`: it is the code's own
    text, never a user's (an apostrophe in it sent the whole field to crispy's templates before)."""
    if field.help_text:
        help_text = mark_safe(field.help_text)  # noqa: S308  # nosec B308 B703
        if field.auto_id:
            w('<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, help_text)
        else:
            w('<div class="form-text">{}</div>', help_text)


def _choices(w: _Markup, field, errors) -> None:
    """bootstrap5/layout/radio_checkbox_select.html: the errors inside the last option."""
    groups = optgroups(field)
    w("<div>")
    for g, (group, options, _index) in enumerate(groups):
        if group:
            w("<strong>{}</strong>", _text(group))
        for o, option in enumerate(options):
            w('<div class="form-check"><input type="{}" class="form-check-input', option["type"])
            if errors:
                w(" is-invalid")
            w('" name="{}" value="{}"', field.html_name, unlocalize(option["value"]))
            w.attrs(option["attrs"])
            w(
                '><label for="{}" class="form-check-label">{}</label>',
                _text(option["attrs"].get("id", "")),
                unlocalize(option["label"]),
            )
            if g == len(groups) - 1 and o == len(options) - 1:
                _errors(w, field, errors)
            w("</div>")
    w("</div>")
    _help(w, field)


def _file_context(field) -> dict:
    """BoundField.subwidgets' one subwidget, as bootstrap5/layout/field_file.html reads it."""
    widget = field.field.widget
    id_ = widget.attrs.get("id") or field.auto_id
    attrs = field.build_widget_attrs({"id": id_} if id_ else {})
    return widget.get_context(field.html_name, field.value(), attrs)["widget"]


def _file(w: _Markup, field, context, errors) -> None:
    """bootstrap5/layout/field_file.html, for a field without a current file (_write)."""
    w('<div class="is-invalid">' if errors else "<div>")
    w('<input type="{}" name="{}" class="form-control', context["type"], context["name"])
    attrs = context["attrs"]
    if attrs.get("class"):
        w(" {}", _s(attrs["class"]))
    w(' is-invalid"' if errors else '"')
    if field.field.disabled:
        w(" disabled")
    w.attrs({k: v for k, v in attrs.items() if k != "class"})
    w(">")
    _errors(w, field, errors)
    _help(w, field)
    w("</div>")


def _write(w: _Markup, field, spaceless: bool) -> None:
    """bootstrap5/field.html, or crispy's own for what is not written here (_kind)."""
    kind = _kind(field)
    if kind == "file":
        file_context = _file_context(field)
        if file_context.get("is_initial"):  # the current file's link and clear box: crispy's
            kind = None
    if kind is None:
        w("{}", as_crispy_field(field))
        return
    if kind == "hidden":
        _input(w, _widget_context(field, None))
        return
    widget, errors, required = field.field.widget, field.errors, field.field.required
    classes, label = field.css_classes(), field.label
    if kind == "checkbox":
        w('<div class="mb-3"><div id="div_{}" class="form-check', field.auto_id)
        if classes:
            w(" {}", classes)
        w('">')
        _input(
            w,
            _widget_context(
                field, _crispy_class(widget, "form-check-input is-invalid" if errors else "form-check-input")
            ),
        )
        w('<label for="{}" class="form-check-label', _text(field.id_for_label))
        w(' requiredField">' if required else '">')
        w("{}", _text(label))
        if required:
            w('<span class="asteriskField">*</span>')
        w("</label>")
        _errors(w, field, errors)
        _help(w, field)
        w("</div></div>")
        return
    w('<div id="div_{}" class="mb-3', field.auto_id)
    if classes:
        w(" {}", classes)
    w('">')
    use_fieldset = field.use_fieldset
    if label:
        if use_fieldset:
            described = field.aria_describedby
            if described:
                w('<fieldset aria-describedby="{}">', described)
            else:
                w("<fieldset>")
        w("<legend" if use_fieldset else "<label")
        id_for_label = field.id_for_label
        if id_for_label:
            w(' for="{}"', id_for_label)
        w(' class="form-label')
        if required:
            w(" requiredField")
        if use_fieldset:
            w(" fs-6")
        w('">{}', _text(label))
        if required:
            w('<span class="asteriskField">*</span>')
        w("</legend>" if use_fieldset else "</label>")
    if kind == "choices":
        _choices(w, field, errors)
    elif kind == "file":
        _file(w, field, file_context, errors)
    else:
        bootstrap = "form-select" if kind == "select" else "form-control"
        context = _widget_context(field, _crispy_class(widget, f"{bootstrap} is-invalid" if errors else bootstrap))
        if kind == "select":
            _select(w, context)
        elif kind == "textarea":
            _textarea(w, context, spaceless)
        else:
            _input(w, context)
        _errors(w, field, errors)
        _help(w, field)
    if use_fieldset and label:
        w("</fieldset>")
    w("</div>")


@register.filter
def plain_crispy_field(field):
    """`{{ field|as_crispy_field }}`."""
    w = _Markup()
    _write(w, field, spaceless=False)
    return w.html()


@register.filter
def plain_crispy(form):
    """`{{ form|crispy }}`: the non-field errors, then every field in order (hidden ones bare)."""
    if not isinstance(form, BaseForm) or getattr(form, "helper", None) is not None:
        return as_crispy_form(form)
    w = _Markup()
    errors = form.non_field_errors()
    if errors:
        w('<div class="alert alert-block alert-danger"><ul class="m-0">')
        w("\n".join(["\t<li>{}</li>"] * len(errors)), *errors)
        w("</ul></div>")
    for field in form:
        _write(w, field, spaceless=True)
    return w.html()


def _fixed(form_class) -> bool:
    """Whether every unbound form of the class writes the same markup under one prefix: it keeps
    Django's constructor and initial values (nothing set per case or per person) and none of its
    fields works anything out when written (a callable initial value such as "now", model choices,
    which are a query, or callable choices)."""
    if (
        form_class.__init__ is not BaseForm.__init__
        or form_class.get_initial_for_field is not BaseForm.get_initial_for_field
    ):
        return False
    for field in form_class.base_fields.values():
        if callable(field.initial) or isinstance(field, ModelChoiceField):
            return False
        if isinstance(getattr(field, "choices", None), CallableChoiceIterator):
            return False
    return True


_FIXED: dict[tuple, tuple[str, bool] | None] = {}


Locale = tuple[str, str]  # a language and a time zone


def current_locale() -> Locale:
    """The language and time zone a form's markup is written in (fixed_markup's key): asked once for
    the dozen forms of a page."""
    return get_language(), get_current_timezone_name()


def fixed_markup(form_class, prefix: str, locale: Locale | None = None) -> tuple[str, bool] | None:
    """The markup of an unbound form of the class and whether it posts files, written once per web
    process (per language and time zone: `locale`, current_locale() unless given) when that markup
    never changes (`_fixed`); None otherwise. The case page shows up to a dozen such forms, and
    building and writing them was a third of its time (docs/performance.md). The CSRF token is not
    part of it: the page's `{% csrf_token %}` is."""
    key = (form_class, prefix, *(locale or current_locale()))
    if key not in _FIXED:
        form = form_class(prefix=prefix) if _fixed(form_class) else None
        _FIXED[key] = None if form is None else (plain_crispy(form), form.is_multipart())
    return _FIXED[key]


# One option of a select as _select writes it, not selected (an unbound form's options).
_OPTION = '\n  <option value="{}">{}</option>'
_STAND_IN = ("~option-value~", "~option-label~")
_AROUND: dict[tuple, tuple[str, str, bool] | None] = {}


def fixed_around_options(form_class, prefix: str, locale: Locale | None = None) -> tuple[str, str, bool] | None:
    """For an unbound form whose markup never changes but for the options of one select, given to
    the form as `options` (the task form's people): its markup before those options, after them, and
    whether it posts files, written once per web process (per language and time zone) from the form
    built with one stand-in option. The form class takes `options` for that (the case page asks
    the forms that say which options with `options_for`); None where the stand-in is not written as
    one plain option (then the page builds the form)."""
    key = (form_class, prefix, *(locale or current_locale()))
    if key not in _AROUND:
        form = form_class(prefix=prefix, options=[_STAND_IN])
        markup, line = plain_crispy(form), format_html(_OPTION, *_STAND_IN)
        if markup.count(line) == 1:
            before, after = markup.split(line)  # parts of the form's own markup: safe as it was
            _AROUND[key] = (mark_safe(before), mark_safe(after), form.is_multipart())  # noqa: S308  # nosec B308 B703
        else:
            _AROUND[key] = None
    return _AROUND[key]


def options_markup(options) -> str:
    """(value, label) pairs as the unselected options _select writes."""
    return format_html_join("", _OPTION, ((_s(value), _text(label)) for value, label in options))
