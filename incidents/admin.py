"""The Django admin shows the response rules per category only (retention rules: dataprotection/admin.py).

Case content (Incident, Evidence, TimelineEntry, Referral, GovernorReview, Notification) is kept out
of the admin on purpose: admin users are site operators, not people with a relation to a case, and
the admin cannot apply Incident.objects.visible_to (the subject of a case must never see it, and
the DPO reaches case content only through an audited export). Cases are worked in the app.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from accounts.models import School

from .closures import closures_import
from .models import CategoryWindow, ResponsePolicy, SchoolClosure


class ClosureImportForm(forms.Form):
    school = forms.ModelChoiceField(queryset=School.objects.all())
    file = forms.FileField(help_text="CSV, one day a line: date,label (e.g. 2026-09-01,INSET day).")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 100_000:
            raise ValidationError("The file is larger than 100 KB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("The file is not a text (CSV) file.") from None


@admin.register(ResponsePolicy)
class ResponsePolicyAdmin(admin.ModelAdmin):
    list_display = ["school", "window_hours", "reminder_minutes", "updated_at"]
    autocomplete_fields = ["school"]
    raw_id_fields = ["clause"]


@admin.register(CategoryWindow)
class CategoryWindowAdmin(admin.ModelAdmin):
    list_display = ["school", "category", "window_minutes", "working_days_only"]
    list_filter = ["category", "school"]
    autocomplete_fields = ["school"]


@admin.register(SchoolClosure)
class SchoolClosureAdmin(admin.ModelAdmin):
    list_display = ["school", "date", "label"]
    list_filter = ["school"]
    date_hierarchy = "date"
    autocomplete_fields = ["school"]
    change_list_template = "admin/incidents/schoolclosure/change_list.html"

    def get_urls(self):
        extra = [path("import/", self.admin_site.admin_view(self.import_csv), name="incidents_schoolclosure_import")]
        return extra + super().get_urls()

    def import_csv(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = ClosureImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                added, updated = closures_import(school=form.cleaned_data["school"], text=form.cleaned_data["file"])
            except ValidationError as error:
                for text in error.messages:
                    form.add_error("file", text)
            else:
                messages.success(request, f"{added} closure days added, {updated} updated.")
                return redirect("admin:incidents_schoolclosure_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": "Import closure days",
        }
        return TemplateResponse(request, "admin/incidents/schoolclosure/import.html", context)
