"""What a production process (DEBUG off) refuses to start with, and why.

`problems(...)` is pure: the facts in, one `Problem` per variable to fix out. Three places use it:
the `renewals` command and `renewals/wsgi.py` refuse to start a production process
(`refuse_unsafe_start`), and `renewals check --deploy` reports the same list as errors
(`renewals/core/checks.py`). Development (DEBUG on) and the test suite are never refused.

A staging site may run the sandbox gateway, a frozen business date and the benchmarks'
variables with `ALLOW_SANDBOX_IN_PRODUCTION=1` (the portal then shows a staging banner);
development secrets and a missing ALLOWED_HOSTS are refused even there.
"""

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# The development defaults of settings.py. A production process refuses both.
DEVELOPMENT_SECRET_KEY = "django-insecure-dev-only-key-change-me-in-production-0123456789abcdef"
DEVELOPMENT_SANDBOX_WEBHOOK_SECRET = "whsec_sandbox_development"

# Commands that never start the product and must work before it is configured (the check
# itself, building static files into an image, reading the help).
COMMANDS_WITHOUT_GUARD = frozenset(
    {"check", "collectstatic", "compilemessages", "help", "version", "--help", "-h", "--version"}
)


@dataclass(frozen=True)
class Problem:
    id: str  # the system check id: renewals.E00n
    variable: str
    message: str


@dataclass(frozen=True)
class Facts:
    secret_key: str
    allowed_hosts_set: bool  # ALLOWED_HOSTS came from the environment
    payment_gateway: str
    sandbox_webhook_secret: str
    stripe_api_key: str
    stripe_webhook_secret: str
    allow_sandbox: bool  # ALLOW_SANDBOX_IN_PRODUCTION=1: a staging site
    environ: Mapping[str, str]


def problems(facts: Facts) -> list[Problem]:
    """Every reason a production process must not start with these settings."""
    found = []
    key = facts.secret_key
    if not key or key == DEVELOPMENT_SECRET_KEY or key.startswith("django-insecure-"):
        found.append(Problem(
            "renewals.E001", "SECRET_KEY",
            "is empty or the development default; set a long random value, e.g. the output of "
            "`python3 -c \"import secrets; print(secrets.token_urlsafe(50))\"`.",
        ))  # fmt: skip
    if not facts.allowed_hosts_set:
        found.append(Problem(
            "renewals.E002", "ALLOWED_HOSTS",
            "is not set; set the host names the site answers to, e.g. renewals.example.com.",
        ))  # fmt: skip
    sandbox = facts.payment_gateway == "sandbox"
    if sandbox and facts.sandbox_webhook_secret in ("", DEVELOPMENT_SANDBOX_WEBHOOK_SECRET):
        found.append(Problem(
            "renewals.E003", "SANDBOX_WEBHOOK_SECRET",
            "is the development default while the sandbox gateway is on: anyone could sign a "
            "payment webhook; set a random value.",
        ))  # fmt: skip
    if facts.payment_gateway == "stripe":
        stripe = {"STRIPE_API_KEY": facts.stripe_api_key,
                  "STRIPE_WEBHOOK_SECRET": facts.stripe_webhook_secret}  # fmt: skip
        for name, value in stripe.items():
            if not value.strip():
                found.append(Problem(
                    "renewals.E007", name,
                    "is empty while PAYMENT_GATEWAY=stripe: no payment could be taken or "
                    "confirmed; set it from the Stripe dashboard.",
                ))  # fmt: skip
    if facts.allow_sandbox:
        return found
    if sandbox:
        found.append(Problem(
            "renewals.E004", "PAYMENT_GATEWAY",
            "is the sandbox (simulated money); set PAYMENT_GATEWAY=stripe, or "
            "ALLOW_SANDBOX_IN_PRODUCTION=1 for a staging site.",
        ))  # fmt: skip
    if facts.environ.get("RENEWALS_TODAY", "").strip():
        found.append(Problem(
            "renewals.E005", "RENEWALS_TODAY",
            "freezes the business date; unset it (or ALLOW_SANDBOX_IN_PRODUCTION=1 for a "
            "staging site).",
        ))  # fmt: skip
    for name in sorted(n for n in facts.environ if n.startswith("RENEWALS_BENCH")):
        found.append(Problem(
            "renewals.E006", name,
            "is a benchmark variable; unset it (or ALLOW_SANDBOX_IN_PRODUCTION=1 for a "
            "staging site).",
        ))  # fmt: skip
    return found


def static_problems(static_root, manifest_storage: bool) -> list[Problem]:
    """The web server's static files: collected into STATIC_ROOT, with their manifest."""
    if not manifest_storage:
        return []
    manifest = Path(static_root) / "staticfiles.json"
    try:
        paths = json.loads(manifest.read_text()).get("paths", {})
    except (OSError, ValueError):
        paths = {}
    if "portal/portal.css" in paths:
        return []
    return [Problem(
        "renewals.E008", "STATIC_ROOT",
        f"has no collected static files ({manifest} is missing or incomplete): the portal would "
        "have no styles. Run `renewals collectstatic --noinput` with the same environment "
        "(DEBUG=0) after each install or upgrade.",
    )]  # fmt: skip


def facts_from_settings(settings, environ: Mapping[str, str]) -> Facts:
    from django.core.exceptions import ImproperlyConfigured

    try:
        secret_key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses an empty one: say which variable, plainly
        secret_key = ""
    return Facts(
        secret_key=secret_key,
        allowed_hosts_set=settings.ALLOWED_HOSTS_FROM_ENVIRONMENT,
        payment_gateway=settings.PAYMENT_GATEWAY,
        sandbox_webhook_secret=settings.SANDBOX_WEBHOOK_SECRET,
        stripe_api_key=settings.STRIPE_API_KEY,
        stripe_webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
        allow_sandbox=settings.ALLOW_SANDBOX_IN_PRODUCTION,
        environ=environ,
    )


def refusal_message(found: list[Problem]) -> str:
    lines = ["Renewals refuses to start with DEBUG=0 (production) while:"]
    lines += [f"  - {p.variable} {p.message}" for p in found]
    lines.append("Fix these variables (docs/configuration.md, docs/deploy.md) and start again.")
    return "\n".join(lines)


def refuse_unsafe_start(command: str | None = None, *, serving: bool = False) -> None:
    """Refuse to start a production process with unsafe settings, with a clear message.

    `command` is the `renewals` subcommand (the process exits with status 2); None means a WSGI
    server is loading the application (ImproperlyConfigured, so the server stops booting).
    `serving`: a web server, which also needs the collected static files.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if command is not None and (not command or command in COMMANDS_WITHOUT_GUARD):
        return
    if not settings.PRODUCTION:
        return
    found = problems(facts_from_settings(settings, os.environ))
    if serving:
        found += static_problems(settings.STATIC_ROOT, manifest_storage(settings))
    if not found:
        return
    if command is None:
        raise ImproperlyConfigured(refusal_message(found))
    sys.stderr.write(refusal_message(found) + "\n")
    raise SystemExit(2)


def manifest_storage(settings) -> bool:
    return "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"]
