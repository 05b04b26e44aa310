"""URLs of the incidents feature (mounted at /incidents/)."""

from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/<int:pk>/done/", views.report_done, name="report_done"),
    path("mine/", views.my_reports, name="mine"),
    path("queue/", views.queue, name="queue"),
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/termly/", views.termly_report, name="termly_report"),
    path("people/<int:user_id>/", views.person, name="person"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:pk>/triage/", views.triage, name="triage"),
    path("<int:pk>/start-investigation/", views.start_investigation, name="start_investigation"),
    path("<int:pk>/propose-outcome/", views.propose_outcome, name="propose_outcome"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/refer-to-governors/", views.refer_to_governors, name="refer_to_governors"),
    path("<int:pk>/decide/", views.decide, name="decide"),
    path("<int:pk>/conflict/", views.declare_conflict, name="declare_conflict"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/notes/", views.add_note, name="add_note"),
    path("<int:pk>/referrals/", views.record_referral, name="record_referral"),
    path("<int:pk>/evidence/", views.add_evidence, name="add_evidence"),
    path("evidence/<int:pk>/download/", views.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/preview/", views.evidence_preview, name="evidence_preview"),
    path("evidence/<int:pk>/withdraw/", views.evidence_withdraw, name="evidence_withdraw"),
]
