from django.conf import settings
from django.db import models


class Person(models.Model):
    """What the provider knows about a person beyond Django's user: the claims PolicyHub checks."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person")
    email_verified = models.BooleanField(default=True)
    tenant = models.CharField(max_length=64, blank=True)  # Entra's `tid`; blank for a generic provider
    one_time_code = models.CharField(max_length=16, blank=True)  # the provider's own second factor
    # How the person last signed in at the provider: OpenID Connect's `amr` ("pwd", plus "mfa").
    last_methods = models.JSONField(default=list)

    class Meta:
        app_label = "dot_provider"

    def __str__(self):
        return f"provider person {self.user_id}"
