"""Security headers on every response (test plan 14): every URL pattern, anonymous and as every
person in the cast, signed in with two-factor verified."""

import pytest
from django.test import Client

from tests.auth import verified_login
from tests.test_anonymous_access import ROUTES

pytestmark = pytest.mark.django_db

PEOPLE = ["helen", "dina", "sam", "gary", "carol", "tom", "priya", "olive", "bethan"]
CSP_MUST_HAVE = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def header_problems(response) -> list[str]:
    problems = []
    csp = response.get("Content-Security-Policy", "")
    problems += [f"CSP lacks {d}" for d in CSP_MUST_HAVE if d not in csp.split("; ") and d not in csp]
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        problems.append("CSP allows unsafe-inline/eval")
    expected = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    problems += [f"{k}: {response.get(k)!r}" for k, v in expected.items() if response.get(k) != v]
    if "no-store" not in response.get("Cache-Control", ""):
        problems.append(f"Cache-Control: {response.get('Cache-Control')!r}")
    permissions = response.get("Permissions-Policy", "")
    problems += [
        f"Permissions-Policy lacks {f}"
        for f in ("camera=()", "geolocation=()", "microphone=()")
        if f not in permissions
    ]
    return problems


def sweep(client) -> dict:
    found = {}
    for name, url in ROUTES:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            problems = header_problems(response)
            if problems:
                found[f"{method.upper()} {name} ({response.status_code})"] = problems
    return found


def test_the_checker_catches_a_bare_response():
    from django.http import HttpResponse

    assert len(header_problems(HttpResponse("x"))) >= 10


def test_every_route_anonymous():
    assert sweep(Client()) == {}


@pytest.mark.parametrize("who", PEOPLE)
def test_every_route_signed_in(cast, who):
    client = Client()
    verified_login(client, getattr(cast, who))
    assert client.get("/").status_code == 200
    assert sweep(client) == {}


def test_a_real_case_page_and_the_sign_in_lockout_carry_them_too(cast):
    from django.urls import reverse

    from tests.incidents.clock_helpers import received, report

    case = report(cast, at=received("2025-11-19 10:30"))
    client = Client()
    verified_login(client, cast.helen)
    response = client.get(reverse("incidents:detail", args=[case.reference]))
    assert response.status_code == 200
    assert header_problems(response) == []
    anonymous = Client()
    for _ in range(5):
        response = anonymous.post(reverse("login"), {"username": cast.sam.email, "password": "wrong guess again"})
    assert response.status_code == 429
    assert header_problems(response) == []


def test_static_files_stay_cacheable():
    response = Client().get("/static/css/policyhub.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
