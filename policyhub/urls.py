from django.contrib import admin
from django.urls import include, path

from . import views

admin.site.site_header = "PolicyHub administration"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("policy/", include("policyhub.policy_urls")),
    path("incidents/", include("incidents.urls")),
    path("admin/", admin.site.urls),
]
