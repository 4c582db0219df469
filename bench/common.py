"""Helpers shared by the benchmarks: a throw-away PostgreSQL database, timing, COPY baselines.

A benchmark never touches the database named in DATABASE_URL: it takes that server and
credentials, creates its own database (dropped first if it exists), and points Django at it.
"""

import os
import sys
import time
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def bench_database(name: str) -> str:
    """Create an empty database `name` on DATABASE_URL's server and make Django use it."""
    import psycopg

    server = os.environ.get("DATABASE_URL", DEFAULT_SERVER)
    parts = urlsplit(server)
    if not parts.scheme.startswith("postgres"):
        sys.exit("benchmarks run on PostgreSQL: set DATABASE_URL=postgres://user@host:port/db")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(parts._replace(path=f"/{name}"))
    os.environ["DATABASE_URL"] = url
    return url


def setup_django(database: str) -> None:
    """Point Django at a fresh benchmark database, start it and apply the migrations."""
    bench_database(database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renewals.settings")
    os.environ.setdefault("AXES_ENABLED", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


@contextmanager
def timed(results: dict, label: str):
    """Measure the wall time of a block into `results[label]` (seconds)."""
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start


def truncate(*models) -> None:
    """Empty the tables of `models` (and what references them) between measured runs."""
    from django.db import connection

    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def copy_rows(model, columns: list[str], rows) -> int:
    """Insert rows with PostgreSQL COPY: the fastest way the database accepts them (baseline)."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def reset_sequences(*models) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


def report(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _v in rows)
    print(title)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
