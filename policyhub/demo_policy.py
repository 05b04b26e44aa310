"""The demo staff social-media policy (original wording), published and partly acknowledged."""


def seed_policy(*, trust, schools):
    """Idempotent. Filled in with the policy feature."""
