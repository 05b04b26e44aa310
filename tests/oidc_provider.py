"""A fake OpenID Connect provider for the single sign-on tests: its own RSA keys, a JWKS endpoint and
a token endpoint served over HTTP on 127.0.0.1 by a thread (no internet). The test plays the part
of the person at the provider: `authorize()` reads the authorization URL PolicyHub redirected to
and issues a code whose ID token carries the claims the test asks for (or a token the test made by
hand, for the attacks). The token endpoint checks the client secret, the redirect URI and the PKCE
verifier as a real provider does, and a code works once.

The same provider also runs as a second process for the Chromium journeys:
`python -m tests.oidc_provider --port 0` prints its URL on stdout and serves until its stdin closes
(so it ends with the test process that started it, even one that is killed). `ProviderProcess`
starts and stops it; the test names who signs in at the next /authorize with a POST to
/_test/next-sign-in ({"claims": {...}, "tampered_with": {...}} as JSON), used once.
"""

import argparse
import base64
import hashlib
import hmac
import json
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "policyhub-test-client"
CLIENT_SECRET = "test-client-secret-not-real"  # noqa: S105 (a test fixture)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    """A compact JWS built by hand, for tokens no honest library would make."""
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(signature)


def hs256_with(secret: bytes, claims: dict, kid: str) -> str:
    """The classic key-confusion token: HS256 with the provider's *public* key as the HMAC secret."""
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(hmac.new(secret, head.encode(), hashlib.sha256).digest())


class FakeProvider:
    def __init__(self, port: int = 0):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
        self.published = [self.key]
        self.codes = {}
        self.browser_claims = {}  # who signs in when a browser visits /authorize
        self.next_sign_in = None  # set by POST /_test/next-sign-in: used by the next /authorize only
        self.token_requests = 0
        self.jwks_requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.issuer = self.url + "/issuer"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # --- what the provider publishes -------------------------------------------------------------

    def rotate(self, kid: str) -> RSAKey:
        """A new signing key, published alongside the old one, as providers do."""
        self.key = RSAKey.generate_key(2048, parameters={"kid": kid})
        self.published = [*self.published, self.key]
        return self.key

    def jwks(self) -> dict:
        return {"keys": [k.as_dict(private=False) for k in self.published]}

    def public_pem(self) -> bytes:
        return self.key.as_pem(private=False)

    # --- the person at the provider ----------------------------------------------------------------

    def claims(self, query: dict, **overrides) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": secrets.token_hex(8),
            "iat": now,
            "exp": now + 300,
            "nonce": query["nonce"],
            "email_verified": True,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict, key: RSAKey | None = None, alg: str = "RS256") -> str:
        key = key or self.key
        return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)

    def authorize(self, location: str, id_token: str | None = None, **claims) -> tuple[str, str]:
        """The person signs in at the provider; returns (code, state) for the callback."""
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        assert query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256"
        token = id_token if id_token is not None else self.sign(self.claims(query, **claims))
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "id_token": token,
            "challenge": query["code_challenge"],
            "redirect_uri": query["redirect_uri"],
            "client_id": query["client_id"],
        }
        return code, query["state"]

    # --- HTTP --------------------------------------------------------------------------------------

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/jwks":
                    provider.jwks_requests += 1
                    return self._json(200, provider.jwks())
                if self.path.startswith("/authorize?"):
                    # A browser at the provider: the person "signs in" as the test named with
                    # /_test/next-sign-in (once), else as provider.browser_claims.
                    sign_in, provider.next_sign_in = provider.next_sign_in, None
                    if sign_in is None:
                        sign_in = {"claims": provider.browser_claims}
                    location = f"{provider.url}{self.path}"
                    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
                    token = None
                    if sign_in.get("tampered_with"):
                        # Signed for these claims, then the payload changed: the signature no longer fits.
                        signed = provider.sign(provider.claims(query, **sign_in["claims"]))
                        forged = provider.claims(query, **{**sign_in["claims"], **sign_in["tampered_with"]})
                        head, _payload, signature = signed.split(".")
                        token = f"{head}.{b64(json.dumps(forged).encode())}.{signature}"
                    code, state = provider.authorize(location, id_token=token, **sign_in["claims"])
                    target = query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": state})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self._json(404, {"error": "not_found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if self.path == "/_test/next-sign-in":
                    sign_in = json.loads(body or b"{}")
                    if not isinstance(sign_in, dict) or not isinstance(sign_in.get("claims"), dict):
                        return self._json(400, {"error": 'expected {"claims": {...}, "tampered_with": {...}}'})
                    provider.next_sign_in = sign_in
                    return self._json(200, {"ok": True})
                if self.path != "/token":
                    return self._json(404, {"error": "not_found"})
                provider.token_requests += 1
                form = dict(urllib.parse.parse_qsl(body.decode()))
                grant = provider.codes.pop(form.get("code", ""), None)  # a code works once
                if grant is None:
                    return self._json(400, {"error": "invalid_grant"})
                verifier = form.get("code_verifier", "")
                challenge = b64(hashlib.sha256(verifier.encode()).digest())
                if (
                    form.get("grant_type") != "authorization_code"
                    or form.get("client_id") != grant["client_id"]
                    or form.get("client_secret") != CLIENT_SECRET
                    or form.get("redirect_uri") != grant["redirect_uri"]
                    or not hmac.compare_digest(challenge, grant["challenge"])
                ):
                    return self._json(400, {"error": "invalid_grant"})
                return self._json(200, {"id_token": grant["id_token"], "access_token": "x", "token_type": "Bearer"})

        return Handler


ROOT = Path(__file__).resolve().parent.parent


class ProviderProcess:
    """The fake provider in a second process (`python -m tests.oidc_provider`), for the browser
    journeys: the same URL/issuer as FakeProvider, so provider_for() works with either."""

    def __init__(self, timeout: float = 30):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.oidc_provider", "--port", "0"],
            cwd=ROOT,
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
        self.issuer = self.url + "/issuer"

    def _first_line(self, timeout: float) -> str:
        lines = []
        reader = threading.Thread(target=lambda: lines.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not lines:
            raise RuntimeError(f"the provider process printed nothing in {timeout}s")
        return lines[0]

    def sign_in_next(self, tampered_with: dict | None = None, **claims) -> None:
        """The person who signs in at the provider's next /authorize, with these ID token claims;
        `tampered_with`: claims changed in the token after it was signed (an attacker's edit)."""
        request = urllib.request.Request(  # noqa: S310 (our own provider on 127.0.0.1)
            self.url + "/_test/next-sign-in",
            data=json.dumps({"claims": claims, "tampered_with": tampered_with or {}}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (127.0.0.1)
            assert response.status == 200

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process.stdout.close()


def provider_for(idp: "FakeProvider | ProviderProcess", trust, **settings):
    """A trust's generic OpenID Connect provider pointing at the fake provider `idp`; the client
    secret comes from the environment variable SSO_TEST_SECRET (set it to CLIENT_SECRET)."""
    from accounts.models import ProviderKind, SingleSignOnProvider

    fields = {
        "slug": "riverside",
        "label": "Riverside accounts",
        "kind": ProviderKind.OIDC,
        "issuer": idp.issuer,
        "authorization_endpoint": idp.url + "/authorize",
        "token_endpoint": idp.url + "/token",
        "jwks_uri": idp.url + "/jwks",
        "client_id": CLIENT_ID,
        "client_secret_env": "SSO_TEST_SECRET",
    }
    return SingleSignOnProvider.objects.create(trust=trust, **{**fields, **settings})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="The fake OpenID Connect provider, as a process (tests only).")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    provider = FakeProvider(port=args.port)
    print(provider.url, flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin or exits
    except KeyboardInterrupt:
        pass
    finally:
        provider.close()


if __name__ == "__main__":
    main()
