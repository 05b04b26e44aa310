from django import forms
from django.contrib.auth import get_user_model

from policyhub.models import Clause

from .models import DeclarationKind, TrainingTopic
from .services import MAX_TEXT


class DeclarationForm(forms.Form):
    kind = forms.ChoiceField(label="What are you declaring?", choices=DeclarationKind.choices, widget=forms.RadioSelect)
    details = forms.CharField(
        label="Details",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Who and what it concerns, in a few sentences: for example the pupil's class and how you are "
        "related, or the platform and account name.",
    )
    response = forms.CharField(
        label="What you did (for an approach by a pupil)",
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: declined the request and did not reply. Keep any screenshot: the head may ask for it.",
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == DeclarationKind.APPROACH and not (data.get("response") or "").strip():
            self.add_error("response", "Say what you did when the pupil approached you.")
        return data


class NoteForm(forms.Form):
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )


class TrainingForm(forms.Form):
    person = forms.ModelChoiceField(label="Person", queryset=get_user_model().objects.none())
    topic = forms.ChoiceField(label="Training", choices=TrainingTopic.choices)
    completed_on = forms.DateField(label="Completed on", widget=forms.DateInput(attrs={"type": "date"}))
    provider = forms.CharField(label="Provider", max_length=200)
    expires_on = forms.DateField(
        label="Expires on (optional)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.filter(memberships__school=school, is_active=True).distinct()
        self.fields["person"].queryset = people.order_by("full_name", "email")
        self.fields["person"].label_from_instance = lambda u: f"{u.get_full_name() or u.email} ({u.email})"

    def clean(self):
        data = super().clean()
        done, expires = data.get("completed_on"), data.get("expires_on")
        if done and expires and expires <= done:
            self.add_error("expires_on", "The expiry date must be after the date the training was completed.")
        return data


class AdviceForm(forms.Form):
    question = forms.CharField(label="Your question", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4}))
    draft = forms.CharField(
        label="The post you would like to make (optional)",
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(label="Answer", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4}))
    clauses = forms.ModelMultipleChoiceField(
        label="Clauses that apply", queryset=Clause.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, clauses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clauses"].queryset = clauses
        self.fields["clauses"].label_from_instance = lambda c: f"{c.ref} {c.text[:80]}{'…' if len(c.text) > 80 else ''}"


class PublishForm(forms.Form):
    faq_question = forms.CharField(
        label="Question as published",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Reword it so it names nobody: no names, classes, or details that identify the person who asked.",
    )
    faq_answer = forms.CharField(
        label="Answer as published", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )
