from django.urls import path

from . import views

app_name = "reporting"

# The pack's page keeps its old address and name (incidents:termly_report, incidents/urls.py).
urlpatterns = [
    path("pack.csv", views.pack_csv, name="pack_csv"),
    path("pack.pdf", views.pack_pdf, name="pack_pdf"),
    path("trust/", views.trust, name="trust"),
]
