"""#20, #14, #11: a production process (DEBUG=0) refuses development secrets, a missing
ALLOWED_HOSTS, the sandbox, a frozen date and the benchmarks' variables (the last three allowed
on a staging site), with a message naming each variable; `check --deploy` reports the same."""

import os
import secrets
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.test import Client

from renewals.core.deployment import (
    DEVELOPMENT_SANDBOX_WEBHOOK_SECRET,
    DEVELOPMENT_SECRET_KEY,
    Facts,
    problems,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
KEY = "k" + secrets.token_urlsafe(50)


def facts(**changes) -> Facts:
    values = {
        "secret_key": KEY,
        "allowed_hosts_set": True,
        "payment_gateway": "stripe",
        "sandbox_webhook_secret": DEVELOPMENT_SANDBOX_WEBHOOK_SECRET,
        "stripe_api_key": "sk_live_x",
        "stripe_webhook_secret": "whsec_x",
        "allow_sandbox": False,
        "environ": {},
    }
    values.update(changes)
    return Facts(**values)


def variables(found) -> list[str]:
    return [p.variable for p in found]


STAGING = {"payment_gateway": "sandbox", "sandbox_webhook_secret": "s3cret", "allow_sandbox": True}


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        ({}, []),
        ({"secret_key": DEVELOPMENT_SECRET_KEY}, ["SECRET_KEY"]),
        ({"secret_key": ""}, ["SECRET_KEY"]),
        ({"secret_key": "django-insecure-" + KEY}, ["SECRET_KEY"]),
        ({"allowed_hosts_set": False}, ["ALLOWED_HOSTS"]),
        ({"stripe_api_key": ""}, ["STRIPE_API_KEY"]),
        ({"stripe_webhook_secret": " "}, ["STRIPE_WEBHOOK_SECRET"]),
        # the sandbox secret verifies nothing while Stripe is the gateway
        ({"sandbox_webhook_secret": DEVELOPMENT_SANDBOX_WEBHOOK_SECRET}, []),
        ({"payment_gateway": "sandbox", "sandbox_webhook_secret": "s3cret"}, ["PAYMENT_GATEWAY"]),
        (
            {"payment_gateway": "sandbox"},
            ["SANDBOX_WEBHOOK_SECRET", "PAYMENT_GATEWAY"],
        ),
        ({"environ": {"RENEWALS_TODAY": "2026-05-01"}}, ["RENEWALS_TODAY"]),
        ({"environ": {"RENEWALS_TODAY": " "}}, []),
        (
            {"environ": {"RENEWALS_BENCH_VIEWS": "1", "RENEWALS_BENCH_USER_ID": "3"}},
            ["RENEWALS_BENCH_USER_ID", "RENEWALS_BENCH_VIEWS"],
        ),
        # a staging site: sandbox, frozen date and bench variables allowed; secrets never
        ({**STAGING, "environ": {"RENEWALS_TODAY": "2026-05-01", "RENEWALS_BENCH_X": "1"}}, []),
        ({**STAGING, "sandbox_webhook_secret": DEVELOPMENT_SANDBOX_WEBHOOK_SECRET},
         ["SANDBOX_WEBHOOK_SECRET"]),
        ({**STAGING, "secret_key": DEVELOPMENT_SECRET_KEY}, ["SECRET_KEY"]),
        ({**STAGING, "allowed_hosts_set": False}, ["ALLOWED_HOSTS"]),
    ],
)  # fmt: skip
def test_what_a_production_process_refuses(changes, refused):
    assert variables(problems(facts(**changes))) == refused


def renewals(tmp_path, *args, **env) -> subprocess.CompletedProcess:
    """Run the `renewals` command in a fresh process with only the given environment."""
    base = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "RENEWALS_DATA_DIR": str(tmp_path / "data"),
    }
    base.update(env)
    return subprocess.run(  # noqa: S603 — our own interpreter and module
        [sys.executable, "-m", "renewals.cli", *args],
        cwd=PROJECT_DIR, env=base, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_production_process_with_development_secrets_refuses_to_start_naming_them(tmp_path):
    result = renewals(tmp_path, "migrate", DEBUG="0", ALLOW_SANDBOX_IN_PRODUCTION="1")
    assert result.returncode == 2
    assert result.stderr.startswith("Renewals refuses to start with DEBUG=0")
    assert "  - SECRET_KEY is empty or the development default" in result.stderr
    assert "  - ALLOWED_HOSTS is not set" in result.stderr
    assert "  - SANDBOX_WEBHOOK_SECRET is the development default" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "renewals.sqlite3").exists()  # nothing was started


def test_check_deploy_reports_the_same_variables_as_errors(tmp_path):
    result = renewals(
        tmp_path, "check", "--deploy",
        DEBUG="0", SECRET_KEY=KEY, ALLOWED_HOSTS="renewals.example.com",
        SANDBOX_WEBHOOK_SECRET="s3cret", RENEWALS_TODAY="2026-05-01", RENEWALS_BENCH_VIEWS="1",
    )  # fmt: skip
    assert result.returncode == 1
    assert "(renewals.E004) PAYMENT_GATEWAY is the sandbox" in result.stderr
    assert "(renewals.E005) RENEWALS_TODAY freezes the business date" in result.stderr
    assert "(renewals.E006) RENEWALS_BENCH_VIEWS is a benchmark variable" in result.stderr
    assert "SECRET_KEY" not in result.stderr


def test_a_staging_site_starts_with_the_sandbox_and_a_frozen_date(tmp_path):
    env = {
        "DEBUG": "0", "SECRET_KEY": KEY, "ALLOWED_HOSTS": "staging.example.com",
        "SANDBOX_WEBHOOK_SECRET": "s3cret", "RENEWALS_TODAY": "2026-05-01",
        "ALLOW_SANDBOX_IN_PRODUCTION": "1",
    }  # fmt: skip
    check = renewals(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **env)
    assert check.returncode == 0, check.stderr
    started = renewals(tmp_path, "migrate", "--check", **env)
    assert started.returncode == 1  # it ran: unapplied migrations on the fresh database
    assert "refuses" not in started.stderr


def test_the_wsgi_application_refuses_to_load_in_production_with_unsafe_settings(tmp_path):
    env = {"PATH": os.environ["PATH"], "DEBUG": "0", "RENEWALS_DATA_DIR": str(tmp_path)}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import renewals.wsgi"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "ImproperlyConfigured: Renewals refuses to start with DEBUG=0" in result.stderr
    assert "SECRET_KEY is empty or the development default" in result.stderr


def test_development_and_the_test_suite_are_never_refused(tmp_path):
    result = renewals(tmp_path, "migrate", "--check")  # DEBUG defaults to on
    assert "refuses" not in result.stderr


@pytest.mark.django_db
def test_a_staging_site_says_so_on_every_portal_page(settings, frozen_today):
    frozen_today(date(2026, 5, 1))
    settings.PRODUCTION = True
    settings.ALLOW_SANDBOX_IN_PRODUCTION = True
    page = Client().get("/accounts/login/").content.decode()
    assert 'data-testid="staging-banner"' in page
    assert "Payments are simulated by the sandbox gateway: no real money moves." in page
    assert 'data-testid="frozen-banner"' in page  # the portal's own banner of RENEWALS_TODAY


@pytest.mark.django_db
@pytest.mark.parametrize(("production", "allow"), [(False, True), (True, False), (False, False)])
def test_no_banner_in_development_or_a_real_production(settings, production, allow):
    settings.PRODUCTION = production
    settings.ALLOW_SANDBOX_IN_PRODUCTION = allow
    assert b"staging-banner" not in Client().get("/accounts/login/").content


def test_the_wsgi_module_freezes_what_it_loaded_and_collects_the_young_less_often(tmp_path):
    # #15: the collector no longer rescans Django and the views in each request.
    env = {"PATH": os.environ["PATH"], "RENEWALS_DATA_DIR": str(tmp_path)}
    script = (
        "import gc, sys; assert gc.get_freeze_count() == 0; import renewals.wsgi; "
        "print(gc.get_freeze_count(), 'renewals.urls' in sys.modules, "
        "'renewals.api.endpoints.subscriptions' in sys.modules, gc.get_threshold()[0])"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    frozen, urls_loaded, views_loaded, young_threshold = result.stdout.split()
    assert int(frozen) > 50_000
    assert (urls_loaded, views_loaded) == ("True", "True")
    assert int(young_threshold) == 7_000
