"""The take-down forms of the owner's case page (rows of transitions.TABLE). Field names are the
arguments of the services in incidents/takedowns.py, which check everything again."""

from django import forms
from django.utils import timezone

from .forms import DateInput, FetchedChoices
from .models import EscalationRoute, Platform, TakedownRequest, TakedownStatus
from .takedowns import MAX_URL


def _not_in_future(day, what: str):
    if day > timezone.localdate():
        raise forms.ValidationError(f"The date {what} cannot be in the future.")
    return day


class TakedownChoice(forms.ModelChoiceField):
    """A request of this case, named by its random id (a database id would count other cases')."""

    def label_from_instance(self, obj):
        return f"{obj.get_platform_display()}, requested {obj.requested_on:%d %b %Y} ({obj.get_status_display()})"


class _OnOneRequest(forms.Form):
    """A form about one of the case's requests that the platform has not removed yet."""

    waiting = (TakedownStatus.REQUESTED, TakedownStatus.NO_RESPONSE, TakedownStatus.REFUSED)

    def __init__(self, *args, incident, takedowns=None, **kwargs):
        """`takedowns`: all of the case's requests, when the case page has fetched them already
        (takedowns.for_case): the options come from them, not from a query per form."""
        super().__init__(*args, **kwargs)
        field = TakedownChoice(
            label="Which request",
            queryset=TakedownRequest.objects.filter(incident=incident, status__in=self.waiting),
            to_field_name="public_id",
            empty_label="Choose…",
            error_messages={"invalid_choice": "Please choose one of this case's take-down requests from the list."},
        )
        if takedowns is not None:  # in the queryset's order (TakedownRequest.Meta), as for_case reads them
            field.widget.choices = FetchedChoices(field, [t for t in takedowns if t.status in self.waiting])
        self.fields["takedown"] = field
        self.order_fields(["takedown"])


class TakedownRequestForm(forms.Form):
    platform = forms.ChoiceField(label="Platform", choices=[("", "Choose…"), *Platform.choices])
    url = forms.URLField(
        label="Address of the content",
        max_length=MAX_URL,
        assume_scheme="https",
        help_text="The link you reported to the platform.",
    )
    requested_on = forms.DateField(label="Date you asked the platform", widget=DateInput())
    platform_reference = forms.CharField(label="The platform's reference (optional)", required=False, max_length=200)

    def clean_requested_on(self):
        return _not_in_future(self.cleaned_data["requested_on"], "of the request")


class TakedownRemovalForm(_OnOneRequest):
    waiting = (TakedownStatus.REQUESTED, TakedownStatus.NO_RESPONSE, TakedownStatus.REFUSED)
    removed_on = forms.DateField(label="Date the content was removed", widget=DateInput())
    note = forms.CharField(label="Note (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_removed_on(self):
        return _not_in_future(self.cleaned_data["removed_on"], "of the removal")


class TakedownRefusalForm(_OnOneRequest):
    waiting = (TakedownStatus.REQUESTED, TakedownStatus.NO_RESPONSE)
    refused_on = forms.DateField(label="Date the platform refused", widget=DateInput())
    note = forms.CharField(
        label="What the platform said (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_refused_on(self):
        return _not_in_future(self.cleaned_data["refused_on"], "of the refusal")


class TakedownStepForm(_OnOneRequest):
    route = forms.ChoiceField(label="Escalated to", choices=[("", "Choose…"), *EscalationRoute.choices])
    taken_on = forms.DateField(label="Date", widget=DateInput())
    reference = forms.CharField(label="Their reference (optional)", required=False, max_length=200)
    note = forms.CharField(label="Note (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_taken_on(self):
        return _not_in_future(self.cleaned_data["taken_on"], "of the escalation")
