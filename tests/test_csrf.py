"""CSRF on every POST (test plan 5): for every URL pattern, a POST without a token from a signed-in,
verified head is refused with 403 by the CSRF check and changes nothing; the same POST with a token
gets past the check. And no view in the project is exempt."""

import logging
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from tests.auth import verified_login
from tests.test_anonymous_access import ROUTES

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
# Rows a refused request may still write: the session's new expiry (SessionTouchMiddleware),
# the audit trail's record of the refusal, and sign-in bookkeeping.
NOT_STATE = {"sessions.session", "accounts.auditevent", "accounts.auditseal"}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def snapshot() -> dict:
    return {
        model._meta.label_lower: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.label_lower not in NOT_STATE and model._meta.app_label != "axes" and model._meta.managed
    }


def csrf_refusals(caplog) -> list:
    return [r for r in caplog.records if r.name == "django.security.csrf"]


@pytest.fixture
def head(cast):
    from tests.incidents.clock_helpers import received, report

    report(cast, at=received("2025-11-19 10:30"))  # so /incidents/1/... names a real case
    client = Client(enforce_csrf_checks=True)
    verified_login(client, cast.helen)
    return client


@pytest.mark.parametrize(("name", "url"), ROUTES)
def test_post_without_a_token_is_refused_and_changes_nothing(head, caplog, name, url):
    before = snapshot()
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        response = head.post(url, {"title": "x", "note": "x", "text": "x"})
    assert response.status_code == 403, f"{name} answered {response.status_code}"
    assert csrf_refusals(caplog), f"{name}: the 403 did not come from the CSRF check"
    assert snapshot() == before
    assert head.get("/").status_code == 200  # still signed in: nothing was undone either


@pytest.mark.parametrize(("name", "url"), ROUTES)
def test_post_with_a_token_gets_past_the_csrf_check(head, caplog, name, url):
    token = _get_new_csrf_string()
    head.cookies["csrftoken"] = token
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        response = head.post(url, {"csrfmiddlewaretoken": token})
    assert not csrf_refusals(caplog), f"{name} refused a valid token"
    assert response.status_code != 403 or b"CSRF" not in response.content


def test_anonymous_sign_in_without_a_token_is_refused(cast, caplog):
    client = Client(enforce_csrf_checks=True)
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        response = client.post("/accounts/login/", {"username": cast.sam.email, "password": cast.password})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def _project_python_files():
    skip = {".venv", "var", "node_modules", ".git"}
    for path in ROOT.rglob("*.py"):
        if not skip & set(path.relative_to(ROOT).parts) and path != Path(__file__).resolve():
            yield path


def test_no_view_is_exempt_from_csrf():
    pattern = re.compile(r"csrf_exempt|CsrfExemptMixin|csrf_exempt\s*=\s*True")
    found = [str(p.relative_to(ROOT)) for p in _project_python_files() if pattern.search(p.read_text())]
    assert found == []
    assert sum(1 for _ in _project_python_files()) > 50  # the walk really looked at the project


def test_every_url_is_exempt_from_nothing_at_runtime():
    """Catches an exemption made some other way (a third-party view, a decorator under another name)."""
    from django.urls import get_resolver

    def walk(patterns):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns)
            else:
                yield p

    exempt = [str(p.pattern) for p in walk(get_resolver().url_patterns) if getattr(p.callback, "csrf_exempt", False)]
    assert exempt == []
