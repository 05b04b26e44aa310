"""Retention pages (mounted at /retention/): what will be deleted next month, legal holds."""

from django.urls import path

from incidents import references

from . import retention_views

references.register_url_converter()

app_name = "retention"
urlpatterns = [
    path("", retention_views.upcoming, name="upcoming"),
    path("<ref:reference>/hold/", retention_views.hold, name="hold"),
    path("<ref:reference>/release/", retention_views.release, name="release"),
    path("<ref:reference>/pension-age/", retention_views.pension_age, name="pension_age"),
]
