"""The case file's pages (dataprotection/casefile.py, docs/case-file.md), mounted at /case-files/.

- "Case files" (a page of the table, accounts/pages.py): type a reference, go to the case's form.
  For the DPO, who has no case page, this is the way in; owners also reach it from the case page.
- The case's form: the choices (who it is for, who to redact, the files), then the download. A case
  the person may not make a file for is a 404, exactly like one that does not exist.
"""

import logging

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.pages import page
from incidents import references
from incidents.forms import ReferenceField
from incidents.models import Incident

from . import casefile

log = logging.getLogger(__name__)

MAX_NAMES_CHARS = 2000
NOT_FOUND = "There is no case with that reference that you can make a case file for."


class FindForm(forms.Form):
    reference = ReferenceField(label="Case reference")


class CaseFileForm(forms.Form):
    purpose = forms.ChoiceField(label="Who is it for?", choices=casefile.Purpose.CHOICES, widget=forms.RadioSelect)
    redact = forms.MultipleChoiceField(
        label="Redact",
        required=False,
        choices=casefile.REDACT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="The subject of the case is never redacted: the file is about them.",
    )
    also_redact = forms.CharField(
        label="Also redact these names (one per line)",
        required=False,
        max_length=MAX_NAMES_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Pupils, parents and others who are not PolicyHub users are redacted only if you list them here.",
    )
    include_files = forms.BooleanField(
        label="Include the evidence files (a zip of the PDF and the files)",
        required=False,
        help_text="Files are not redacted: pictures can show other people. Check them before you send the zip.",
    )

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.incident = incident

    def clean_also_redact(self):
        lines = [line.strip() for line in self.cleaned_data["also_redact"].splitlines() if line.strip()]
        short = [line for line in lines if len(line) < 2]
        if short:
            raise forms.ValidationError("Each name to redact needs at least two letters.")
        return tuple(lines)

    def clean_include_files(self):
        include = self.cleaned_data["include_files"]
        if include and not self.incident.evidence.filter(withdrawn_at__isnull=True).exists():
            raise forms.ValidationError("This case has no evidence files to include: leave this unticked.")
        return include

    def choices(self) -> casefile.Choices:
        data = self.cleaned_data
        return casefile.Choices(
            purpose=data["purpose"],
            redact=frozenset(data["redact"]),
            also_redact=data["also_redact"],
            include_files=data["include_files"],
        )


def _case_or_404(request, reference):
    return get_object_or_404(casefile.scope(request.user).select_related("school"), reference=reference)


@require_GET
@page("casefile:find")
def find(request):
    form = FindForm(request.GET if "reference" in request.GET else None)
    if form.is_bound and form.is_valid():
        found = references.matching(casefile.scope(request.user), form.cleaned_data["reference"]).first()
        if found is not None:
            return redirect("casefile:form", found.reference)
        # The same answer for a case that does not exist and one that is not the person's to file.
        form.add_error("reference", NOT_FOUND)
        log.warning("case file: reference not found for user %s", request.user.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "casefile/find.html", {"form": form}, status=status)


@require_GET
def case_file(request, reference):
    incident = _case_or_404(request, reference)
    form = CaseFileForm(
        incident=incident, initial={"purpose": casefile.Purpose.LADO, "redact": [v for v, _ in casefile.REDACT_CHOICES]}
    )
    return render(request, "casefile/case_file.html", {"incident": incident, "form": form})


@require_POST
def download(request, reference):
    incident = _case_or_404(request, reference)
    form = CaseFileForm(request.POST, incident=incident)
    if not form.is_valid():
        return render(request, "casefile/case_file.html", {"incident": incident, "form": form}, status=400)
    try:
        built = casefile.case_file_download(incident=incident, actor=request.user, choices=form.choices())
    except Incident.DoesNotExist:
        raise Http404 from None  # the person lost the case between the page and the download
    response = HttpResponse(built.content, content_type=built.content_type)
    response["Content-Disposition"] = f'attachment; filename="{built.filename}"'
    response["Cache-Control"] = "no-store"
    return response
