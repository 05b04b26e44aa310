from django.conf import settings
from django.core.checks import Error, Tags, register

from accounts import security  # noqa: F401  (registers the sign-in, session and header checks)


@register(Tags.security, deploy=True)
def secret_key_from_environment(app_configs, **kwargs):
    """A production deployment must not run on the development key baked into settings."""
    if settings.SECRET_KEY.startswith(settings.DEV_SECRET_KEY_PREFIX) or len(settings.SECRET_KEY) < 50:
        return [
            Error(
                "SECRET_KEY is the development key or too short.",
                hint="Set SECRET_KEY in the environment to 50+ random characters.",
                id="policyhub.E001",
            )
        ]
    return []
