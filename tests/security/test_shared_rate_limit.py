"""The API rate limit holds across processes (issue #14).

The probe sent 880 requests a minute through 4 workers against a limit of 600: each process
counted in its own memory. Here four real processes, on one database (a fresh SQLite file, and a
fresh PostgreSQL database when one is reachable), send 60 requests each with one token against
a limit of 100: exactly 100 are answered, the rest are 429.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKERS, EACH, LIMIT = 4, 60, 100
PG = "postgres://postgres@127.0.0.1:5432"


def _run(env, *args, timeout=900):
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=timeout, check=True,
    )  # fmt: skip


def _environment(database_url: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "API_RATE_LIMIT": str(LIMIT)}
    for name in ("REDIS_URL", "BROKER_URL", "RENEWALS_TODAY"):
        env.pop(name, None)  # the database is the shared counter under test
    return env


def _postgres_database():
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        from tests.conftest import need

        need(False, "needs PostgreSQL on 127.0.0.1:5432 for the PostgreSQL leg")
    name = f"renewals_rate_{os.getpid()}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    return admin, name


def _four_workers_share_one_limit(database_url: str) -> None:
    env = _environment(database_url)
    _run(env, "-m", "renewals.cli", "migrate", "-v", "0")
    out = _run(
        env, "-c",
        "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'renewals.settings');"
        "django.setup();"
        "from renewals.accounts.models import User; from renewals.api.tokens import create_token;"
        "u = User.objects.create_user('rate@example.com', 'x');"
        "print(create_token(user=u, name='probe')[1])",
    )  # fmt: skip
    token = out.stdout.strip().splitlines()[-1]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.security.rate_worker", token, str(EACH)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(WORKERS)
    ]
    results = []
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=900)
        assert worker.returncode == 0, stderr
        results.append(tuple(int(n) for n in stdout.split()))
    ok = sum(r[0] for r in results)
    refused = sum(r[1] for r in results)
    assert (ok, refused) == (LIMIT, WORKERS * EACH - LIMIT), results


def test_four_processes_on_sqlite_share_one_limit(tmp_path):
    _four_workers_share_one_limit(f"sqlite:///{tmp_path / 'rate.sqlite3'}")


@pytest.mark.postgres
def test_four_processes_on_postgresql_share_one_limit():
    admin, name = _postgres_database()
    try:
        _four_workers_share_one_limit(f"{PG}/{name}")
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
