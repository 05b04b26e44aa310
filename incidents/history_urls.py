"""The case access history's route. policyhub/urls.py mounts it under /audit/ in accounts.audit_urls'
namespace, so its path (/audit/case/<reference>/) and name (audit:case_history) did not change when the view
moved here from accounts."""

from django.urls import path

from . import history_views, references

references.register_url_converter()

urlpatterns = [
    path("case/<ref:reference>/", history_views.case_history, name="case_history"),
]
