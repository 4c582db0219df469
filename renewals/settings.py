"""Settings read from the environment (12-factor), with working development defaults.

See docs/configuration.md for every variable.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
DATA_DIR = Path(os.environ.get("RENEWALS_DATA_DIR", PROJECT_DIR / "data"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", True)
# The "django-insecure-" prefix makes `check --deploy` flag a production run without SECRET_KEY.
SECRET_KEY = os.environ.get(
    "SECRET_KEY", "django-insecure-dev-only-key-change-me-in-production-0123456789abcdef"
)
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
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
    "renewals.portal",
    "renewals.api",
    "renewals.operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
]

ROOT_URLCONF = "renewals.urls"
WSGI_APPLICATION = "renewals.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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
STATIC_ROOT = PROJECT_DIR / "staticfiles"

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
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"  # the portal's own page, translated

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

# Payments.
PAYMENT_GATEWAY = os.environ.get("PAYMENT_GATEWAY", "sandbox")
SANDBOX_WEBHOOK_SECRET = os.environ.get("SANDBOX_WEBHOOK_SECRET", "whsec_sandbox_development")
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

# The seller, printed on invoices and used for the EU reverse-charge rule (R6).
SELLER = {
    "name": os.environ.get("SELLER_NAME", "Renewals Demo Vendor SAS"),
    "address": os.environ.get("SELLER_ADDRESS", "1 rue de la Paix, 75002 Paris, France"),
    "country": os.environ.get("SELLER_COUNTRY", "FR"),
    "vat_id": os.environ.get("SELLER_VAT_ID", "FR40123456824"),
    "registration_number": os.environ.get("SELLER_REGISTRATION_NUMBER", "T1234567890123"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"renewals": {"level": os.environ.get("LOG_LEVEL", "INFO")}},
}
