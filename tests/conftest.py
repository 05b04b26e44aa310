from types import SimpleNamespace

import pytest

from tests.factories import PASSWORD, Role, SchoolFactory, TrustFactory, person
from tests.services import CHROMIUM, apply_service_markers


def pytest_configure(config):
    from django.conf import settings

    # Real hashing costs ~0.3 s a password; the cast alone has ten people. Tests of hashing itself
    # would override this.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items):
    apply_service_markers(items)


@pytest.fixture(autouse=True)
def _fresh_sign_in_buttons():
    """The sign-in page's per-process list of providers (accounts/sso_buttons.py) outlives a test's
    rolled-back rows; each test starts without it."""
    from accounts import sso_buttons, views

    sso_buttons.forget()
    # The sign-in page written once per process and set of buttons (accounts/views.LoginView): each
    # test starts without it, so it is written from the test's own database (tests/accounts/test_sign_in_kept.py
    # asks for it again and again).
    views._kept_sign_in_pages.clear()


@pytest.fixture
def cast(db):
    """The people every test can lean on (STYLE.md): Oakfield's staff and Olive at Brookside."""
    trust = TrustFactory(name="Riverside Learning Trust", slug="riverside")
    oakfield = SchoolFactory(trust=trust, name="Oakfield Primary", slug="oakfield", code="OAK", urn="100001")
    brookside = SchoolFactory(trust=trust, name="Brookside Academy", slug="brookside", code="BRK", urn="100002")
    return SimpleNamespace(
        trust=trust,
        oakfield=oakfield,
        brookside=brookside,
        password=PASSWORD,
        helen=person("Helen Hart", oakfield, Role.HEAD, Role.STAFF),
        dina=person("Dina Shah", oakfield, Role.DSL, Role.STAFF),
        sam=person("Sam Taylor", oakfield, Role.STAFF),
        gary=person("Gary Green", oakfield, Role.GOVERNOR),
        carol=person("Carol Chambers", oakfield, Role.CHAIR),
        tom=person("Tom Reed", oakfield, Role.TRUST_ADMIN),
        priya=person("Priya Desai", oakfield, Role.DPO),
        olive=person("Olive Owen", brookside, Role.HEAD, Role.STAFF),
        bethan=person("Bethan Jones", brookside, Role.STAFF),
    )


@pytest.fixture
def sweep(monkeypatch):
    """The beat's deadline sweep at `now`, with the clock the countdown tasks read set to the same
    moment (clocks due within the precision horizon of `now` are queued, as beat would)."""
    from incidents import clocks

    def run(*, now):
        monkeypatch.setattr(clocks, "timezone_now", lambda: now)
        return clocks.deadlines_sweep(now=now)

    return run


@pytest.fixture(scope="session")
def seeded_var_template(tmp_path_factory):
    """A migrated, seeded var folder (what `make seed` leaves), built once per worker: the tests of
    the embedded stack each take a copy (tests.embedded.copy_var) instead of migrating and seeding
    again in subprocesses (about a minute on a busy machine)."""
    from tests.embedded import prepared_var

    return prepared_var(tmp_path_factory.mktemp("seeded-var"))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def login(page, email, password=PASSWORD):
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
