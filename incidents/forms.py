"""Forms for reporting and working cases. Plain language; services re-check everything."""

from django import forms
from django.utils import timezone

from accounts.models import User
from policyhub.models import Clause
from policyhub.suggest import shorten

from . import evidence, references
from .models import (
    AllegationOutcome,
    Category,
    Involved,
    Outcome,
    Platform,
    ReferralKind,
    ReviewDecision,
    Route,
    Severity,
    Status,
)

YES_NO = [("yes", "Yes"), ("no", "No")]


class ReferenceField(forms.CharField):
    """Wherever a case reference is typed: forgiving about case, spaces, hyphens and look-alike
    characters, strict about the check character. Cleans to a references.Parsed."""

    default_error_messages = {"required": "Please type a case reference, for example OAK-7KQ2-M9XD."}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("help_text", "For example OAK-7KQ2-M9XD. Capitals, spaces and hyphens do not matter.")
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        if self.max_length is not None and len(text) > self.max_length:
            raise forms.ValidationError("That is too long for a case reference, for example OAK-7KQ2-M9XD.")
        try:
            return references.parse(text)
        except references.BadReference as exc:
            raise forms.ValidationError(str(exc), code="bad_reference") from exc

    def validate(self, value):
        if value is None and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")

    def run_validators(self, value):
        """The length limit applies to what was typed (checked in to_python), not to the result."""
        return


def _yes_no(value):
    return {"yes": True, "no": False}.get(value)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input. Their content is checked by incidents/evidence.py."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp,.pdf"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > evidence.MAX_FILES:
            raise forms.ValidationError(f"Please attach at most {evidence.MAX_FILES} files.")
        if self.required and not files:
            raise forms.ValidationError("Please choose at least one file.")
        # Content is checked once, by the service (incidents/evidence.py); the size here is cheap.
        big = [evidence.safe_display_name(f.name) for f in files if f.size and f.size > evidence.MAX_FILE_BYTES]
        if big:
            raise forms.ValidationError(
                [f"“{name}” is larger than {evidence.MAX_FILE_BYTES // (1024 * 1024)} MB." for name in big]
            )
        return list(files)


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name or obj.email


class ReportForm(forms.Form):
    category = forms.ChoiceField(
        label="What is it about?",
        choices=Category.choices,
        widget=forms.RadioSelect,
        help_text="Choose the closest. You do not need to know the policy's clause numbers.",
    )
    platform = forms.ChoiceField(label="Where was it posted?", choices=[("", "Choose…"), *Platform.choices])
    links = forms.CharField(
        label="Links (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "inputmode": "url"}),
        help_text="Paste the address of the post, one per line, if you have it.",
    )
    happened_at = forms.DateTimeField(
        label="When did it happen? (optional)", required=False, widget=LocalDateTimeInput(), help_text="If you know."
    )
    seen_at = forms.DateTimeField(label="When did you see it?", widget=LocalDateTimeInput())
    involved = forms.ChoiceField(label="Who is involved?", choices=Involved.choices, widget=forms.RadioSelect)
    subject = StaffChoiceField(
        label="Which member of staff?",
        queryset=User.objects.none(),
        required=False,
        empty_label="Choose a name…",
        help_text="Only if the concern is about a member of staff.",
    )
    involved_detail = forms.CharField(
        label="Anything that helps identify who (optional)",
        required=False,
        max_length=300,
        help_text="For example “a parent in Year 4” or “an account called …”. Not needed for staff.",
    )
    description = forms.CharField(
        label="What did you see?",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Say what was posted or said, and why it worries you.",
    )
    child_at_risk = forms.ChoiceField(label="Is a child at risk of harm now?", choices=YES_NO, widget=forms.RadioSelect)
    files = MultipleFileField(
        label="Screenshots or saved pages (optional)",
        required=False,
        help_text=f"Pictures (PNG, JPEG, GIF, WebP) or PDFs, up to 10 MB each and {evidence.MAX_FILES} in all.",
    )
    captured_at = forms.DateTimeField(
        label="When did you take them? (optional)", required=False, widget=LocalDateTimeInput()
    )
    captured_url = forms.URLField(
        label="The address you captured them from (optional)", required=False, max_length=2000, assume_scheme="https"
    )

    def __init__(self, *args, school, reporter, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = (
            User.objects.filter(
                is_active=True, memberships__school=school, memberships__role__in=["staff", "head", "dsl"]
            )
            .exclude(pk=reporter.pk)
            .distinct()
            .order_by("full_name")
        )
        if not self.is_bound:
            self.initial.setdefault("seen_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_child_at_risk(self):
        return _yes_no(self.cleaned_data["child_at_risk"])

    def clean(self):
        data = super().clean()
        if data.get("involved") == Involved.STAFF and not data.get("subject"):
            self.add_error("subject", "Please choose the member of staff from the list.")
        if data.get("involved") and data.get("involved") != Involved.STAFF:
            data["subject"] = None
        now = timezone.now()
        for name in ("happened_at", "seen_at", "captured_at"):
            if data.get(name) and data[name] > now + timezone.timedelta(minutes=5):
                self.add_error(name, "This time is in the future.")
        return data


class EvidenceForm(forms.Form):
    files = MultipleFileField(
        label="Add screenshots or saved pages",
        required=True,
        help_text=f"Pictures (PNG, JPEG, GIF, WebP) or PDFs, up to 10 MB each and {evidence.MAX_FILES} per case.",
    )
    captured_at = forms.DateTimeField(
        label="When were they taken? (optional)", required=False, widget=LocalDateTimeInput()
    )
    captured_url = forms.URLField(
        label="Captured from (optional)", required=False, max_length=2000, assume_scheme="https"
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(label="Why is this file withdrawn?", max_length=1000)


class ClauseChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.ref} — {shorten(obj.text, 160)[0]}"  # never cut inside a word


class TriageForm(forms.Form):
    severity = forms.ChoiceField(choices=Severity.choices, widget=forms.RadioSelect)
    clauses = ClauseChoiceField(
        label="Clauses breached",
        queryset=Clause.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="From the policy version in force on the date of the incident. Type to filter the list.",
    )
    harm_harmed_child = forms.ChoiceField(
        label="1. Has the adult harmed a child, or possibly harmed a child?", choices=YES_NO, widget=forms.RadioSelect
    )
    harm_offence = forms.ChoiceField(
        label="2. Has the adult possibly committed a criminal offence against or related to a child?",
        choices=YES_NO,
        widget=forms.RadioSelect,
    )
    harm_risk_to_children = forms.ChoiceField(
        label="3. Has the adult behaved towards a child in a way that indicates they may pose a risk of harm?",
        choices=YES_NO,
        widget=forms.RadioSelect,
    )
    harm_unsuitable = forms.ChoiceField(
        label="4. Has the adult behaved in a way that indicates they may not be suitable to work with children?",
        choices=YES_NO,
        widget=forms.RadioSelect,
    )
    harm_reason = forms.CharField(
        label="Reason for these answers", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    route = forms.ChoiceField(
        label="Route (if every harm-threshold answer is no)",
        choices=[
            (Route.LOW_LEVEL, Route.LOW_LEVEL.label),
            (Route.BREACH, Route.BREACH.label),
            (Route.NO_BREACH, Route.NO_BREACH.label),
        ],
        widget=forms.RadioSelect,
        required=False,
        help_text="Any “yes” above puts the case on the allegation route, with a LADO referral within one working day.",
    )

    HARM = ("harm_harmed_child", "harm_offence", "harm_risk_to_children", "harm_unsuitable")

    def __init__(self, *args, incident, version, **kwargs):
        super().__init__(*args, **kwargs)
        self.about_adult = incident.involved == Involved.STAFF
        self.fields["clauses"].queryset = (
            Clause.objects.filter(version=version).order_by("order") if version else Clause.objects.none()
        )
        if not self.about_adult:
            for name in (*self.HARM, "harm_reason"):
                del self.fields[name]
            self.fields["route"].choices = [
                (Route.BREACH, Route.BREACH.label),
                (Route.NO_BREACH, Route.NO_BREACH.label),
            ]
            self.fields["route"].label = "Route"
            self.fields["route"].help_text = ""
            self.fields["route"].required = True
        if not self.is_bound:
            self.initial.update(
                severity=incident.severity or None,
                route=incident.route if incident.route != Route.ALLEGATION else None,
                harm_reason=incident.harm_reason,
            )
            for name in self.HARM:
                value = getattr(incident, name)
                if value is not None:
                    self.initial[name] = "yes" if value else "no"

    def clean(self):
        data = super().clean()
        if self.about_adult:
            answers = [_yes_no(data.get(name)) for name in self.HARM]
            for name, answer in zip(self.HARM, answers, strict=True):
                data[name] = answer
            if answers and not (data.get("harm_reason") or "").strip():
                self.add_error("harm_reason", "Please give the reason for the harm-threshold answers.")
            if any(answers):
                data["route"] = Route.ALLEGATION
            elif None not in answers and not data.get("route"):
                self.add_error("route", "Please choose the route.")
        return data


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("", "Choose…"), *Outcome.choices])
    allegation_outcome = forms.ChoiceField(
        label="Allegation outcome (statutory term)",
        choices=[("", "Choose…"), *AllegationOutcome.choices],
        required=False,
    )
    reason = forms.CharField(label="Reasons", widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        if incident.route == Route.ALLEGATION:
            self.fields["allegation_outcome"].required = True
        else:
            del self.fields["allegation_outcome"]


class CloseForm(forms.Form):
    note = forms.CharField(label="Closing note (optional)", required=False, max_length=1000)


class ReferToGovernorsForm(forms.Form):
    summary = forms.CharField(
        label="Summary for the governors",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Governors see this summary, the clauses, the outcome and its reasons — not the report itself.",
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=ReviewDecision.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label="Comment", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Required to refer back."
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == ReviewDecision.REFER_BACK and not (data.get("comment") or "").strip():
            self.add_error("comment", "Please say why the case is referred back.")
        return data

    def success_message(self) -> str:
        return f"Decision recorded: {ReviewDecision(self.cleaned_data['decision']).label.lower()}."


class ConflictForm(forms.Form):
    reason = forms.CharField(
        label="Your conflict of interest",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: “I am related to someone involved.” The case's owners can read it; "
        "you will not decide this review.",
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(label="Why reopen the case?", widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    note = forms.CharField(
        label="Internal note", widget=forms.Textarea(attrs={"rows": 3}), help_text="Never shown to the reporter."
    )


class ReferralForm(forms.Form):
    kind = forms.ChoiceField(label="Referred to", choices=[("", "Choose…"), *ReferralKind.choices])
    made_on = forms.DateField(label="Date of referral", widget=DateInput())
    reference = forms.CharField(label="Their reference (optional)", required=False, max_length=100)
    note = forms.CharField(label="Note (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_made_on(self):
        made_on = self.cleaned_data["made_on"]
        if made_on > timezone.localdate():
            raise forms.ValidationError("The referral date cannot be in the future.")
        return made_on


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", "All open"),
            *[(v, label) for v, label in Status.choices if v not in (Status.CLOSED, Status.MERGED)],
        ],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    category = forms.ChoiceField(
        required=False,
        choices=[("", "All categories"), *Category.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    severity = forms.ChoiceField(
        required=False,
        choices=[("", "Any severity"), *Severity.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )


# --- Tasks on a case (incidents/assignments.py) ------------------------------------------------------


class FetchedChoices(forms.models.ModelChoiceIterator):
    """A model choice field's options from one fetched list: `objects`, rows the page has fetched
    already, or else the field's queryset read once. Django's own iterator reads them through
    `.iterator()`, a server-side cursor on PostgreSQL (DECLARE, fetch, close) for a handful of rows.
    Only the options shown: a posted choice is still looked up in the field's queryset."""

    def __init__(self, field, objects=None):
        super().__init__(field)
        self.objects = objects

    def _rows(self):
        return self.queryset if self.objects is None else self.objects

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self._rows():
            yield self.choice(obj)

    def __len__(self):
        return len(self._rows()) + (self.field.empty_label is not None)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self._rows())


def _person_label(full_name: str, email: str) -> str:
    """A person as the task form lists them: their name, or their email where they have none."""
    return full_name or email


class AssignTaskForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label="Who", queryset=User.objects.none(), empty_label="Choose…", help_text="A member of staff at the school."
    )
    title = forms.CharField(label="The task", max_length=200, help_text="For example: interview the member of staff.")
    instructions = forms.CharField(
        label="Instructions (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only they and the case's owners see these.",
    )
    due_on = forms.DateField(
        label="Due by", widget=DateInput(), help_text="Close of business on that day; it must be a working day."
    )

    def __init__(self, *args, incident=None, options=None, **kwargs):
        """`options`: for an unbound form, the people offered as (id, name) pairs, given by the page
        (plain_crispy.fixed_around_options); otherwise the people `options_for(incident)`."""
        from .assignments import assignable_people

        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.label_from_instance = self.label_of
        if self.is_bound:  # a posted choice is checked against the people the rule allows
            field.iterator = FetchedChoices  # before the queryset, which hands it to the widget
            field.queryset = assignable_people(incident)
        else:  # shown, never checked: the options only
            options = self.options_for(incident) if options is None else options
            field.widget.choices = [("", field.empty_label), *options]

    @staticmethod
    def label_of(user) -> str:
        return _person_label(user.full_name, user.email)

    @classmethod
    def options_for(cls, incident) -> list[tuple]:
        """The people a task of the case may go to, as the select's (value, label) pairs, read from
        SQL written once (assignments.assignable_rows: id, name and email)."""
        from .assignments import assignable_rows

        return [(pk, _person_label(full_name, email)) for pk, full_name, email in assignable_rows(incident)]

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise forms.ValidationError("The due date has already passed.")
        return due_on


class _TaskOnCaseForm(forms.Form):
    """Names one open task of the case by its random id (the service checks whose it is)."""

    task = forms.ModelChoiceField(
        queryset=None,
        to_field_name="public_id",
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That task is no longer open. Nothing was changed."},
    )

    def __init__(self, *args, incident, **kwargs):
        from .models import Task, TaskState

        super().__init__(*args, **kwargs)
        self.fields["task"].queryset = Task.objects.filter(incident=incident, state=TaskState.OPEN).select_related(
            "assignee", "assigned_by"
        )


class CompleteTaskForm(_TaskOnCaseForm):
    outcome = forms.CharField(label="What was done", widget=forms.Textarea(attrs={"rows": 2}))


class CancelTaskForm(_TaskOnCaseForm):
    reason = forms.CharField(label="Why it is no longer needed", widget=forms.Textarea(attrs={"rows": 2}))
