"""`manage.py check --deploy` refuses a deployment whose sign-in or header protections are off
(tests/test_settings.py runs the real check on production settings and expects it clean)."""

import copy

import pytest

from accounts.security import security_configuration


def ids():
    return [e.id for e in security_configuration(None)]


def test_the_settings_as_shipped_pass():
    assert ids() == []


def test_it_runs_with_check_deploy_only():
    from django.core.checks import registry

    assert security_configuration in registry.registry.get_checks(include_deployment_checks=True)
    assert security_configuration not in registry.registry.get_checks(include_deployment_checks=False)


@pytest.mark.parametrize("directive", ["object-src", "base-uri", "frame-ancestors", "script-src", "default-src"])
def test_a_missing_csp_directive_is_an_error(settings, directive):
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    del policy["DIRECTIVES"][directive]
    settings.CONTENT_SECURITY_POLICY = policy
    assert ids() == ["accounts.E001"]


def test_unsafe_inline_is_an_error(settings):
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["style-src"] = ["'self'", "'unsafe-inline'"]
    settings.CONTENT_SECURITY_POLICY = policy
    assert ids() == ["accounts.E002"]


@pytest.mark.parametrize(
    "middleware",
    ["csp.middleware.CSPMiddleware", "axes.middleware.AxesMiddleware", "accounts.two_factor.TwoFactorMiddleware"],
)
def test_a_missing_middleware_is_an_error(settings, middleware):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != middleware]
    assert ids() == ["accounts.E003"]


@pytest.mark.parametrize("parameters", [["username"], ["ip_address"], [["username", "ip_address", "user_agent"]]])
def test_lockouts_must_be_by_account_and_address(settings, parameters):
    settings.AXES_LOCKOUT_PARAMETERS = parameters
    assert ids() == ["accounts.E004"]


def test_lockouts_must_end(settings):
    settings.AXES_COOLOFF_TIME = None
    assert ids() == ["accounts.E004"]


def test_sign_out_everywhere_needs_sessions_in_the_database(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    assert ids() == ["accounts.E005"]
