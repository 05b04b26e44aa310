from django.urls import path

from . import views

app_name = "obligations"

urlpatterns = [
    path("declarations/", views.declarations, name="declarations"),
    path("declarations/new/", views.declare, name="declare"),
    path("declarations/<uuid:public_id>/", views.declaration, name="declaration"),
    path("training/", views.training, name="training"),
    path("training/csv/", views.training_csv, name="training_csv"),
    path("training/mine/", views.my_training, name="my_training"),
    path("advice/", views.advice_list, name="advice_list"),
    path("advice/<uuid:public_id>/", views.advice, name="advice"),
]
