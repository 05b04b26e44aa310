"""Data-protection officer pages (mounted at /dpo/): subject access exports."""

from django.urls import path

from . import sar_views

app_name = "sar"
urlpatterns = [
    path("sar/", sar_views.start, name="start"),
    path("sar/<int:user_id>/", sar_views.preview, name="preview"),
    path("sar/<int:user_id>/export/", sar_views.export, name="export"),
]
