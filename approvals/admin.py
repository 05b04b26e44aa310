from django.contrib import admin

from .models import AuthorisationKind


@admin.register(AuthorisationKind)
class AuthorisationKindAdmin(admin.ModelAdmin):
    """The kinds of authorisation staff may ask for: data, so a school's list can grow."""

    list_display = ("label", "slug", "consent_check", "names_account", "active", "order")
    list_editable = ("active", "order")
