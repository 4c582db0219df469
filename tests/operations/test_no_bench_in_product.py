"""#20: the benchmark's unauthenticated bare view is not in the product: no environment variable
routes it; only the bench's own settings (bench/settings.py, bench/urls.py) do."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import get_resolver

from tests.factories import priced_subscription

PROJECT_DIR = Path(__file__).resolve().parents[2]


def all_routes(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            yield from all_routes(pattern, route)
        else:
            yield route, pattern.callback


def test_the_product_routes_no_bench_view_even_with_the_old_variables_set():
    code = """
import json, django
django.setup()
from django.urls import get_resolver
from tests.operations.test_no_bench_in_product import all_routes
print(json.dumps(sorted({getattr(c, "__module__", "") for _, c in all_routes(get_resolver())})))
"""
    env = {**os.environ, "RENEWALS_BENCH_VIEWS": "1", "RENEWALS_BENCH_USER_ID": "1"}
    env["DJANGO_SETTINGS_MODULE"] = "renewals.settings"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stdout)
    assert modules and not [m for m in modules if m.startswith("bench")]


@pytest.mark.django_db
def test_the_bench_path_is_the_apis_json_404_in_the_product():
    assert not [r for r, _ in all_routes(get_resolver()) if "_bench" in r]
    response = Client().get("/api/_bench/subscriptions")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_the_bench_settings_route_the_bare_view_for_the_benchmark():
    sub = priced_subscription()
    with override_settings(ROOT_URLCONF="bench.urls", BENCH_USER_ID=sub.purchaser_id):
        response = Client().get("/_bench/subscriptions?page_size=10")
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert response.json()["results"][0]["id"] == sub.pk
