"""The case file's pages (mounted at /case-files/): find a case, choose, download."""

from django.urls import path

from incidents import references

from . import casefile_views

references.register_url_converter()

app_name = "casefile"
urlpatterns = [
    path("", casefile_views.find, name="find"),
    path("<ref:reference>/", casefile_views.case_file, name="form"),
    path("<ref:reference>/download/", casefile_views.download, name="download"),
]
