"""The Django admin shows the response rules and the retention rules per category only.

Case content (Incident, Evidence, TimelineEntry, Referral, GovernorReview, Notification) is kept out
of the admin on purpose: admin users are site operators, not people with a relation to a case, and
the admin cannot apply Incident.objects.visible_to (the subject of a case must never see it, and
the DPO reaches case content only through an audited export). Cases are worked in the app.
"""

from django.contrib import admin

from .models import CategoryWindow, ResponsePolicy, RetentionRule, SchoolClosure


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


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    """Years after closure per category. Child-protection categories are refused (their 25-year rule
    is fixed: incidents/retention.py); categories without a row use RETENTION_DEFAULT_YEARS."""

    list_display = ["category", "years_after_closure", "updated_at"]
