"""URLs of the incidents feature (mounted at /incidents/)."""

from django.urls import path

from reporting import views as reporting_views

from . import references, views
from .transitions import TABLE

references.register_url_converter()

# Cases by reference and files by a random id: never a database id, which would count cases.
app_name = "incidents"
urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/<ref:reference>/done/", views.report_done, name="report_done"),
    path("mine/", views.my_reports, name="mine"),
    path("queue/", views.queue, name="queue"),
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/termly/", reporting_views.pack_page, name="termly_report"),  # the governors' pack ([9])
    path("people/<int:user_id>/", views.person, name="person"),
    path("<ref:reference>/", views.detail, name="detail"),
    path("evidence/<uuid:public_id>/download/", views.evidence_download, name="evidence_download"),
    path("evidence/<uuid:public_id>/preview/", views.evidence_preview, name="evidence_preview"),
    path("evidence/<uuid:public_id>/withdraw/", views.evidence_withdraw, name="evidence_withdraw"),
] + [
    # One address per row of the transitions table served under the case, all by one view, named
    # as the row's URL (incidents:acknowledge, incidents:decide, ...).
    path(f"<ref:reference>/{t.path}/", views.case_action, {"name": t.name}, name=t.url_name.split(":", 1)[1])
    for t in TABLE
    if t.path
]
