from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.index, name="index"),
    path("accounts/", views.register, name="register"),
    path("accounts/new/", views.account_new, name="account_new"),
    path("accounts/<int:pk>/", views.account, name="account"),
    path("accounts/<int:pk>/decide/", views.account_decide, name="account_decide"),
    path("accounts/<int:pk>/review/", views.account_review, name="account_review"),
    path("accounts/<int:pk>/close/", views.account_close, name="account_close"),
    path("replacements/<int:pk>/", views.vacancy_fill, name="vacancy_fill"),
    path("authorisations/", views.authorisations, name="authorisations"),
    path("authorisations/new/", views.authorisation_new, name="authorisation_new"),
    path("authorisations/<int:pk>/", views.authorisation, name="authorisation"),
    path("authorisations/<int:pk>/decide/", views.authorisation_decide, name="authorisation_decide"),
    path("do-not-publish/", views.do_not_publish, name="do_not_publish"),
    path("do-not-publish/import/", views.do_not_publish_import, name="do_not_publish_import"),
    path("do-not-publish/<int:pk>/remove/", views.do_not_publish_remove, name="do_not_publish_remove"),
    path("approvers/", views.approvers, name="approvers"),
    path("approvers/<int:pk>/remove/", views.approver_remove, name="approver_remove"),
    path("concerns/", views.concern_link, name="concern_link"),
]
