"""URLs of the incidents feature (mounted at /incidents/)."""

from django.urls import path

from . import references, views

references.register_url_converter()

# Cases by reference and files by a random id: never a database id, which would count cases.
app_name = "incidents"
urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/<ref:reference>/done/", views.report_done, name="report_done"),
    path("mine/", views.my_reports, name="mine"),
    path("queue/", views.queue, name="queue"),
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/termly/", views.termly_report, name="termly_report"),
    path("people/<int:user_id>/", views.person, name="person"),
    path("<ref:reference>/", views.detail, name="detail"),
    path("<ref:reference>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<ref:reference>/triage/", views.triage, name="triage"),
    path("<ref:reference>/start-investigation/", views.start_investigation, name="start_investigation"),
    path("<ref:reference>/propose-outcome/", views.propose_outcome, name="propose_outcome"),
    path("<ref:reference>/close/", views.close, name="close"),
    path("<ref:reference>/refer-to-governors/", views.refer_to_governors, name="refer_to_governors"),
    path("<ref:reference>/decide/", views.decide, name="decide"),
    path("<ref:reference>/conflict/", views.declare_conflict, name="declare_conflict"),
    path("<ref:reference>/reopen/", views.reopen, name="reopen"),
    path("<ref:reference>/notes/", views.add_note, name="add_note"),
    path("<ref:reference>/referrals/", views.record_referral, name="record_referral"),
    path("<ref:reference>/evidence/", views.add_evidence, name="add_evidence"),
    path("evidence/<uuid:public_id>/download/", views.evidence_download, name="evidence_download"),
    path("evidence/<uuid:public_id>/preview/", views.evidence_preview, name="evidence_preview"),
    path("evidence/<uuid:public_id>/withdraw/", views.evidence_withdraw, name="evidence_withdraw"),
]
