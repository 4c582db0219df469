"""Time the daily run (R16) on 1,000,000 subscriptions, then on 100,000 with the same due work.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.daily_run

Creates its own database (`renewals_bench_daily`), writes the subscriptions with COPY — a
fixed number due on each date that matters for the run date (D−90, D−45, D−30, D−4 ahead;
lapse dates 0, 15, 30 and 45 days back; a few card auto-renewals charged on D), the rest spread
over ±400 days — and measures, in the same process:
1. a raw SQL query selecting the same due rows (the floor: what the database alone costs);
2. the daily run itself, in-process (selection, chunks, notices, digests, charges);
3. the daily run again for the same date (idempotent: nothing due any more).
Then it empties the tables and repeats with `--small` subscriptions in all and the same due
rows: R16 wants the two run times nearly equal. Email delivery is the workers' job and is
left out (the outbox rows are written and counted).
"""

import argparse
import random
from datetime import date, timedelta
from decimal import Decimal

from bench.common import copy_rows, report, reset_sequences, setup_django, timed, truncate

DATE = date(2026, 9, 1)
AHEAD = (90, 45, 30, 4)  # notices counted back from D
BACK = (0, 15, 45)  # stage notices of annual subscriptions, from the lapse date
MONTHLY_BACK = 30  # the cancellation of monthly subscriptions
PURCHASERS = 1000


def generate(total: int, due_per_date: int, charges: int, seed: int = 7):
    """Yield subscription rows: `due_per_date` on each date that matters, the rest not due."""
    rng = random.Random(seed)
    special = {DATE + timedelta(days=n) for n in AHEAD} | {
        DATE - timedelta(days=n) for n in (*BACK, MONTHLY_BACK)
    }
    ordinary = [
        DATE + timedelta(days=n)
        for n in range(-400, 401)
        if DATE + timedelta(days=n) not in special and not -46 <= n <= 0
    ]
    n = 0

    def row(renewal: date, term: str = "annual", auto: bool = False):
        nonlocal n
        n += 1
        months = 1 if term == "monthly" else 12
        index = renewal.year * 12 + renewal.month - 1 - months
        start = date(index // 12, index % 12 + 1, min(renewal.day, 28))
        renewal = renewal if renewal.day <= 28 else renewal.replace(day=28)
        purchaser = 1 + n % PURCHASERS
        return (
            f"B-{n:08d}",
            purchaser,  # customer id = purchaser id (one customer each)
            1,
            term,
            1 + n % 20,
            "EUR",
            start,
            renewal,
            renewal,
            auto,
            "online",
            "card",
            purchaser,  # card id = purchaser id
            purchaser,
            None,
            False,
            "2026-01-01T00:00:00Z",
        )

    for days in AHEAD:
        for _ in range(due_per_date):
            yield row(DATE + timedelta(days=days))
    for days in BACK:
        for _ in range(due_per_date):
            yield row(DATE - timedelta(days=days))
    for _ in range(due_per_date):
        yield row(DATE - timedelta(days=MONTHLY_BACK), term="monthly")
    for _ in range(charges):
        yield row(DATE, auto=True)
    for _ in range(total - n):
        yield row(rng.choice(ordinary))


COLUMNS = [
    "id",
    "customer_id",
    "offering_id",
    "term",
    "seats",
    "currency",
    "start_date",
    "renewal_date",
    "lapse_date",
    "auto_renew",
    "purchase_method",
    "payment_method",
    "card_id",
    "purchaser_id",
    "partner_id",
    "trial",
    "updated",
]

RAW_DUE_SQL = """
SELECT purchaser_id, id FROM subscriptions_subscription
WHERE renewal_date = ANY(%(ahead)s) OR lapse_date = ANY(%(back)s)
   OR (auto_renew AND NOT trial AND purchase_method IN ('online', 'invoice')
       AND renewal_date BETWEEN %(charge_from)s AND %(today)s)
ORDER BY purchaser_id, id
"""


def people():
    from renewals.accounts.models import Card, Customer, User
    from renewals.catalog.models import Offering, Price, TaxRate

    User.objects.bulk_create(
        User(pk=i, email=f"buyer{i}@bench.example", language=("en", "fr", "ja")[i % 3])
        for i in range(1, PURCHASERS + 1)
    )
    Customer.objects.bulk_create(
        Customer(pk=i, csn=f"{7000000000 + i}", name=f"Customer {i}", country="FR")
        for i in range(1, PURCHASERS + 1)
    )
    Card.objects.bulk_create(
        Card(pk=i, user_id=i, token="pm_sandbox_4242424242424242", last4="4242")
        for i in range(1, PURCHASERS + 1)
    )
    offering = Offering.objects.create(pk=1, code="ACAD", name="AutoCAD")
    for term in ("monthly", "annual"):
        Price.objects.create(
            offering=offering,
            term=term,
            currency="EUR",
            list_price=Decimal("2100.00"),
            renewal_price=Decimal("1890.00"),
        )
    TaxRate.objects.create(country="FR", rate=Decimal("0.20"))
    reset_sequences(User, Customer, Card, Offering)


def measure(total: int, due_per_date: int, charges: int) -> dict:
    from django.db import connection

    from renewals.checkout.models import Order, OrderLine
    from renewals.core.models import AuditEvent
    from renewals.lifecycle import daily
    from renewals.lifecycle.models import ChargeAttempt, DailyRun, Notice
    from renewals.notifications.models import Email
    from renewals.subscriptions.models import Subscription, Term

    truncate(
        Subscription, Term, Notice, ChargeAttempt, DailyRun, Email, Order, OrderLine, AuditEvent
    )
    results: dict = {}
    with timed(results, "copy"):
        copy_rows(Subscription, COLUMNS, generate(total, due_per_date, charges))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE subscriptions_subscription")
    params = {
        "ahead": [DATE + timedelta(days=n) for n in AHEAD],
        "back": [DATE - timedelta(days=n) for n in (*BACK, MONTHLY_BACK)],
        "charge_from": DATE - timedelta(days=45),
        "today": DATE,
    }
    with timed(results, "raw_sql"), connection.cursor() as cursor:
        cursor.execute(RAW_DUE_SQL, params)
        results["due_rows"] = len(cursor.fetchall())
    with timed(results, "run"):
        run = daily.run_daily(DATE)
    results["counts"] = run.counts
    results["chunks"] = run.chunks_total
    with timed(results, "rerun"):
        rerun = daily.run_daily(DATE)
    results["rerun_notices"] = sum(rerun.counts.get("notices", {}).values())
    results["emails"] = Email.objects.count()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--due-per-date", type=int, default=3000)
    parser.add_argument("--charges", type=int, default=100)
    args = parser.parse_args()

    setup_django("renewals_bench_daily")
    from django.conf import settings

    from renewals.notifications import outbox

    settings.BROKER_URL = ""  # in-process: the run's own cost, without a broker hop
    outbox._enqueue_delivery = lambda email_id: None  # delivery is the workers' job
    people()
    outcome = {}
    for total in (args.total, args.small):
        outcome[total] = measure(total, args.due_per_date, args.charges)
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
            (f"{total:>9,} re-run", f"{r['rerun'] * 1000:.0f} ms, {r['rerun_notices']} notices"),
        ]
    big, small = outcome[args.total]["run"], outcome[args.small]["run"]
    rows.append(("run time ratio big/small", f"{big / small:.2f}"))
    report("Daily run (R16): cost follows the due work, not the total", rows)


if __name__ == "__main__":
    main()
