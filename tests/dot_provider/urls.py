from django.urls import include, path

from . import views

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("login/", views.sign_in),
    path("_test/client", views.set_up_client),
    path("_test/person", views.set_up_person),
]
