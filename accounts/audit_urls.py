from django.urls import path

from incidents import references

from . import audit_views

references.register_url_converter()

app_name = "audit"
urlpatterns = [
    path("", audit_views.audit_log, name="log"),
    path("case/<ref:reference>/", audit_views.case_history, name="case_history"),
]
