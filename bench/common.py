"""Helpers shared by the benchmarks: a private throw-away database, timing, the verdict line.

A benchmark never touches the database named in DATABASE_URL: it takes that server and
credentials, creates its own database named `<base>_<suffix>` — the suffix from
RENEWALS_BENCH_SUFFIX, else the process id, so two runs on one server never collide — points
Django at it and drops it when the process ends (also on failure or Ctrl-C).

Every figure a benchmark judges is printed as one line, exactly

    bench: <name> ratio=<project / same-run baseline> target<=<target>

with the machine's load average beside it on the next line (`# load ...`), because on a shared
machine absolute times move with the load and only the same-run ratio is comparable.
"""

import atexit
import json
import os
import re
import signal
import sys
import time
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
_created: list[tuple[str, str]] = []  # (admin url, database name) to drop at exit


def suffix() -> str:
    """Return the private suffix of this run's database names (letters, digits, _ only)."""
    raw = os.environ.get("RENEWALS_BENCH_SUFFIX") or str(os.getpid())
    return re.sub(r"[^a-z0-9_]", "_", raw.lower())[:30]


def server_url() -> str:
    server = os.environ.get("RENEWALS_BENCH_SERVER") or os.environ.get(
        "DATABASE_URL", DEFAULT_SERVER
    )
    if not urlsplit(server).scheme.startswith("postgres"):
        sys.exit("benchmarks run on PostgreSQL: set DATABASE_URL=postgres://user@host:port/db")
    return server


def bench_database(base: str) -> str:
    """Create an empty private database `<base>_<suffix>` and make Django use it.

    Returns its URL. The database is dropped when the process exits.
    """
    import psycopg

    name = f"{base}_{suffix()}"
    parts = urlsplit(server_url())
    os.environ.setdefault("RENEWALS_BENCH_SERVER", urlunsplit(parts))
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    if not _created:
        atexit.register(drop_databases)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    _created.append((admin_url, name))
    url = urlunsplit(parts._replace(path=f"/{name}"))
    os.environ["DATABASE_URL"] = url
    return url


def drop_databases() -> None:
    """Drop the databases this process created (closing Django's connections first)."""
    import psycopg

    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: S110, BLE001 — Django may not be set up; nothing to close then
        pass
    while _created:
        admin_url, name = _created.pop()
        try:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error as exc:
            print(f"could not drop benchmark database {name}: {exc}", file=sys.stderr)


def checkpoint() -> None:
    """Flush PostgreSQL's dirty pages now, so no measured block pays for an earlier one's."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def raw_connection():
    """Return a plain psycopg connection to the benchmark's database (for the baselines)."""
    import psycopg

    return psycopg.connect(os.environ["DATABASE_URL"])


def load() -> str:
    """Return the 1, 5 and 15 minute load averages, as `uptime` shows them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def verdict(name: str, ratio: float, target: float, detail: str = "") -> None:
    """Print the judged line of one figure, exactly `bench: <name> ratio=<r> target<=<t>`."""
    print(f"bench: {name} ratio={ratio:.2f} target<={target:g}")
    print(f"# {name}: {detail + '; ' if detail else ''}load average {load()}", flush=True)


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
    """Insert rows with PostgreSQL COPY: the fastest way the database accepts them (baseline).

    Columns of `model` that `columns` leaves out get their field's default (so a field added
    to a model later does not break the baseline), `auto_now` ones the current time.
    """
    from django.db import connection
    from django.db.models import AutoField, BigAutoField
    from django.utils import timezone

    extra = [
        f
        for f in model._meta.concrete_fields
        if f.column not in columns
        and not isinstance(f, AutoField | BigAutoField)
        and not f.null
        and (f.has_default() or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
             or f.blank)
    ]  # fmt: skip
    now = timezone.now()
    fill = [
        now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in extra
    ]  # fmt: skip
    fill = [json.dumps(v) if isinstance(v, dict | list) else v for v in fill]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in [*columns, *(f.column for f in extra)])
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row((*row, *fill))
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
