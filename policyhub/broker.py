"""kombu's filesystem transport (the embedded broker of `make run`), publishing atomically.

kombu 5.6's filesystem transport creates a message's file in the queue folder and only then
writes the message into it. A worker listing the folder in between takes the empty file, fails
to decode it ("Unrecoverable error: JSONDecodeError", the worker exits) and the message is lost.
Here the message is written to a name no queue matches and renamed into place: a rename within a
folder is atomic, so a reader sees a message whole or not at all. policyhub/celery.py makes every
filesystem:// URL use this transport."""

import os
import uuid
from contextlib import suppress
from time import monotonic

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


class Transport(filesystem.Transport):
    Channel = Channel

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
