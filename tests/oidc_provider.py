"""A fake OpenID Connect provider for the single sign-on tests: its own RSA keys, a JWKS endpoint and
a token endpoint served over HTTP on 127.0.0.1 by a thread (no internet). The test plays the part
of the person at the provider: `authorize()` reads the authorization URL PolicyHub redirected to
and issues a code whose ID token carries the claims the test asks for (or a token the test made by
hand, for the attacks). The token endpoint checks the client secret, the redirect URI and the PKCE
verifier as a real provider does, and a code works once.
"""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
        self.published = [self.key]
        self.codes = {}
        self.browser_claims = {}  # who signs in when a browser visits /authorize
        self.token_requests = 0
        self.jwks_requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
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
                    # A browser at the provider: the person "signs in" as provider.browser_claims.
                    location = f"{provider.url}{self.path}"
                    code, state = provider.authorize(location, **provider.browser_claims)
                    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
                    target = query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": state})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self._json(404, {"error": "not_found"})

            def do_POST(self):
                if self.path != "/token":
                    return self._json(404, {"error": "not_found"})
                provider.token_requests += 1
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
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


def provider_for(idp: "FakeProvider", trust, **settings):
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
