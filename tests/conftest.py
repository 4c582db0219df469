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


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash test passwords cheaply: PBKDF2's million rounds cost ~0.4 s per created user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
