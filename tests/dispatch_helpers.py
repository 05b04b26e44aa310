"""Record what the code hands to the broker, without a broker: every task goes through Celery's send_task."""

from contextlib import contextmanager
from dataclasses import dataclass
from unittest.mock import patch

from celery import Celery


@dataclass(frozen=True)
class Published:
    name: str
    args: tuple
    kwargs: dict | None
    countdown: float | None


@contextmanager
def published():
    """A list that fills with one `Published` per task the code sends (by any app), none of them sent."""
    sent: list[Published] = []

    def record(app, name, args=None, kwargs=None, countdown=None, **options):
        assert options.get("retry") is False, "publishing must fail fast (retry=False)"
        sent.append(Published(name, tuple(args or ()), kwargs, countdown))

    with patch.object(Celery, "send_task", autospec=True, side_effect=record):
        yield sent
