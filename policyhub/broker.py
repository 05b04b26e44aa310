"""kombu's filesystem transport (the embedded broker of `make run`), publishing atomically.

kombu 5.6's filesystem transport creates a message's file in the queue folder and only then
writes the message into it. A worker listing the folder in between takes the empty file, fails
to decode it ("Unrecoverable error: JSONDecodeError", the worker exits) and the message is lost.
Here the message is written to a name no queue matches and renamed into place: a rename within a
folder is atomic, so a reader sees a message whole or not at all. policyhub/celery.py makes every
filesystem:// URL use this transport.

It also stops polling as soon as the worker is told to stop. kombu polls the folder for up to 2 s
at a time, sleeping a second between looks, and Celery's solo pool (the embedded worker's, see
CELERY_WORKER_POOL) checks for a stop only between polls and then polls once more, running any task
it finds: Ctrl-C took about 4 s on a quiet machine and over 8 s on a busy one. `stop_polling()` (called
on Celery's worker_shutting_down signal, policyhub/celery.py) makes every poll return at once,
taking nothing, so the worker stops within a fraction of a second of finishing the task in hand;
messages not taken stay in the folder for the next start."""

import os
import uuid
from contextlib import suppress
from queue import Empty
from time import monotonic, sleep

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # The same name kombu gives it (readers take messages in name order), ...
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # ... written first under a name that never contains ".<queue>.msg".
        partial = os.path.join(self.data_folder_out, f".partial-{uuid.uuid4()}")
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
                f.flush()
                os.fsync(f.fileno())
            os.replace(partial, final)
        except OSError as exc:
            with suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


# Set from a signal handler, so a plain flag: no lock a handler could wait on for ever.
_stopping = False
# How long a poll sleeps before it looks at the flag again.
_STOP_CHECK_SECONDS = 0.05


def stop_polling(**_signal_kwargs) -> None:
    """The worker is stopping: polls return at once and take no more messages."""
    global _stopping  # noqa: PLW0603 (set from a signal handler)
    _stopping = True


def resume_polling(**_signal_kwargs) -> None:
    """A worker is ready in this process: poll again (tests start and stop workers in one process)."""
    global _stopping  # noqa: PLW0603
    _stopping = False


class Transport(filesystem.Transport):
    Channel = Channel

    def drain_events(self, connection, timeout=None):
        """kombu's, but it returns (taking nothing) once stop_polling() has been called."""
        started = monotonic()
        while not _stopping:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                pass
            pause = self.polling_interval or 0
            if timeout is not None:
                pause = min(pause, timeout - (monotonic() - started))
            if pause <= 0 and timeout is not None:
                break
            woke = monotonic() + pause
            while not _stopping and (left := woke - monotonic()) > 0:
                sleep(min(left, _STOP_CHECK_SECONDS))
        raise TimeoutError()

    @property
    def default_connection_params(self):
        # A folder on this machine has no host. kombu's virtual transports default the hostname to
        # "localhost", and kombu then warns "No hostname was supplied" each time a connection is
        # described (four times on every `make run`): give no default hostname, so nothing is amiss.
        params = dict(super().default_connection_params)
        params.pop("hostname", None)
        return params


def use_for_filesystem_urls() -> None:
    TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
