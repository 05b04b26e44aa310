from django.contrib import admin

from .models import (
    Acknowledgement,
    AcknowledgementReminder,
    Clause,
    Liveness,
    Policy,
    PolicyAdoption,
    PolicyVersion,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Policy rows change only through policyhub.services (published versions are immutable, reminders
    are once a day): the admin shows them, it does not edit them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VersionInline(admin.TabularInline):
    model = PolicyVersion
    fields = ["number", "status", "effective_date", "next_review_date", "approved_by", "source_name"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = ["title", "trust", "school", "created_at"]
    list_select_related = ["trust", "school"]
    search_fields = ["title"]
    inlines = [VersionInline]


@admin.register(PolicyAdoption)
class PolicyAdoptionAdmin(ReadOnlyAdmin):
    list_display = ["school", "policy", "adopted_at"]
    list_select_related = ["school", "policy"]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ["policy", "number", "status", "effective_date", "next_review_date", "approved_by"]
    list_filter = ["status"]
    list_select_related = ["policy", "approved_by"]


@admin.register(Clause)
class ClauseAdmin(ReadOnlyAdmin):
    list_display = ["ref", "version", "section", "short_text"]
    list_select_related = ["version__policy", "section"]
    search_fields = ["ref", "text"]

    @admin.display(description="text")
    def short_text(self, obj):
        return obj.text[:80]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ["user", "version", "at"]
    list_select_related = ["user", "version__policy"]


@admin.register(Liveness)
class LivenessAdmin(ReadOnlyAdmin):
    """Written only by the sweep and heartbeat tasks (policyhub/liveness.py)."""

    list_display = ["last_sweep_at", "last_heartbeat_at", "created_at"]


@admin.register(AcknowledgementReminder)
class AcknowledgementReminderAdmin(ReadOnlyAdmin):
    list_display = ["user", "version", "sent_on"]
    list_select_related = ["user", "version__policy"]
