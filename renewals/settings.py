"""Settings read from the environment (12-factor), with working development defaults.

See docs/configuration.md for every variable.
"""

import importlib.util
import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from renewals.core.client_ip import parse_networks
from renewals.core.deployment import DEVELOPMENT_SANDBOX_WEBHOOK_SECRET, DEVELOPMENT_SECRET_KEY

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
DATA_DIR = Path(os.environ.get("RENEWALS_DATA_DIR", PROJECT_DIR / "data"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", True)
# A production process: DEBUG off in the environment. Fixed at start-up (the test runner turns
# DEBUG off for its own reasons; this stays False there). With it, the process refuses to start
# with development secrets, the sandbox, a frozen date... (renewals/core/deployment.py).
PRODUCTION = not DEBUG
# A staging site: DEBUG off, but the sandbox gateway, RENEWALS_TODAY and the benchmarks'
# variables are allowed, and the portal says so in a banner.
ALLOW_SANDBOX_IN_PRODUCTION = env_bool("ALLOW_SANDBOX_IN_PRODUCTION", False)
# The "django-insecure-" prefix makes `check --deploy` flag a production run without SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS_FROM_ENVIRONMENT = bool(os.environ.get("ALLOWED_HOSTS", "").strip())
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "renewals.admin_app.AdminConfig",  # django.contrib.admin, discovered when first needed
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "renewals.core",
    "renewals.accounts",
    "renewals.catalog",
    "renewals.subscriptions",
    "renewals.checkout",
    "renewals.payments",
    "renewals.billing",
    "renewals.notifications",
    "renewals.lifecycle",
    "renewals.events",
    "renewals.dashboard",
    "renewals.portal",
    "renewals.api",
    "renewals.operations",
]
# django-ninja's own Swagger UI files (pinned with it): /api/v1/docs works offline. Its template
# and static directories are named here (TEMPLATES, STATICFILES_DIRS) instead of listing "ninja"
# as an app, which would import django-ninja and pydantic in every process — `renewals show`
# included — though only the API uses them (#15). Found without importing the package.
NINJA_DIR = Path(importlib.util.find_spec("ninja").origin).parent

MIDDLEWARE = [
    # First: every response, static files and redirects included, answers its X-Request-ID.
    "renewals.core.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from STATIC_ROOT (collected), before sessions and the rest: no query for them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "renewals.core.middleware.SecurityHeadersMiddleware",
    "renewals.core.middleware.RejectNulCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "renewals.core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "renewals.portal.middleware.ProductErrorPagesMiddleware",
]

ROOT_URLCONF = "renewals.urls"
WSGI_APPLICATION = "renewals.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "renewals.accounts.signin.EmailBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [NINJA_DIR / "templates"],  # ninja/swagger.html and what it includes
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "renewals.portal.context.portal",
            ],
        },
    },
]

DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'renewals.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process jobs and the web server read while one of them writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("ja", _("Japanese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [NINJA_DIR / "static"]  # ninja/swagger-ui-bundle.js, ... (see NINJA_DIR)
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", PROJECT_DIR / "staticfiles"))
# Production serves what `renewals collectstatic` put in STATIC_ROOT: gzip-compressed,
# hashed names (cached for a year); `renewals serve` refuses to start without them.
# Development and the tests serve the apps' files as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# Sessions and cookies: secure by default outside DEBUG (manage.py check --deploy stays clean).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 1_048_576

# Login throttling (django-axes): five failures lock the account+address pair for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# The sign-in form posts the email as "username" (Django's AuthenticationForm); axes would
# otherwise look for USERNAME_FIELD ("email"), find nothing and never lock the account.
AXES_USERNAME_FORM_FIELD = "username"
# One key per address whatever its case or spaces (renewals.accounts.signin, issue #14).
AXES_USERNAME_CALLABLE = "renewals.accounts.signin.throttle_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"  # the portal's own page, translated
# The client address of per-address limits (sign-in lockout, password reset): REMOTE_ADDR, or
# X-Forwarded-For read from the right only when the request came from one of these proxies
# (renewals/core/client_ip.py). Empty: the header is never believed. A bad entry stops start-up.
RENEWALS_TRUSTED_PROXIES = parse_networks(os.environ.get("RENEWALS_TRUSTED_PROXIES", ""))
AXES_CLIENT_IP_CALLABLE = "renewals.core.client_ip.client_ip"
# Password reset requests an hour, per address and per client address (shared by processes).
PASSWORD_RESET_PER_ADDRESS = int(os.environ.get("PASSWORD_RESET_PER_ADDRESS", "3"))
PASSWORD_RESET_PER_IP = int(os.environ.get("PASSWORD_RESET_PER_IP", "20"))

# Email: EMAIL_URL (smtp://host:port) or Django's EMAIL_HOST/EMAIL_PORT; console in `demo`.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
if os.environ.get("EMAIL_URL"):
    from urllib.parse import urlsplit

    _email = urlsplit(os.environ["EMAIL_URL"])
    if _email.scheme == "console":
        EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    else:
        EMAIL_HOST = _email.hostname or EMAIL_HOST
        EMAIL_PORT = _email.port or EMAIL_PORT
        EMAIL_HOST_USER = _email.username or ""
        EMAIL_HOST_PASSWORD = _email.password or ""
        EMAIL_USE_TLS = _email.scheme == "smtp+tls"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Renewals <renewals@localhost>")
# Outbox delivery retries: seconds to wait after the 1st, 2nd, ... failure.
EMAIL_RETRY_DELAYS = [60, 300, 900, 3600, 3 * 3600, 12 * 3600]
# A sender holds an email it is sending this long (longer than any SMTP conversation); past it,
# a sender that died is taken over and the email sent again with its Message-ID.
EMAIL_LEASE_SECONDS = int(os.environ.get("EMAIL_LEASE_SECONDS", "300"))
# Permanent refusals (5xx, every recipient refused) before an email is `failed`.
EMAIL_MAX_REFUSALS = int(os.environ.get("EMAIL_MAX_REFUSALS", "3"))
# An email not delivered this many hours after it was queued is `failed` (staff may retry).
EMAIL_MAX_AGE_HOURS = float(os.environ.get("EMAIL_MAX_AGE_HOURS", "72"))
# Without a broker: "background" sends after the response on a thread of the process, which
# also sweeps due retries every EMAIL_SWEEP_SECONDS; "inline" sends right after commit.
EMAIL_DELIVERY = os.environ.get("EMAIL_DELIVERY", "background")
EMAIL_SWEEP_SECONDS = float(os.environ.get("EMAIL_SWEEP_SECONDS", "60"))
# Outbound events (R22, docs/integration.md): back-off after each failed delivery (the last
# delay repeats: a delivery is retried until answered 2xx, never dropped), and when a failing
# endpoint is disabled (both conditions; staff are emailed).
EVENTS_RETRY_DELAYS = [10, 60, 300, 1800, 3600, 3 * 3600, 6 * 3600]
EVENTS_DISABLE_AFTER_FAILURES = int(os.environ.get("EVENTS_DISABLE_AFTER_FAILURES", "15"))
EVENTS_DISABLE_AFTER_SECONDS = int(os.environ.get("EVENTS_DISABLE_AFTER_SECONDS", str(3 * 86400)))
EVENTS_ALLOW_PRIVATE_URLS = os.environ.get("EVENTS_ALLOW_PRIVATE_URLS", "0") == "1"
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")

# Background jobs: with no BROKER_URL every job runs in-process, right after commit.
BROKER_URL = os.environ.get("BROKER_URL", "")
CELERY_BROKER_URL = BROKER_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE

# Cache (API rate limits): Redis when REDIS_URL or a redis BROKER_URL is set, else per process.
REDIS_URL = os.environ.get("REDIS_URL", "") or (
    BROKER_URL if BROKER_URL.startswith("redis") else ""
)
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# REST API: requests a minute per token (429 beyond), and the largest request body (413).
API_RATE_LIMIT = int(os.environ.get("API_RATE_LIMIT", "600"))
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", "1048576"))

# `renewals import`: the largest file read, in MB. Parsing and validating hold about three times
# the file in memory above the command's own ~90 MB (a 39 MB file peaked 108 MB above it,
# docs/performance.md), so a larger file is refused before it is read, with a message naming
# this variable.
IMPORT_MAX_MB = int(os.environ.get("IMPORT_MAX_MB", "64"))
IMPORT_MAX_BYTES = IMPORT_MAX_MB * 1024 * 1024

# Payments.
PAYMENT_GATEWAY = os.environ.get("PAYMENT_GATEWAY", "sandbox")
SANDBOX_WEBHOOK_SECRET = os.environ.get(
    "SANDBOX_WEBHOOK_SECRET", DEVELOPMENT_SANDBOX_WEBHOOK_SECRET
)
STRIPE_API_KEY = os.environ.get("STRIPE_API_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# Another base URL for Stripe's API (stripe-mock, a recording proxy); empty: Stripe's own.
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
KONBINI_DEADLINE_DAYS = int(os.environ.get("KONBINI_DEADLINE_DAYS", "3"))
BANK_TRANSFER_DEADLINE_DAYS = int(os.environ.get("BANK_TRANSFER_DEADLINE_DAYS", "7"))
INVOICE_NET_DAYS = int(os.environ.get("INVOICE_NET_DAYS", "30"))
AUTO_RENEW_RETRY_DAYS = [
    int(d) for d in os.environ.get("AUTO_RENEW_RETRY_DAYS", "1,3,7").split(",") if d.strip()
]
# R21: the most seats a renewal may be changed to, unless the offering sets its own maximum.
RENEWALS_MAX_SEATS = int(os.environ.get("RENEWALS_MAX_SEATS", "10000"))

# The seller, printed on invoices and used for the EU reverse-charge rule (R6).
SELLER = {
    "name": os.environ.get("SELLER_NAME", "Renewals Demo Vendor SAS"),
    "address": os.environ.get("SELLER_ADDRESS", "1 rue de la Paix, 75002 Paris, France"),
    "country": os.environ.get("SELLER_COUNTRY", "FR"),
    "vat_id": os.environ.get("SELLER_VAT_ID", "FR40123456824"),
    "registration_number": os.environ.get("SELLER_REGISTRATION_NUMBER", "T1234567890123"),
    # Printed on unpaid invoices: where to pay by bank transfer (R9, R20).
    "bank_account": os.environ.get(
        "SELLER_BANK_ACCOUNT",
        "IBAN FR76 3000 6000 0112 3456 7890 189, BIC AGRIFRPP (Renewals Demo Vendor SAS)",
    ),
}

# Logs (docs/deploy.md): one JSON object a line on standard error with DEBUG=0 (LOG_FORMAT=json),
# readable text otherwise; every line carries the request id (or the job's task id) and the
# order / subscription / payment / invoice it concerns (renewals/core/logs.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "renewals.core.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "renewals.core.logs.JsonFormatter"},
        "text": {
            "()": "renewals.core.logs.TextFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        "renewals": {"level": os.environ.get("LOG_LEVEL", "INFO")},
        "celery": {"level": os.environ.get("LOG_LEVEL", "INFO")},
    },
}
# The worker keeps these logs (Celery would otherwise replace the root logger's handlers).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# GET /metrics (Prometheus): also open to these addresses or networks, e.g. "10.0.0.0/8"
# (a scraper reaching the server's bind address directly); else a staff user's API token only.
METRICS_ALLOWED_IPS = [
    a.strip() for a in os.environ.get("METRICS_ALLOWED_IPS", "").split(",") if a.strip()
]

# Error reports (optional): SENTRY_DSN turns on sentry-sdk for the web server, the worker and
# the scheduler; no request bodies, cookies or user details are sent (renewals/core/reporting.py).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from renewals.core.reporting import init_sentry

    init_sentry(SENTRY_DSN, environment=os.environ.get("SENTRY_ENVIRONMENT", "production"))
