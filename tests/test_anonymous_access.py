"""Every page needs a signed-in user, except the handful that exist to let you sign in."""

import re
from urllib.parse import urlparse

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "sign_in_link_request",
    "sign_in_link_sent",
    "sign_in_link",
    # single sign-on: the button and the provider's return (accounts.sso)
    "sso_start",
    "sso_callback",
    "healthz",
    # Django admin's own sign-in pages
    "admin:login",
    "admin:logout",
}
SAMPLE = {
    "int": "1",
    "ref": "OAK-AAAA-AAA7",
    "str": "x",
    "slug": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "path": "x",
}


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield (f"{namespace}{p.name}" if p.name else None), prefix + str(p.pattern)


def _sample_url(route: str) -> str:
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)
    route = route.replace("^", "").replace("$", "").replace("\\Z", "")
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    return "/" + route


ROUTES = sorted({(name or route, _sample_url(route)) for name, route in _walk(get_resolver().url_patterns)})


def test_the_walk_finds_the_routes_we_know():
    names = {name for name, _ in ROUTES}
    assert {"home", "login", "switch_school", "admin:index"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), [r for r in ROUTES if r[0] not in PUBLIC])
def test_anonymous_request_is_sent_to_sign_in(client, name, url):
    response = client.get(url)
    assert response.status_code == 302, f"{name} {url} answered {response.status_code}"
    assert urlparse(response["Location"]).path in {"/accounts/login/", "/admin/login/"}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["login", "password_reset", "healthz"])
def test_sign_in_pages_are_open(client, name):
    from django.urls import reverse

    assert client.get(reverse(name)).status_code == 200
