"""URLs of the policy feature (mounted at /policy/)."""

from django.urls import path

from . import views

app_name = "policy"
urlpatterns = [
    path("", views.policy_page, name="page"),
    path("search/", views.search, name="search"),
    path("banner/hide/", views.hide_banner, name="hide_banner"),
    path("diff/", views.diff, name="diff"),
    path("clause/<int:pk>/", views.clause_detail, name="clause"),
    path("versions/<int:pk>/", views.version_detail, name="version"),
    path("versions/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("compliance/", views.compliance, name="compliance"),
    path("compliance.csv", views.compliance_csv, name="compliance_csv"),
    path("manage/", views.manage, name="manage"),
    path("import/", views.import_start, name="import"),
    path("import/preview/", views.import_preview, name="import_preview"),
    path("import/preview/sections/<int:index>/", views.import_section, name="import_section"),
    path("versions/<int:pk>/edit/", views.draft_edit, name="draft_edit"),
    path("versions/<int:pk>/edit/sections/<int:index>/", views.draft_section, name="draft_section"),
    path("versions/<int:pk>/publish/", views.publish, name="publish"),
    path("versions/<int:pk>/new-draft/", views.new_draft, name="new_draft"),
    path("versions/<int:pk>/reviewed/", views.record_review, name="record_review"),
    path("<int:pk>/adopt/", views.adopt, name="adopt"),
]
