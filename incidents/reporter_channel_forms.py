"""Forms of the reporter's channel (incidents/reporter_channel.py re-checks everything)."""

from django import forms

from .errors import Invalid
from .models import MESSAGE_MAX_LENGTH
from .reporter_channel import clean_body


class MessageForm(forms.Form):
    # No max_length on the field: a message that is too long comes back with its text and a message
    # saying by how much, rather than cut short by the browser.
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"Up to {MESSAGE_MAX_LENGTH} characters. The email only says there is a message: "
        "the text stays in PolicyHub.",
        error_messages={"required": "Please write your message. Nothing was sent."},
    )

    def clean_body(self):
        try:
            return clean_body(self.cleaned_data["body"])
        except Invalid as exc:
            raise forms.ValidationError(str(exc)) from exc


class WhatWeDidForm(MessageForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].label = "What we did"
        self.fields["body"].help_text = (
            f"A short account, for the reporter, of what was done about their report (up to {MESSAGE_MAX_LENGTH} "
            "characters). Say only what is theirs to know: no names, no other reports, no sanctions."
        )
