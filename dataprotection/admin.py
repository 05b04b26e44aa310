"""The Django admin shows the retention rules per category (case content stays out of the admin:
incidents/admin.py says why)."""

from django.contrib import admin

from .models import RetentionRule


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    """Years after closure per category. Child-protection categories are refused (their 25-year rule
    is fixed: dataprotection/retention.py); categories without a row use RETENTION_DEFAULT_YEARS."""

    list_display = ["category", "years_after_closure", "updated_at"]
