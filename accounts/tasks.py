from celery import shared_task

from . import audit


@shared_task(name="accounts.tasks.seal_audit")
def seal_audit() -> int:
    return audit.seal()
