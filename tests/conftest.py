"""Shared fixtures. Services (PostgreSQL, Redis, Chromium) are optional on a bare machine: tests
that need one skip with the reason, unless RENEWALS_REQUIRE_SERVICES=1 (CI) turns the skip into a
failure."""

import os
from datetime import date

import pytest
from django.db import connection

REQUIRE_SERVICES = os.environ.get("RENEWALS_REQUIRE_SERVICES") == "1"


def need(condition: bool, reason: str) -> None:
    """Skip (or, in CI, fail) when a service the test needs is absent."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _services_for_markers(request):
    if request.node.get_closest_marker("postgres"):
        need(
            connection.vendor == "postgresql",
            "needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/renewals",
        )


@pytest.fixture(scope="session", autouse=True)
def _urls_built_with_the_configured_gateway():
    """Import the URLconf before any test overrides PAYMENT_GATEWAY.

    `/webhooks/sandbox` is routed only when the process starts with the sandbox gateway (R10); a
    first import under a test's `settings.PAYMENT_GATEWAY = "stripe"` would drop it for every
    later test of that worker.
    """
    import renewals.urls  # noqa: F401


@pytest.fixture(autouse=True)
def _no_frozen_today(monkeypatch):
    """Tests choose their date explicitly; a RENEWALS_TODAY in the shell must not leak in."""
    monkeypatch.delenv("RENEWALS_TODAY", raising=False)


@pytest.fixture
def frozen_today(monkeypatch):
    """Freeze the business date: `frozen_today(date(2026, 5, 1))`."""

    def freeze(day: date) -> date:
        monkeypatch.setenv("RENEWALS_TODAY", day.isoformat())
        return day

    return freeze


class RateClock:
    """The rate limiter's clock in tests: frozen at `now`, moved only by `advance`."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def rate_clock(monkeypatch):
    """Freeze the rate limiter's clock 30 s into a minute (and an hour), for every test.

    A test of a limit then never straddles a window's edge however slow the machine is (issue
    #14: `test_rate_limit_counts_per_token` failed under parallel load when its three requests
    crossed a minute). A test that needs time to pass calls `rate_clock.advance(seconds)`.
    """
    from renewals.core import ratelimit

    clock = RateClock(1_800_000_030.0)
    monkeypatch.setattr(ratelimit, "clock", clock)
    return clock


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in English: a portal request in French leaves its language active.

    Django's LocaleMiddleware activates the request's language in the thread and never resets it;
    a later test of that worker reading a gettext message would get French.
    """
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Send right after commit so tests can read mail.outbox; production sends after the
    # response (tests/security/test_email_delivery.py::test_a_slow_smtp_server_does_not_slow_a_checkout).
    settings.EMAIL_DELIVERY = "inline"
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash test passwords cheaply: PBKDF2's million rounds cost ~0.4 s per created user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
