"""Forms of the allegation records (incidents/allegations.py). Field names are the services' argument
names; the services check everything again."""

from django import forms
from django.utils import timezone

from .forms import YES_NO, DateInput


class _DatedForm(forms.Form):
    """One date, today by default, never in the future."""

    date_field = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[self.date_field].initial = timezone.localdate

    def clean(self):
        cleaned = super().clean()
        day = cleaned.get(self.date_field)
        if day is not None and day > timezone.localdate():
            self.add_error(self.date_field, "The date cannot be in the future.")
        return cleaned


class DecideToInvestigateForm(_DatedForm):
    date_field = "decided_on"
    decided_on = forms.DateField(label="Date of the decision to investigate", widget=DateInput())


class InvestigationReportForm(_DatedForm):
    date_field = "received_on"
    received_on = forms.DateField(label="Date the investigation report was received", widget=DateInput())


class FormalActionForm(_DatedForm):
    date_field = "decided_on"
    needed = forms.TypedChoiceField(
        label="Is formal disciplinary action (a disciplinary hearing) needed?",
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    decided_on = forms.DateField(label="Date of the decision", widget=DateInput())


class HearingHeldForm(_DatedForm):
    date_field = "held_on"
    held_on = forms.DateField(label="Date the disciplinary hearing was held", widget=DateInput())
