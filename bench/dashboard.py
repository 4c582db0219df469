"""Time the staff dashboard (R23) on 1,000,000 subscriptions against a raw-SQL baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.dashboard

Creates its own database (`renewals_bench_dashboard`, dropped at the end), writes with COPY
`--count` subscriptions in EUR, USD and JPY with renewal dates spread over ±400 days (some
auto-renew, partner-managed or trials), one imported term each, this month's renewals as
terms paid by orders, and this month's automatic charges (some failed). Then it measures, in
the same process, the median of `--runs`:
1. the raw SQL of the same figures (the floor: what the database alone costs);
2. GET /admin/dashboard/ as a staff user: every query, the charts and the template.
The ratio of the two is the dashboard's own overhead; the target is at most 1.5.
"""

import argparse
import random
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal

from bench.common import copy_rows, report, reset_sequences, setup_django

DATE = date(2026, 9, 20)
MONTH = DATE.replace(day=1)
DATABASE = "renewals_bench_dashboard"
CUSTOMERS = 1000
CURRENCIES = ("EUR", "USD", "JPY")

SUB_COLUMNS = [
    "id", "customer_id", "offering_id", "term", "seats", "currency", "start_date",
    "renewal_date", "lapse_date", "auto_renew", "purchase_method", "payment_method", "card_id",
    "purchaser_id", "partner_id", "trial", "updated",
]  # fmt: skip
TERM_COLUMNS = ["subscription_id", "start", "end", "order_number", "source", "created"]
CHARGE_COLUMNS = [
    "subscription_id", "term_start", "attempt", "business_date", "status", "failure_code",
    "notified", "created", "updated",
]  # fmt: skip


def shift_year(day: date, years: int) -> date:
    return day.replace(year=day.year + years, day=min(day.day, 28))


def subscriptions(count: int, seed: int = 11):
    rng = random.Random(seed)
    for n in range(count):
        renewal = DATE + timedelta(days=rng.randint(-400, 400))
        renewal = renewal.replace(day=min(renewal.day, 28))
        customer = 1 + n % CUSTOMERS
        partner = n % 17 == 0
        yield (
            f"S-{n:08d}", customer, 1, "annual", 1 + n % 10, CURRENCIES[n % 3],
            shift_year(renewal, -1), renewal, renewal, n % 3 == 0,
            "partner" if partner else "online", None if partner else "card", None, customer,
            1 if partner else None, n % 50 == 0, "2026-01-01T00:00:00Z",
        )  # fmt: skip


def terms(count: int, seed: int = 11):
    """One imported term per subscription, and a paid renewal for 1 in 20 of this month's."""
    rng = random.Random(seed)
    for n in range(count):
        renewal = DATE + timedelta(days=rng.randint(-400, 400))
        renewal = renewal.replace(day=min(renewal.day, 28))
        yield (f"S-{n:08d}", shift_year(renewal, -1), renewal, "", "import", "2026-01-01T00:00Z")
        start = MONTH + timedelta(days=n % (DATE - MONTH).days)
        if n % 20 == 0 and start != shift_year(renewal, -1):
            yield (
                f"S-{n:08d}",
                start,
                shift_year(start, 1),
                f"R-{n}",
                "order",
                "2026-09-01T00:00Z",
            )


def charges(count: int):
    for n in range(0, count, 97):
        day = MONTH + timedelta(days=n % (DATE - MONTH).days)
        failed = n % 5 == 0
        yield (
            f"S-{n:08d}", day, 0, day, "failed" if failed else "succeeded",
            "card_declined" if failed else "", False, "2026-09-01T00:00Z", "2026-09-01T00:00Z",
        )  # fmt: skip


RAW_SQL = [
    (
        """SELECT s.currency, s.offering_id, s.term,
                  CASE WHEN s.renewal_date <= %(d30)s THEN 30
                       WHEN s.renewal_date <= %(d60)s THEN 60 ELSE 90 END AS bucket,
                  count(*), sum(s.seats * p.renewal_price)
             FROM subscriptions_subscription s
             LEFT JOIN catalog_price p ON p.offering_id = s.offering_id AND p.term = s.term
                  AND p.currency = s.currency AND p.active
            WHERE s.renewal_date > %(today)s AND s.renewal_date <= %(d90)s AND NOT s.trial
            GROUP BY 1, 2, 3, 4"""
    ),
    (
        """SELECT CASE WHEN s.purchase_method = 'partner' THEN 'partner'
                       WHEN s.lapse_date < s.renewal_date THEN 'invoice_overdue'
                       WHEN EXISTS (SELECT 1 FROM lifecycle_chargeattempt c
                                     WHERE c.subscription_id = s.id
                                       AND c.term_start = s.renewal_date
                                       AND c.status = 'failed') THEN 'declined'
                       ELSE 'no_action' END, count(*)
             FROM subscriptions_subscription s
            WHERE s.lapse_date >= %(month)s AND s.lapse_date <= %(today)s AND NOT s.trial
            GROUP BY 1"""
    ),
    (
        """SELECT count(*) FROM subscriptions_term
            WHERE start >= %(month)s AND start <= %(today)s
              AND source IN ('order', 'auto_renewal')"""
    ),
    (
        """SELECT count(*), count(*) FILTER (WHERE auto_renew)
             FROM subscriptions_subscription WHERE lapse_date > %(today)s AND NOT trial"""
    ),
    (
        """SELECT count(*), count(*) FILTER (WHERE status = 'failed')
             FROM lifecycle_chargeattempt WHERE business_date >= %(month)s"""
    ),
    (
        """SELECT currency, count(*), sum(amount) FROM payments_payment
            WHERE status IN ('pending', 'partially_funded', 'confirming', 'requires_action')
            GROUP BY 1"""
    ),
    (
        """SELECT currency, count(*), sum(total) FROM billing_invoice
            WHERE status = 'overdue' OR (status = 'unpaid' AND overdue_since IS NOT NULL)
            GROUP BY 1"""
    ),
]


def build(count: int) -> None:
    from django.db import connection

    from renewals.accounts.models import Customer, Partner, User
    from renewals.catalog.models import Offering, Price
    from renewals.lifecycle.models import ChargeAttempt
    from renewals.subscriptions.models import Subscription, Term

    User.objects.bulk_create(
        User(pk=i, email=f"buyer{i}@bench.example") for i in range(1, CUSTOMERS + 1)
    )
    Customer.objects.bulk_create(
        Customer(pk=i, csn=f"{7100000000 + i}", name=f"Customer {i}", country="FR")
        for i in range(1, CUSTOMERS + 1)
    )
    Partner.objects.create(pk=1, code="P-1", name="Partner", email="p@bench.example")
    offering = Offering.objects.create(pk=1, code="ACAD", name="AutoCAD")
    for currency, price in (("EUR", "1890.00"), ("USD", "2090.00"), ("JPY", "280000")):
        Price.objects.create(
            offering=offering, term="annual", currency=currency,
            list_price=Decimal(price), renewal_price=Decimal(price),
        )  # fmt: skip
    reset_sequences(User, Customer, Partner, Offering)
    copy_rows(Subscription, SUB_COLUMNS, subscriptions(count))
    copy_rows(Term, TERM_COLUMNS, terms(count))
    copy_rows(ChargeAttempt, CHARGE_COLUMNS, charges(count))
    with connection.cursor() as cursor:
        for table in (
            "subscriptions_subscription",
            "subscriptions_term",
            "lifecycle_chargeattempt",
        ):
            cursor.execute(f"ANALYZE {table}")


def median_time(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import os

    os.environ["RENEWALS_TODAY"] = DATE.isoformat()
    setup_django(DATABASE)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from renewals.accounts.models import User

    settings.ALLOWED_HOSTS = ["*"]
    started = time.perf_counter()
    build(args.count)
    built = time.perf_counter() - started
    staff = User.objects.create(email="ops@bench.example", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    params = {
        "today": DATE, "month": MONTH, "d30": DATE + timedelta(days=30),
        "d60": DATE + timedelta(days=60), "d90": DATE + timedelta(days=90),
    }  # fmt: skip

    def raw():
        with connection.cursor() as cursor:
            for sql in RAW_SQL:
                cursor.execute(sql, params)
                cursor.fetchall()

    def page():
        response = client.get("/admin/dashboard/")
        assert response.status_code == 200, response.status_code

    raw()
    page()  # warm both (plans, caches, templates)
    baseline = median_time(raw, args.runs)
    dashboard = median_time(page, args.runs)
    report(
        f"Dashboard on {args.count:,} subscriptions (median of {args.runs})",
        [
            ("data written (COPY)", f"{built:.1f} s"),
            ("raw-SQL baseline", f"{baseline * 1000:.0f} ms"),
            ("GET /admin/dashboard/", f"{dashboard * 1000:.0f} ms"),
            ("ratio", f"{dashboard / baseline:.2f} (target <= 1.5)"),
        ],
    )
    connection.close()
    drop(DATABASE)


def drop(name: str) -> None:
    import os
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
