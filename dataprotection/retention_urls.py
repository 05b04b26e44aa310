"""Retention pages (mounted at /retention/): what will be deleted next month, legal holds."""

from django.urls import path

from . import retention_views

app_name = "retention"
urlpatterns = [
    path("", retention_views.upcoming, name="upcoming"),
    path("<int:pk>/hold/", retention_views.hold, name="hold"),
    path("<int:pk>/release/", retention_views.release, name="release"),
    path("<int:pk>/pension-age/", retention_views.pension_age, name="pension_age"),
]
