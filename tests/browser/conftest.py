"""Playwright fixtures for real-Chromium tests (marker `browser`), shared by every browser test.

    def test_something(signed_in_page, live_server):
        page = signed_in_page(user)            # a Page on live_server, signed in as `user`
        page.goto("/billing/subscriptions/")   # paths are relative to live_server

Chromium is /usr/bin/chromium (`apt-get install -y chromium`); without it the tests skip with the
reason (or fail when RENEWALS_REQUIRE_SERVICES=1). Tests using these fixtures need
`pytest.mark.django_db(transaction=True)` so that the live server thread sees their data.
"""

import os

import pytest

from tests.conftest import need

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 15_000


@pytest.fixture
def chromium(monkeypatch):
    """Launch a headless Chromium for one test.

    Per test, not per session: Playwright's sync API keeps an event loop running in this thread
    while it is open, and tests that start their own `sync_playwright()` must find none.
    """
    need(os.path.exists(CHROMIUM), f"needs Chromium at {CHROMIUM}: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Django's ORM refuses to run in a thread with a running event loop unless told it is safe
    # (the tests themselves are synchronous).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium, live_server):
    """Open a fresh browser context (own cookies) whose relative URLs go to the live server."""
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def browser_page(browser_context):
    """Return a new page, signed out."""
    return browser_context.new_page()


@pytest.fixture
def signed_in_page(browser_context, browser_page, client, live_server):
    """Return a function that signs `user` in (session cookie, no form) and returns the page."""

    def sign_in(user):
        client.force_login(user)
        browser_context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        return browser_page

    return sign_in


@pytest.fixture
def signed_in(signed_in_page):
    """The same as `signed_in_page` (the name some tests use)."""
    return signed_in_page
