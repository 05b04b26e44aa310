"""Thin Celery tasks: load ids, call a service. The logic lives in retention.py."""

from celery import shared_task
from django.utils import timezone

from . import retention


@shared_task(name="dataprotection.tasks.sweep_retention")
def sweep_retention() -> int:
    """Nightly: delete the closed cases whose retention has run out (not those on legal hold)."""
    return len(retention.retention_sweep(now=timezone.now()))
