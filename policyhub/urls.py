from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from accounts import audit_urls
from incidents import history_urls

from . import views

# The admin needs a verified second factor too, even if TwoFactorMiddleware were ever removed.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "PolicyHub administration"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("policy/", include("policyhub.policy_urls")),
    path("incidents/", include("incidents.urls")),
    # One "audit" namespace: the trust's log (accounts) and a case's access history (incidents).
    path("audit/", include(([*audit_urls.urlpatterns, *history_urls.urlpatterns], audit_urls.app_name))),
    path("retention/", include("dataprotection.retention_urls")),
    path("dpo/", include("dataprotection.sar_urls")),
    path("case-files/", include("dataprotection.casefile_urls")),
    path("approvals/", include("approvals.urls")),
    path("staff/", include("obligations.urls")),
    path("reports/", include("reporting.urls")),
    path("admin/", admin.site.urls),
]
