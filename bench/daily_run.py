"""Time the daily run (R16) against its raw essential writes, and 1,000,000 vs 100,000 rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.daily_run

Creates its own private database (bench/common.py), writes the subscriptions with COPY — a
fixed number due on each date that matters for the run date (D−90, D−45, D−30, D−4 ahead;
lapse dates 0, 15, 30 and 45 days back; `--charges` card auto-renewals charged on D), the rest
spread over ±400 days, 1,000 purchasers — and measures, on the smaller table (`--small`):
1. the baseline: the same essential writes by hand with raw psycopg (`baseline()`: the
   stage-change events of the window (R22) per batch of 1,000; the due rows selected, per
   chunk one load, one read of sent notices, one multi-row INSERT of digest emails and one of
   notices, one COMMIT; per charge its claim, numbered order, payment, gateway row and ledger
   row, settlement with term, dates, tax invoice, events, audit rows and receipt in four
   commits), then emptied;
2. the daily run itself, in-process (no broker; delivery, the workers' job, left out);
3. the daily run again for the same date (idempotent: nothing due any more).
Then it rewrites the table with `--total` subscriptions and the same due rows and times the run
again: R16 wants the two run times nearly equal. `--quick`: 200,000 vs 20,000, 600 a date.

The data is built by bench/daily_fixture.py, the baseline written by bench/daily_baseline.py
(its charges by bench/daily_charge_by_hand.py); this module measures and prints.
"""

import argparse
from datetime import timedelta

from bench.common import checkpoint, copy_rows, report, setup_django, timed, truncate, verdict
from bench.daily_baseline import baseline
from bench.daily_fixture import (
    AHEAD,
    BACK,
    COLUMNS,
    DATE,
    MONTHLY_BACK,
    RAW_DUE_SQL,
    generate,
    people,
)


def measure(total: int, due_per_date: int, charges: int, *, with_baseline: bool) -> dict:
    from django.db import connection

    from renewals.checkout.models import Order, OrderLine
    from renewals.core.models import AuditEvent
    from renewals.events.models import Event, EventSubscription
    from renewals.lifecycle import daily
    from renewals.lifecycle.models import ChargeAttempt, DailyRun, Notice
    from renewals.notifications.models import Email
    from renewals.payments.models import Payment, SandboxPayment
    from renewals.subscriptions.models import Subscription, Term

    written = (Term, Notice, ChargeAttempt, DailyRun, Email, Order, OrderLine, AuditEvent,
               Payment, SandboxPayment, EventSubscription, Event)  # fmt: skip
    truncate(Subscription, *written)
    results: dict = {}
    with timed(results, "copy"):
        copy_rows(Subscription, COLUMNS, generate(total, due_per_date, charges))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE subscriptions_subscription")
    params = {
        "ahead": [DATE + timedelta(days=n) for n in AHEAD],
        "back": [DATE - timedelta(days=n) for n in (*BACK, MONTHLY_BACK)],
        "charge_from": DATE - timedelta(days=45),
        "today": DATE,
    }
    with timed(results, "raw_sql"), connection.cursor() as cursor:
        cursor.execute(RAW_DUE_SQL, params)
        results["due_rows"] = len(cursor.fetchall())
    if with_baseline:
        checkpoint()
        connection.close()
        with timed(results, "baseline"):
            results["baseline_counts"] = baseline(params)
        truncate(*written)
        with connection.cursor() as cursor:  # the charged subscriptions are due again
            cursor.execute(
                "UPDATE subscriptions_subscription SET renewal_date = %s, lapse_date = %s"
                " WHERE auto_renew",
                [DATE, DATE],
            )
            cursor.execute("VACUUM ANALYZE")
    checkpoint()
    with timed(results, "run"):
        run = daily.run_daily(DATE)
    results["counts"] = run.counts
    results["chunks"] = run.chunks_total
    results["emails"] = Email.objects.count()
    with timed(results, "rerun"):
        rerun = daily.run_daily(DATE)
    results["rerun_notices"] = sum(rerun.counts.get("notices", {}).values())
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--due-per-date", type=int, default=3000)
    parser.add_argument("--charges", type=int, default=100)
    parser.add_argument(
        "--quick", action="store_true", help="200,000 vs 20,000, 600 due a date, 20 charges"
    )
    args = parser.parse_args()
    if args.quick:
        args.total, args.small, args.due_per_date, args.charges = 200_000, 20_000, 600, 20

    setup_django("renewals_bench_daily")
    from django.conf import settings

    from renewals.notifications import outbox

    settings.BROKER_URL = ""  # in-process: the run's own cost, without a broker hop
    outbox.deliver_later = lambda ids: None  # delivery is the workers' job
    people()
    # Warm-up, not reported: the first run in a process loads templates, catalogues, modules.
    measure(300, 20, 2, with_baseline=True)
    outcome = {}
    for total in (args.small, args.total):
        outcome[total] = measure(
            total, args.due_per_date, args.charges, with_baseline=total == args.small
        )
    print_outcome(outcome, small_rows=args.small, total_rows=args.total)


def print_outcome(outcome: dict, *, small_rows: int, total_rows: int) -> None:
    """Print the report of both sizes and the two verdict lines (bench/all.py reads them)."""
    rows = []
    for total, r in outcome.items():
        rows += [
            (f"{total:>9,} subscriptions: COPY", f"{r['copy']:.1f} s"),
            (
                f"{total:>9,} due rows (raw SQL)",
                f"{r['due_rows']:,} in {r['raw_sql'] * 1000:.0f} ms",
            ),
            (f"{total:>9,} daily run", f"{r['run']:.1f} s ({r['chunks']} chunks)"),
            (f"{total:>9,} notices sent", f"{sum(r['counts'].get('notices', {}).values()):,}"),
            (f"{total:>9,} emails queued", f"{r['emails']:,}"),
            (f"{total:>9,} charges", f"{r['counts'].get('charges', {})}"),
            (f"{total:>9,} stage changes announced", f"{r['counts'].get('stage_changes', 0):,}"),
            (f"{total:>9,} re-run", f"{r['rerun'] * 1000:.0f} ms, {r['rerun_notices']} notices"),
        ]
        if "baseline" in r:
            b = r["baseline_counts"]
            rows.append((
                f"{total:>9,} raw essential writes",
                f"{r['baseline']:.1f} s ({b['notices']:,} notices, {b['emails']:,} emails,"
                f" {b['charges']} charges, {b['stage_events']:,} stage events)",
            ))  # fmt: skip
    big, small = outcome[total_rows]["run"], outcome[small_rows]["run"]
    rows.append(("run time ratio big/small", f"{big / small:.2f}"))
    report("Daily run (R16): cost follows the due work, not the total", rows)
    r = outcome[small_rows]
    verdict(
        f"daily-run-{small_rows // 1000}k-vs-raw-writes",
        r["run"] / r["baseline"],
        3,
        f"{r['run']:.1f} s vs {r['baseline']:.1f} s, {r['due_rows']:,} due rows",
    )
    verdict(
        f"daily-run-{total_rows // 1000}k-vs-{small_rows // 1000}k",
        big / small,
        1.2,
        f"{big:.1f} s vs {small:.1f} s, same due rows",
    )


if __name__ == "__main__":
    main()
