"""Forms for requests, decisions and the do-not-publish list. Services re-check everything."""

from django import forms

from accounts.models import User

from .models import AuthorisationKind, OfficialAccount, PublishFlag

APPROVE = [("approve", "Approve"), ("refuse", "Refuse")]


class PersonChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name or obj.email


class AccountRequestForm(forms.Form):
    platform = forms.CharField(max_length=60, help_text="For example Instagram, X, Facebook, YouTube.")
    name = forms.CharField(label="Account name or handle", max_length=120)
    purpose = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, help_text="What it is for.")
    audience = forms.CharField(max_length=200, help_text="Who it is for, for example parents of Year 6.")
    moderation_plan = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Who checks comments and how often; what happens to an inappropriate comment.",
    )
    administrators = PersonChoice(
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="At least two members of staff who will run it (you may be one).",
    )

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["administrators"].queryset = members if members is not None else User.objects.none()

    def clean_administrators(self):
        admins = self.cleaned_data["administrators"]
        if len(admins) < 2:
            raise forms.ValidationError("Choose at least two administrators.")
        return admins


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=APPROVE, widget=forms.RadioSelect)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False, help_text="Needed to refuse."
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "refuse" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give the reason for refusing.")
        return data


class AuthorisationDecisionForm(DecisionForm):
    conditions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False, help_text="Optional."
    )
    expires_on = forms.DateField(
        label="Approved until", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Optional."
    )
    consent_checked = forms.BooleanField(
        label="I checked every pupil pictured against the do-not-publish list", required=False
    )

    def __init__(self, *args, needs_consent=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_consent = needs_consent
        if not needs_consent:
            del self.fields["consent_checked"]

    def clean(self):
        data = super().clean()
        if self.needs_consent and data.get("decision") == "approve" and not data.get("consent_checked"):
            self.add_error("consent_checked", "Check the do-not-publish list before approving images of pupils.")
        return data


class CloseForm(forms.Form):
    reason = forms.CharField(label="Why is it closed?", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ReplacementForm(forms.Form):
    replacement = forms.ModelChoiceField(queryset=User.objects.none(), label="New administrator")

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["replacement"]
        field.queryset = members if members is not None else User.objects.none()
        field.label_from_instance = lambda u: u.full_name or u.email


class AuthorisationRequestForm(forms.Form):
    kind = forms.ModelChoiceField(queryset=AuthorisationKind.objects.filter(active=True), label="What for")
    account = forms.ModelChoiceField(
        queryset=OfficialAccount.objects.none(),
        required=False,
        label="Official account",
        help_text="Only for posting on an official account.",
    )
    details = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=2000, label="What you want to do")
    images_of_pupils = forms.BooleanField(label="The post will show images of pupils", required=False)

    def __init__(self, *args, accounts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if accounts is not None:
            self.fields["account"].queryset = accounts

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind is not None:
            if kind.names_account and not data.get("account"):
                self.add_error("account", "Choose the official account you want to post on.")
            if data.get("images_of_pupils") and not kind.consent_check:
                self.add_error("images_of_pupils", "Images of pupils go with a request to post on an official account.")
        return data


class EntryForm(forms.Form):
    name = forms.CharField(label="Pupil's name", max_length=120)
    class_name = forms.CharField(label="Class", max_length=40)
    flags = forms.MultipleChoiceField(
        choices=PublishFlag.choices, widget=forms.CheckboxSelectMultiple, required=False, help_text="None: no images."
    )


class ListImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file", help_text="Columns: name, class, flags (no images; no name; no social media)."
    )


class ApproverForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Person")

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        field.queryset = members if members is not None else User.objects.none()
        field.label_from_instance = lambda u: u.full_name or u.email


class ConcernLinkForm(forms.Form):
    incident = forms.IntegerField(widget=forms.HiddenInput)
    account = forms.IntegerField(label="Official account")
