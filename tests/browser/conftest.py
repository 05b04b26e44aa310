import pytest

from accounts.models import Role
from tests.auth import login_verified
from tests.conftest import login


@pytest.fixture
def open_as(browser, live_server):
    """`open_as(user, viewport=None)`: a new browser context signed in as `user` (with the authenticator
    code for every role above plain staff); the contexts are closed after the test."""
    contexts = []

    def open_page(user, viewport=None):
        context = browser.new_context(base_url=live_server.url, viewport=viewport or {"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        if user.memberships.exclude(role=Role.STAFF).exists():
            login_verified(page, user)
        else:
            login(page, user.email)
        return page

    yield open_page
    for context in contexts:
        context.close()
