import logging

from celery import shared_task

from . import audit

log = logging.getLogger("policyhub.audit")


@shared_task(name="accounts.tasks.seal_audit")
def seal_audit() -> int:
    return audit.seal()


@shared_task(name="accounts.tasks.verify_audit")
def verify_audit() -> bool:
    """Hourly: recompute the whole chain from the events against every anchor line (the sealer's
    minute-by-minute check reads only the seals). A break is an error-level alarm (references only)."""
    result = audit.verify()
    if not result.ok:
        log.error("audit chain broken: %s. Run manage.py verify_audit.", result.problem)
    return result.ok
