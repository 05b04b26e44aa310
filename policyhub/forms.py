from pathlib import Path

from django import forms
from django.forms import formset_factory

from .importer import DEFAULT_MAX_BYTES, PolicyImportError, import_document, parse_text
from .structure import MAX_TEXT, REF_RE
from .topics import TOPICS

ALLOWED_SUFFIXES = {".txt", ".docx", ".pdf"}
MAX_PASTED_CHARS = 500_000


class ImportForm(forms.Form):
    """Upload a policy document or paste its text; `clean` leaves the importer's result in ``self.parsed``."""

    owner = forms.ChoiceField(label="Import as", widget=forms.RadioSelect)
    title = forms.CharField(
        label="Policy title", max_length=200, initial="Staff social-media policy", help_text="Used for a new policy."
    )
    document = forms.FileField(
        label="Policy document",
        required=False,
        help_text="A .txt, .docx or .pdf file of up to 10 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.docx,.pdf"}),
    )
    text = forms.CharField(
        label="Or paste the policy text",
        required=False,
        max_length=MAX_PASTED_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def __init__(self, *args, owners: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owners
        if len(owners) == 1:
            self.fields["owner"].initial = owners[0][0]
        self.parsed = None
        self.source_name = ""

    def clean(self):
        cleaned = super().clean()
        document, text = cleaned.get("document"), cleaned.get("text") or ""
        if document and text.strip():
            raise forms.ValidationError("Upload a file or paste the text, not both.")
        if not document and not text.strip():
            if "text" in self.errors or "document" in self.errors:
                return cleaned
            raise forms.ValidationError("Upload a policy document or paste its text.")
        try:
            if document:
                if Path(document.name).suffix.lower() not in ALLOWED_SUFFIXES:
                    raise PolicyImportError("This type of file can't be imported: upload a .txt, .docx or .pdf file.")
                if document.size > DEFAULT_MAX_BYTES:  # refused before it is read into memory
                    raise PolicyImportError(
                        f"The file is too large ({document.size / (1024 * 1024):.1f} MB); "
                        f"the largest file that can be imported is {DEFAULT_MAX_BYTES // (1024 * 1024)} MB."
                    )
                self.parsed = import_document(document.read(DEFAULT_MAX_BYTES + 1), document.name)
                self.source_name = Path(document.name).name
            else:
                self.parsed = parse_text(text)
                self.source_name = "pasted text"
        except PolicyImportError as error:
            raise forms.ValidationError(str(error)) from None
        return cleaned


class SectionForm(forms.Form):
    number = forms.CharField(label="Section number", max_length=20, required=False)
    heading = forms.CharField(label="Heading", max_length=300)


class ClauseForm(forms.Form):
    # The reference the clause had when the page was drawn: renaming a clause re-points its sub-clauses.
    orig_ref = forms.CharField(max_length=40, required=False, widget=forms.HiddenInput)
    ref = forms.CharField(label="Reference", max_length=40, help_text="For example 7.4.1.")
    parent = forms.CharField(
        label="Part of clause", max_length=40, required=False, help_text="Leave empty for a top-level clause."
    )
    text = forms.CharField(
        label="Text",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="To split this clause, start a new line where the split goes, then choose Split.",
    )
    topics = forms.MultipleChoiceField(
        label="Topics",
        choices=TOPICS,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )

    def clean_ref(self):
        ref = self.cleaned_data["ref"].strip()
        if not REF_RE.match(ref):
            raise forms.ValidationError("Use letters, digits, dots, hyphens and brackets, e.g. 7.4.1.")
        return ref


SectionEditFormSet = formset_factory(SectionForm, extra=0, min_num=1, max_num=1, validate_min=True, validate_max=True)
ClauseFormSet = formset_factory(ClauseForm, extra=0, max_num=500, validate_max=True, absolute_max=500)


def section_formsets(section: dict, data=None):
    """The forms for editing one section of a working copy: its heading and its clauses."""
    heading = SectionEditFormSet(
        data, prefix="s", initial=None if data else [{"number": section["number"], "heading": section["heading"]}]
    )
    clauses = ClauseFormSet(
        data,
        prefix="c",
        initial=None
        if data
        else [{**c, "orig_ref": c["ref"], "parent": c["parent"] or ""} for c in section["clauses"]],
    )
    return heading, clauses


def section_from_formsets(heading_formset, clause_formset) -> dict:
    """The edited section as structure data; a renamed clause takes its sub-clauses along."""
    head = heading_formset.forms[0].cleaned_data
    rows = [f.cleaned_data for f in clause_formset.forms]
    renamed = {r["orig_ref"]: r["ref"] for r in rows if r.get("orig_ref") and r["orig_ref"] != r["ref"]}
    clauses = []
    for r in rows:
        parent = (r.get("parent") or "").strip() or None
        parent = renamed.get(parent, parent)
        clauses.append({"ref": r["ref"], "text": r["text"], "parent": parent, "topics": r["topics"]})
    return {"number": head.get("number", "").strip(), "heading": head["heading"].strip(), "clauses": clauses}, renamed


class PublishForm(forms.Form):
    effective_date = forms.DateField(label="In force from", widget=forms.DateInput(attrs={"type": "date"}))
    next_review_date = forms.DateField(
        label="Next review", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        start, review = cleaned.get("effective_date"), cleaned.get("next_review_date")
        if start and review and review <= start:
            self.add_error("next_review_date", "The next review must be after the date the version comes into force.")
        return cleaned


class ReviewForm(forms.Form):
    """The version in force was reviewed and stays as it is: when is the next review due?"""

    next_review_date = forms.DateField(label="Next review due", widget=forms.DateInput(attrs={"type": "date"}))


class SearchForm(forms.Form):
    """The clause search box. A form, so odd input (a NUL character, a huge string) is refused
    with a message instead of reaching the database."""

    q = forms.CharField(required=False, max_length=200, label="Search the policy")
    all = forms.BooleanField(required=False)
