"""CSRF on every portal form, security headers, production cookies, password rules on reset,
and no secrets in the repository.

Existing tests this file does not repeat: the deployment checks and the CSP of every portal
response (tests/core/test_security_settings.py), sign-in lockout after repeated failures
(tests/portal/test_accounts.py::test_repeated_failures_lock_the_account), webhook signatures
(tests/payments/test_webhooks.py), API tokens (tests/api/test_tokens.py).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from renewals.accounts.models import User

from .test_authorization_matrix import PORTAL
from .world import PASSWORD, TODAY, build_world

PROJECT_DIR = Path(__file__).resolve().parents[2]

# Every portal view that accepts POST: the matrix's POST rows and the pages with a form.
POST_PATHS = {
    **{name: path for name, (method, path, _d, _e) in PORTAL.items() if method == "post"},
    "renew": PORTAL["renew"][1],
    "checkout": PORTAL["checkout"][1],
    "sandbox_3ds": PORTAL["sandbox_3ds"][1],
    "login": PORTAL["login"][1],
    "password_reset": PORTAL["password_reset"][1],
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POST_PATHS))
def test_a_portal_post_without_the_csrf_token_is_refused_and_changes_nothing(name, frozen_today):
    frozen_today(TODAY)
    world = build_world()
    client = Client(enforce_csrf_checks=True)
    if name != "login":
        client.force_login(world.users["purchaser"])
    before = _state()
    response = client.post(POST_PATHS[name](world), {"subscription_ids": [world.sub.pk]})
    assert response.status_code == 403
    assert _state() == before


def _state():
    from renewals.accounts.models import Card
    from renewals.api.models import ApiToken
    from renewals.checkout.models import CartLine, Order
    from renewals.subscriptions.models import Subscription

    return (
        sorted(Subscription.objects.values_list("pk", "auto_renew", "card_id", "renewal_date")),
        sorted(CartLine.objects.values_list("pk", flat=True)),
        Order.objects.count(),
        sorted(Card.objects.values_list("pk", "removed")),
        sorted(ApiToken.objects.values_list("pk", "revoked")),
    )


@pytest.mark.django_db
def test_every_post_form_on_every_portal_page_carries_the_csrf_token(frozen_today):
    frozen_today(TODAY)
    world = build_world()
    client = Client()
    client.force_login(world.users["purchaser"])
    forms = 0
    for name, (method, path, _d, expected) in PORTAL.items():
        if (
            method != "get"
            or expected["purchaser"] != 200
            or name in ("invoice_pdf", "export_subscriptions")
        ):
            continue
        html = client.get(path(world)).content.decode()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I):
            if re.search(r'method="post"', form, flags=re.I):
                forms += 1
                assert 'name="csrfmiddlewaretoken"' in form, f"{name}: {form[:200]}"
    assert forms >= 10


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/", "/accounts/login/", "/api/v1/subscriptions", "/admin/", "/healthz", "/nope/"]
)
def test_every_kind_of_response_carries_the_security_headers(path):
    response = Client().get(path)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_production_cookies_are_secure_httponly_and_https_is_enforced(tmp_path):
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.AXES_ENABLED]))"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "RENEWALS_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "renewals.settings",
        "DEBUG": "False",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "renewals.example.com",
    }
    result = subprocess.run(  # noqa: S603 — our own interpreter, fixed arguments
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[false, true, true, true, "Lax", true, true, true]'


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "This password is too short."),
        ("password123", "This password is too common."),
        ("1234567890123", "This password is entirely numeric."),
    ],
)
def test_a_weak_new_password_is_refused_on_reset_and_the_old_one_still_works(
    password, message, django_capture_on_commit_callbacks
):
    user = User.objects.create_user(email="reset@example.com", password=PASSWORD)
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        client.post("/accounts/password-reset/", {"email": user.email})
    from django.core import mail

    # The link is on PORTAL_BASE_URL, never on the request's Host header.
    link = re.search(r"https?://[^/]+(/accounts/password-reset/\S+/\S+/)", mail.outbox[0].body)[1]
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": password, "new_password2": password})
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


SECRET_PATTERNS = {
    "private key block": re.compile(
        rb"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY"
    ),
    "Stripe live secret key": re.compile(rb"\b(?:sk|rk)_live_[0-9A-Za-z]{10,}"),
    "AWS access key id": re.compile(rb"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret assignment": re.compile(rb"aws_secret_access_key\s*[=:]\s*['\"]?[0-9A-Za-z/+]{40}"),
    "Slack token": re.compile(rb"\bxox[abpors]-[0-9A-Za-z-]{10,}"),
    "GitHub token": re.compile(rb"\bgh[pousr]_[0-9A-Za-z]{36}\b"),
}


def test_no_secret_is_committed_to_the_repository():
    files = subprocess.run(  # noqa: S603, S607 — git, fixed arguments
        ["git", "ls-files", "-z"], cwd=PROJECT_DIR, capture_output=True, check=True
    ).stdout.split(b"\0")
    found = []
    for name in filter(None, files):
        path = PROJECT_DIR / name.decode()
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        content = path.read_bytes()
        found += [
            (name.decode(), kind) for kind, rx in SECRET_PATTERNS.items() if rx.search(content)
        ]
    assert found == []
    assert len(files) > 100  # the scan really read the repository


def test_the_secret_scan_recognises_what_it_looks_for():
    samples = {
        "private key block": b"-----BEGIN RSA " + b"PRIVATE KEY-----",
        "Stripe live secret key": b"sk_live_" + b"4eC39HqLyjWDarjtT1zdp7dc",
        "AWS access key id": b"AKIA" + b"IOSFODNN7EXAMPLE",
        "GitHub token": b"ghp_" + b"a" * 36,
    }
    for kind, sample in samples.items():
        assert SECRET_PATTERNS[kind].search(sample), kind
