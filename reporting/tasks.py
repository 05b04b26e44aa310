from celery import shared_task

from . import stamps


@shared_task(name="reporting.tasks.prune_figures_changes")
def prune_figures_changes() -> int:
    """Beat, hourly: keep only each school's newest figures-change row (reporting/stamps.py)."""
    return stamps.prune()
