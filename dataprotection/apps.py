from django.apps import AppConfig


class DataProtectionConfig(AppConfig):
    """The data-protection officer's work: subject-access export (sar*.py), how long a case is
    kept and the nightly sweep that deletes what is due, legal holds, the next-month page
    (retention*.py). It sits above accounts, incidents and policyhub and imports from them; none
    of them imports it."""

    name = "dataprotection"
    verbose_name = "Data protection"
