"""Time the daily run on 1 and on 2 Celery worker processes sharing one PostgreSQL (R16).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.scale_out [--quick]

Creates its own private database with the daily run benchmark's data (bench/daily_fixture.py:
`--total` subscriptions, `--due-per-date` due on each date that matters, `--charges` card
auto-renewals), then for N = 1 and N = 2 empties what a run writes, starts N worker processes
(`renewals worker` with one process each, `--pool solo`; email delivery left out as in the
in-process benchmark), and times `run_daily(D)` dispatching its chunks as a Celery group on
Redis (`RENEWALS_BENCH_REDIS`, default redis://127.0.0.1:6379/13) until the run is finished.
The ratio printed is time(1 worker) / time(2 workers): 2.0 would be perfect scaling. It
only means something when the machine has a free core per worker.
"""

import argparse
import os
import subprocess
import sys
import time

from bench.common import checkpoint, copy_rows, report, setup_django, truncate, verdict

WORKER = (
    "import django; django.setup();"
    "from renewals.notifications import outbox;"
    "outbox.deliver_later = lambda ids: None;"  # delivery is not what is measured
    "from renewals.celery import app;"
    "app.worker_main(['worker', '--pool', 'solo', '--loglevel', 'WARNING',"
    " '--without-gossip', '--without-mingle', '--without-heartbeat', '-n', sys.argv[1]])"
)


def start_workers(n: int, env: dict) -> list[subprocess.Popen]:
    workers = [
        subprocess.Popen(  # noqa: S603 — our own interpreter
            [sys.executable, "-c", "import sys;" + WORKER, f"bench{i}-{os.getpid()}@%h"],
            env=env,
        )
        for i in range(n)
    ]
    time.sleep(8)  # let them connect before the group is sent
    return workers


def stop(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        w.terminate()
    for w in workers:
        try:
            w.wait(20)
        except subprocess.TimeoutExpired:
            w.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--due-per-date", type=int, default=3000)
    parser.add_argument("--charges", type=int, default=100)
    parser.add_argument("--chunk-size", type=int, default=250)
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 600 due a date")
    args = parser.parse_args()
    if args.quick:
        args.total, args.due_per_date, args.charges = 20_000, 600, 20
    broker = os.environ.get("RENEWALS_BENCH_REDIS", "redis://127.0.0.1:6379/13")
    os.environ["BROKER_URL"] = broker
    setup_django("renewals_bench_scale")
    from django.db import connection

    from bench import daily_fixture as data
    from renewals.celery import app
    from renewals.checkout.models import Order, OrderLine
    from renewals.core.models import AuditEvent
    from renewals.lifecycle import daily
    from renewals.lifecycle.models import ChargeAttempt, DailyRun, Notice
    from renewals.notifications import outbox
    from renewals.notifications.models import Email
    from renewals.payments.models import Payment, SandboxPayment
    from renewals.subscriptions.models import Subscription, Term

    outbox.deliver_later = lambda ids: None
    app.control.purge()
    data.people()
    copy_rows(
        Subscription, data.COLUMNS, data.generate(args.total, args.due_per_date, args.charges)
    )
    env = {**os.environ, "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    times, chunks = {}, {}
    for n in (1, 2):
        truncate(Term, Notice, ChargeAttempt, DailyRun, Email, Order, OrderLine, AuditEvent,
                 Payment, SandboxPayment)  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE subscriptions_subscription SET renewal_date = %s, lapse_date = %s"
                " WHERE auto_renew",
                [data.DATE, data.DATE],
            )
            cursor.execute("VACUUM ANALYZE")
        checkpoint()
        workers = start_workers(n, env)
        try:
            started = time.perf_counter()
            run = daily.run_daily(data.DATE, chunk_size=args.chunk_size)
            times[n] = time.perf_counter() - started
        finally:
            stop(workers)
        chunks[n] = run.chunks_total
        assert run.status == "finished", run.status
        assert Notice.objects.count() > 0
    report(
        f"Daily run on Celery workers, {args.total:,} subscriptions, "
        f"{args.due_per_date:,} due a date, chunks of {args.chunk_size}",
        [
            ("1 worker", f"{times[1]:.1f} s ({chunks[1]} chunks)"),
            ("2 workers", f"{times[2]:.1f} s ({chunks[2]} chunks)"),
            ("speed-up", f"{times[1] / times[2]:.2f}x (ideal 2.0)"),
            ("cores", str(os.cpu_count())),
        ],
    )
    # Reported as a verdict the other way round (lower is better, like every other line):
    # time(2 workers) / time(1 worker) ≤ 1 / 1.8.
    verdict(
        "daily-run-2-workers-vs-1",
        times[2] / times[1],
        round(1 / 1.8, 2),
        f"{times[2]:.1f} s vs {times[1]:.1f} s: speed-up {times[1] / times[2]:.2f}x",
    )


if __name__ == "__main__":
    main()
