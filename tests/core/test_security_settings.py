"""Production settings pass Django's deployment checks; every portal page carries a CSP."""

import os
import re
import secrets
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.test import Client

from renewals.core.middleware import CSP
from renewals.portal.urls import urlpatterns as portal_urlpatterns
from tests.factories import MembershipFactory, priced_subscription

PROJECT_DIR = Path(__file__).resolve().parents[2]


def deploy_check(tmp_path, **env) -> subprocess.CompletedProcess:
    """Run `renewals check --deploy` in a fresh process with only the given settings."""
    base = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "RENEWALS_DATA_DIR": str(tmp_path / "data"),
        "DEBUG": "False",
        "ALLOWED_HOSTS": "renewals.example.com",
    }
    base.update(env)
    command = [sys.executable, "-m", "renewals.cli", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(  # noqa: S603 — our own interpreter and module, fixed arguments
        command, cwd=PROJECT_DIR, env=base, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deployment_checks_without_warnings(tmp_path):
    result = deploy_check(
        tmp_path,
        SECRET_KEY=secrets.token_urlsafe(50),
        PAYMENT_GATEWAY="stripe",  # the sandbox is refused in production (#20)
        STRIPE_API_KEY="sk_test_" + secrets.token_hex(12),
        STRIPE_WEBHOOK_SECRET="whsec_" + secrets.token_hex(12),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_a_forgotten_secret_key_and_debug_left_on_are_reported(tmp_path):
    result = deploy_check(tmp_path, DEBUG="True")  # no SECRET_KEY: the development default
    assert result.returncode == 1
    assert "security.W009" in result.stderr  # SECRET_KEY
    assert "security.W018" in result.stderr  # DEBUG


def portal_paths(sub_id: str) -> list[str]:
    """Every portal URL, with path arguments filled in (a real subscription id where one fits)."""
    paths = []
    for pattern in portal_urlpatterns:
        route = str(pattern.pattern)
        route = re.sub(r"<int:\w+>", "1", route)
        route = re.sub(r"<uidb64>", "MQ", route)
        route = re.sub(r"<(str:)?sub_id>", sub_id, route)
        route = re.sub(r"<(?:\w+:)?\w+>", "UNKNOWN-1", route)
        paths.append("/" + route)
    return paths


@pytest.fixture
def signed_in(db):
    sub = priced_subscription(renewal_date=date(2027, 3, 31))
    MembershipFactory(user=sub.purchaser, customer=sub.customer)
    client = Client(raise_request_exception=False)
    client.force_login(sub.purchaser)
    return client, sub


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "signed-in"])
def test_every_portal_response_carries_a_content_security_policy(signed_in, who, frozen_today):
    frozen_today(date(2027, 3, 1))
    client, sub = signed_in
    if who == "anonymous":
        client = Client(raise_request_exception=False)
    responses = {}
    for path in [*portal_paths(sub.pk), "/no-such-page/", "/healthz"]:
        for method in (client.get, client.post):
            response = method(path)
            responses[(method.__name__, path)] = (
                response.status_code,
                response.headers.get("Content-Security-Policy"),
            )
    assert {k: v for k, v in responses.items() if v[1] != CSP} == {}
    assert {k: v for k, v in responses.items() if v[0] >= 500} == {}


def test_the_policy_allows_no_inline_script_nor_framing():
    directives = dict(part.strip().split(" ", 1) for part in CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["default-src"] == "'self'"


@pytest.mark.django_db
def test_with_stripe_the_policy_opens_only_the_checkout_page_as_a_form_target(client, settings):
    # #12: Stripe Checkout is reached by a form redirect; no Stripe script, frame or connection.
    settings.PAYMENT_GATEWAY = "stripe"
    policy = client.get("/healthz").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["form-action"] == "'self' https://checkout.stripe.com"
    others = {k: v for k, v in directives.items() if k != "form-action"}
    assert others == {k: v for k, v in dict(
        part.strip().split(" ", 1) for part in CSP.split(";")
    ).items() if k != "form-action"}  # fmt: skip
    assert "stripe" not in policy.replace("https://checkout.stripe.com", "")
    settings.PAYMENT_GATEWAY = "sandbox"
    assert client.get("/healthz").headers["Content-Security-Policy"] == CSP
