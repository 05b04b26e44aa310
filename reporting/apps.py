from django.apps import AppConfig


class ReportingConfig(AppConfig):
    """The governors' termly pack and the trust's figures ([9]): counts and rates over the cases a
    person may count (incidents/access.py FIGURES), per school and per school term. Reads only."""

    name = "reporting"
    verbose_name = "Governors' and trust reporting"

    def ready(self):
        from django.db.models.signals import post_migrate, pre_migrate

        from . import stamps

        pre_migrate.connect(stamps.uninstall, dispatch_uid="policyhub-figures-change-triggers-off")
        post_migrate.connect(stamps.install, dispatch_uid="policyhub-figures-change-triggers")
