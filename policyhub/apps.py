from django.apps import AppConfig


class PolicyhubConfig(AppConfig):
    name = "policyhub"
    verbose_name = "Policy"

    def ready(self):
        from . import checks  # noqa: F401  (registers system checks)
