from django.apps import AppConfig


class DotProviderConfig(AppConfig):
    name = "tests.dot_provider"
    label = "dot_provider"
    default_auto_field = "django.db.models.BigAutoField"
