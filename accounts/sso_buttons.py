"""The single sign-on buttons on the sign-in page, without a query per page view.

The sign-in page is the one page every visitor opens, and its only query was the list of active
providers, which changes a few times a year. Each process keeps the list for BUTTONS_SECONDS:
- a save or delete of a provider in this process empties it at once (signals below);
- another process (another web worker, the admin, a shell, a queryset .update()) cannot empty it,
  so there a change shows within BUTTONS_SECONDS.
A button that lingers after its provider was switched off leads nowhere: sso_start (accounts/views.py)
reads the provider from the database and answers 404 unless it is active. A new provider's button
may likewise take BUTTONS_SECONDS to appear. See docs/single-sign-on.md."""

import time
from dataclasses import dataclass

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import SingleSignOnProvider

BUTTONS_SECONDS = 60


@dataclass(frozen=True)
class Button:
    slug: str
    label: str


_memo: tuple[float, tuple[Button, ...]] | None = None  # (expires at, buttons); one assignment, thread-safe


def sign_in_buttons() -> tuple[Button, ...]:
    """The active providers, by label, as the sign-in page shows them."""
    global _memo
    memo, now = _memo, time.monotonic()
    if memo is not None and now < memo[0]:
        return memo[1]
    buttons = tuple(
        Button(slug, label)
        for slug, label in SingleSignOnProvider.objects.filter(is_active=True)
        .order_by("label")
        .values_list("slug", "label")
    )
    _memo = (now + BUTTONS_SECONDS, buttons)
    return buttons


def forget() -> None:
    global _memo
    _memo = None


@receiver(post_save, sender="accounts.SingleSignOnProvider", dispatch_uid="sso-buttons-saved")
@receiver(post_delete, sender="accounts.SingleSignOnProvider", dispatch_uid="sso-buttons-deleted")
def _provider_changed(sender, **kwargs):
    forget()
    # And again once the change is committed: another thread may have read the old rows meanwhile.
    transaction.on_commit(forget)
