from django.contrib import admin

from .models import TermDate


@admin.register(TermDate)
class TermDateAdmin(admin.ModelAdmin):
    list_display = ("school", "year", "term", "starts_on", "ends_on")
    list_filter = ("term", "year", "school")
