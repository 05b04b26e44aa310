from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import otp_views, sso_views, staff_import_views, views
from .two_factor import two_factor_exempt

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", two_factor_exempt(auth_views.LogoutView.as_view()), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
            success_url=reverse_lazy("password_reset_done"),
        ),
        name="password_reset",
    ),
    path("password/reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("sign-in-link/", views.sign_in_link_request, name="sign_in_link_request"),
    path("sign-in-link/sent/", views.sign_in_link_sent, name="sign_in_link_sent"),
    path("sign-in-link/use/<str:token>/", views.sign_in_link, name="sign_in_link"),
    path("sso/<slug:slug>/start/", views.sso_start, name="sso_start"),
    path("sso/callback/", views.sso_callback, name="sso_callback"),
    path("sign-in-providers/", sso_views.provider_list, name="sso_providers"),
    path("sign-in-providers/new/", sso_views.provider_new, name="sso_provider_new"),
    path("sign-in-providers/<int:pk>/", sso_views.provider_edit, name="sso_provider_edit"),
    path("sign-in-providers/<int:pk>/groups/", sso_views.mapping_add, name="sso_mapping_add"),
    path(
        "sign-in-providers/<int:pk>/groups/<int:mapping_pk>/remove/",
        sso_views.mapping_remove,
        name="sso_mapping_remove",
    ),
    path("switch-school/", views.switch_school, name="switch_school"),
    path("security/", otp_views.account_security, name="account_security"),
    path("security/sign-out-everywhere/", otp_views.sign_out_everywhere, name="sign_out_everywhere"),
    path("two-factor/setup/", otp_views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/verify/", otp_views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/recovery-codes/", otp_views.recovery_codes, name="recovery_codes"),
    path("staff-import/", staff_import_views.staff_import_page, name="staff_import"),
    path("staff-import/confirm/", staff_import_views.staff_import_confirm, name="staff_import_confirm"),
]
