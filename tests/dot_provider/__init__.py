"""A real OpenID Connect provider for the single sign-on journeys: django-oauth-toolkit (a maintained
OAuth 2 / OpenID Connect server from PyPI) in OpenID Connect mode, run as a second process with its
own Django project, database and RSA key (tests/dot_provider/settings.py).

The browser signs in at the provider's own page (username, password and, for a person who has one,
the provider's one-time code, which puts "mfa" in the ID token's `amr`); the provider then sends it
back to PolicyHub with a code, and PolicyHub exchanges it, with PKCE, for an ID token signed by the
provider's key and published at its JWKS address, all as with a provider on the internet. Tokens no
honest provider issues (tampered, expired, key confusion) come from tests/oidc_provider.py instead.

Only this module is imported by the tests; the rest runs in the provider's process."""

import json
import os
import secrets
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "policyhub-dot-client"
CLIENT_SECRET = secrets.token_urlsafe(32)
PASSWORD = "provider-password-for-tests"  # noqa: S105 (a test fixture)


def _rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class DotProvider:
    """The provider process. `url` is its address; its issuer is `url + "/o"`."""

    def __init__(self, timeout: float = 60):
        self.token = secrets.token_urlsafe(24)
        env = {
            **os.environ,
            "DOT_PROVIDER_SECRET_KEY": secrets.token_urlsafe(50),
            "DOT_PROVIDER_RSA_KEY": _rsa_pem(),
            "DOT_PROVIDER_TEST_TOKEN": self.token,
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.dot_provider", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,  # closing it (or our exit) ends the provider
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            line = self._first_line(timeout)
            if not line.startswith("http://127.0.0.1:"):
                raise RuntimeError(f"the provider process did not print its URL (got {line!r})")
        except BaseException:
            self.close()
            raise
        self.url = line.strip()
        self.issuer = self.url + "/o"

    def _first_line(self, timeout: float) -> str:
        lines = []
        reader = threading.Thread(target=lambda: lines.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not lines or not lines[0]:
            raise RuntimeError(f"the provider process printed nothing in {timeout}s")
        return lines[0]

    def _post(self, path: str, body: dict) -> None:
        request = urllib.request.Request(  # noqa: S310 (our own provider on 127.0.0.1)
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (127.0.0.1)
            assert response.status == 200

    def register_client(self, redirect_uri: str) -> None:
        self._post(
            "/_test/client", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": redirect_uri}
        )

    def add_person(self, username: str, email: str, *, email_verified=True, tenant="", one_time_code="") -> None:
        self._post(
            "/_test/person",
            {
                "username": username,
                "email": email,
                "password": PASSWORD,
                "email_verified": email_verified,
                "tenant": tenant,
                "one_time_code": one_time_code,
            },
        )

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def provider_for(dot: DotProvider, trust, **settings):
    """A trust's generic OpenID Connect provider pointing at `dot`; the client secret comes from the
    environment variable SSO_DOT_SECRET (set it to CLIENT_SECRET)."""
    from accounts.models import ProviderKind, SingleSignOnProvider

    fields = {
        "slug": "riverside",
        "label": "Riverside accounts",
        "kind": ProviderKind.OIDC,
        "issuer": dot.issuer,
        "authorization_endpoint": dot.url + "/o/authorize/",
        "token_endpoint": dot.url + "/o/token/",
        "jwks_uri": dot.url + "/o/.well-known/jwks.json",
        "client_id": CLIENT_ID,
        "client_secret_env": "SSO_DOT_SECRET",
    }
    return SingleSignOnProvider.objects.create(trust=trust, **{**fields, **settings})
