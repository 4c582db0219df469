"""Time the checkout of one cart group of 100 renewals by card against a raw-SQL baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python -m bench.bulk_renewal --runs 20

Creates its own database (`renewals_bench_bulk`). Each run gets a fresh customer with 100
annual subscriptions due in 30 days, then measures in the same process:
1. `add_to_cart` of the 100 (reported, not part of the ratio);
2. `place_order` of the group by card through the sandbox gateway: re-validation under locks,
   order and lines, payment, gateway call, fulfilment (terms, renewal dates, audit), cart
   cleanup, the order-confirmation row and its delivery after commit (locmem backend);
3. baseline (bench/bulk_by_hand.py): what step 2 essentially writes, by hand in one
   transaction, each the simplest set-based way — order number, order, 100 order lines (one
   INSERT), payment created then settled, the sandbox's payment row and the gateway ledger row,
   100 terms (one INSERT), 100 subscription updates (one UPDATE … FROM VALUES), the numbered tax
   invoice, the R22 outbox (100 `subscription.renewed` and one `order.paid` event with the API
   shapes, one INSERT; their 200 subjects, one INSERT), as many audit rows as step 2 wrote (one
   INSERT), the order paid, the cart emptied, the order-confirmation email row. The warm-up
   counts the rows each side adds per table and warns if they differ.
Reports the median and the ratio of 2 to 3, and the queries of one checkout.
"""

import argparse
import os
import statistics
import uuid
from datetime import date, timedelta
from decimal import Decimal

from bench.bulk_by_hand import checkout_by_hand, row_counts
from bench.common import report, setup_django, verdict

COUNT = 100
TODAY = date(2027, 3, 1)


def make_group(n: int, offering):
    """Create customer n with a purchaser and 100 renewable annual subscriptions; return both."""
    from renewals.accounts.models import Customer, User
    from renewals.subscriptions import periods
    from renewals.subscriptions.models import Subscription

    customer = Customer.objects.create(csn=f"{8000000000 + n}", name=f"Bench {n}", country="FR")
    user = User.objects.create_user(email=f"buyer{n}@bench.example", password=None)
    d = TODAY + timedelta(days=30)
    Subscription.objects.bulk_create(
        Subscription(
            id=f"B{n:04d}-{k:04d}",
            customer=customer,
            offering=offering,
            term="annual",
            seats=1 + k % 5,
            currency="EUR",
            start_date=periods.previous_renewal_date(d, "annual", d.day),
            renewal_date=d,
            lapse_date=d,
            purchase_method="online",
            payment_method="card",
            purchaser=user,
        )
        for k in range(COUNT)
    )
    return customer, user


def checkout(user, customer) -> None:
    from renewals.payments.checkout import place_order

    order, _created = place_order(
        user=user,
        group_key=f"{customer.csn}:EUR:online",
        payment={"method": "card", "card_number": "4242424242424242", "save": False},
        idempotency_key=uuid.uuid4().hex,
        expected_total=None,
        today=TODAY,
    )
    assert order.status == "paid", order.status


def baseline(user, customer, audit_rows: int) -> None:
    """Write what a paid checkout of 100 writes, with plain SQL in one transaction."""
    from django.db import connection, transaction

    from renewals.subscriptions.models import Subscription

    subs = list(
        Subscription.objects.filter(customer=customer)
        .order_by("pk")
        .values_list("pk", "seats", "renewal_date")
    )
    with transaction.atomic(), connection.cursor() as cur:
        checkout_by_hand(cur, user, customer, subs, TODAY, audit_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5 runs (bench.all --quick)")
    args = parser.parse_args()
    if args.quick:
        args.runs = 5
    # Deliver the confirmation in-process after commit, as without a broker, but not over SMTP.
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    setup_django("renewals_bench_bulk")

    import time

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from renewals.catalog.models import Offering, Price, TaxRate
    from renewals.checkout.cart_actions import add_to_cart
    from renewals.core.models import AuditEvent

    TaxRate.objects.create(country="FR", rate=Decimal("0.20"))
    offering = Offering.objects.create(code="ACAD", name="AutoCAD")
    Price.objects.create(
        offering=offering,
        term="annual",
        currency="EUR",
        list_price=Decimal("2100.00"),
        renewal_price=Decimal("1890.00"),
    )

    # Warm-up (first order number of the year, caches, connections) and query counts.
    customer, user = make_group(0, offering)
    with CaptureQueriesContext(connection) as add_queries:
        add_to_cart(
            user=user, subscription_ids=[f"B0000-{k:04d}" for k in range(COUNT)], today=TODAY
        )
    before = AuditEvent.objects.count()
    with connection.cursor() as cur:
        rows_before = row_counts(cur)
    with CaptureQueriesContext(connection) as pay_queries:
        checkout(user, customer)
    audit_rows = AuditEvent.objects.count() - before
    # The rows one checkout adds, table by table: the product's, then the baseline's.
    with connection.cursor() as cur:
        rows_after = row_counts(cur)
        written = {t: rows_after[t] - rows_before[t] for t in rows_after}
        other, buyer = make_group(20_000, offering)
        baseline(buyer, other, audit_rows)
        by_hand = {t: n - rows_after[t] for t, n in row_counts(cur).items()}
    if written != by_hand:
        print(f"WARNING: the baseline writes other rows than the product: {written} vs {by_hand}")

    adds, pays, bases = [], [], []
    for run in range(1, args.runs + 1):
        customer, user = make_group(run, offering)
        ids = [f"B{run:04d}-{k:04d}" for k in range(COUNT)]
        started = time.perf_counter()
        add_to_cart(user=user, subscription_ids=ids, today=TODAY)
        adds.append(time.perf_counter() - started)
        started = time.perf_counter()
        checkout(user, customer)
        pays.append(time.perf_counter() - started)

        customer, user = make_group(10_000 + run, offering)
        started = time.perf_counter()
        baseline(user, customer, audit_rows)
        bases.append(time.perf_counter() - started)

    pay, base = statistics.median(pays), statistics.median(bases)
    report(
        f"Checkout of one group of {COUNT} renewals by card (sandbox), {args.runs} runs, median",
        [
            ("add_to_cart (100 lines)", f"{statistics.median(adds) * 1000:.1f} ms"),
            ("place_order + fulfilment", f"{pay * 1000:.1f} ms"),
            ("raw-SQL baseline", f"{base * 1000:.1f} ms"),
            ("ratio", f"{pay / base:.1f}x (target <= 3x)"),
            ("queries: add_to_cart", str(len(add_queries.captured_queries))),
            ("queries: place_order", str(len(pay_queries.captured_queries))),
            ("audit rows per checkout", str(audit_rows)),
            ("rows per checkout (both)", ", ".join(f"{t} {n}" for t, n in written.items())),
        ],
    )
    verdict(
        "bulk-checkout-100",
        pay / base,
        3,
        f"median of {args.runs}: {pay * 1000:.0f} ms vs {base * 1000:.0f} ms,"
        f" {len(pay_queries.captured_queries)} queries",
    )


if __name__ == "__main__":
    main()
