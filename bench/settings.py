"""Settings of the server a benchmark starts: the product's, plus the bench-only URLs.

    DJANGO_SETTINGS_MODULE=bench.settings RENEWALS_BENCH_USER_ID=<id> gunicorn renewals.wsgi

With DEBUG=0 the product refuses RENEWALS_BENCH_* variables unless the site is a staging one
(ALLOW_SANDBOX_IN_PRODUCTION=1), which is how bench/api_list.py runs it.
"""

import os

from renewals.settings import *  # noqa: F403 — the product's settings, unchanged

ROOT_URLCONF = "bench.urls"
BENCH_USER_ID = int(os.environ["RENEWALS_BENCH_USER_ID"])
