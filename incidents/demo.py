"""Demo incidents in every state, including one about the head routed to the chair."""


def seed_incidents(*, schools):
    """Idempotent. Filled in with the incidents feature."""
