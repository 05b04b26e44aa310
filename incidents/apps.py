from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        from . import signals  # noqa: F401  (role changes re-route cases)
