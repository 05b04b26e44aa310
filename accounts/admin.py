from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from .forms import SingleSignOnGroupRoleForm, SingleSignOnProviderForm
from .models import AuditEvent, Membership, School, SingleSignOnGroupRole, SingleSignOnProvider, Trust, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["school"]


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "memberships__role"]
    search_fields = ["email", "full_name"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)


@admin.register(Trust)
class TrustAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "urn", "trust", "nation", "close_of_business"]
    list_filter = ["nation", "trust"]
    search_fields = ["name", "urn", "code"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "school", "role"]
    list_filter = ["role", "school"]
    search_fields = ["user__email", "user__full_name", "school__name"]
    autocomplete_fields = ["user", "school"]
    list_select_related = ["user", "school"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["at", "actor_email", "action", "object_type", "object_id", "school_id", "ip"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_email", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SingleSignOnGroupRoleInline(admin.TabularInline):
    model = SingleSignOnGroupRole
    form = SingleSignOnGroupRoleForm
    extra = 0


@admin.register(SingleSignOnProvider)
class SingleSignOnProviderAdmin(admin.ModelAdmin):
    """The client secret is write-only (SingleSignOnProviderForm); changes are audited (signals)."""

    form = SingleSignOnProviderForm
    list_display = ["label", "trust", "kind", "is_active", "password_sign_in", "trust_provider_mfa"]
    list_filter = ["kind", "is_active"]
    inlines = [SingleSignOnGroupRoleInline]
