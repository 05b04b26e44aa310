from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

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
    path("audit/", include("accounts.audit_urls")),
    path("retention/", include("dataprotection.retention_urls")),
    path("dpo/", include("dataprotection.sar_urls")),
    path("admin/", admin.site.urls),
]
