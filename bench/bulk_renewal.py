"""Time the checkout of one cart group of 100 renewals by card against a raw-SQL baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python -m bench.bulk_renewal --runs 20

Creates its own database (`renewals_bench_bulk`). Each run gets a fresh customer with 100
annual subscriptions due in 30 days, then measures in the same process:
1. `add_to_cart` of the 100 (reported, not part of the ratio);
2. `place_order` of the group by card through the sandbox gateway: re-validation under locks,
   order and lines, payment, gateway call, fulfilment (terms, renewal dates, audit), cart
   cleanup, the order-confirmation row and its delivery after commit (locmem backend);
3. baseline: the same rows written with hand-written SQL in one transaction — the order, 100
   order lines, the payment, 100 terms, 100 subscription updates (one statement), as many
   audit rows as step 2 wrote, one outbox row, the order marked paid, the cart emptied.
Reports the median and the ratio of 2 to 3, and the queries of one checkout.
"""

import argparse
import json
import os
import statistics
import uuid
from datetime import date, timedelta
from decimal import Decimal

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


def insert_many(cursor, head: str, row_sql: str, rows: list[tuple]) -> None:
    """Insert all rows with one multi-row INSERT statement (the fastest plain SQL short of COPY)."""
    cursor.execute(
        f"{head} VALUES " + ", ".join([row_sql] * len(rows)),
        [value for row in rows for value in row],
    )


def baseline(user, customer, audit_rows: int) -> None:
    """Write what a paid checkout of 100 writes, with plain SQL in one transaction."""
    from django.db import connection, transaction

    from renewals.subscriptions.models import Subscription

    subs = list(
        Subscription.objects.filter(customer=customer).values_list("pk", "seats", "renewal_date")
    )
    start = subs[0][2]
    end = start.replace(year=start.year + 1)
    unit = Decimal("1890.000")
    subtotal = sum(unit * seats for _pk, seats, _d in subs)
    tax = (subtotal * Decimal("0.20")).quantize(Decimal("0.01"))
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO checkout_order (number, customer_id, currency, purchase_method,"
            " payment_method, status, placed_by_id, automatic, subtotal, tax, total, tax_rate,"
            " reverse_charge, business_date, created, idempotency_key, request_hash,"
            " failure_code, purchase_order) VALUES (%s, %s, 'EUR', 'online', 'card',"
            " 'pending_payment', %s, false, %s, %s, %s, 0.2, false, %s, now(), %s, '', '', '')"
            " RETURNING id",
            [
                f"X-{uuid.uuid4().hex[:20]}",
                customer.pk,
                user.pk,
                subtotal,
                tax,
                subtotal + tax,
                TODAY,
                uuid.uuid4().hex,
            ],
        )
        order_id = cur.fetchone()[0]
        insert_many(
            cur,
            "INSERT INTO checkout_orderline (order_id, subscription_id, seats, unit_price,"
            " price_kind, amount, term_start, term_end, holds_term)",
            "(%s, %s, %s, %s, 'renewal', %s, %s, %s, true)",
            [(order_id, pk, seats, unit, unit * seats, start, end) for pk, seats, _d in subs],
        )
        cur.execute(
            "INSERT INTO payments_payment (order_id, gateway, method, status, reference, amount,"
            " currency, failure_code, action_url, needs_reconciliation, reconciliation_note,"
            " idempotency_key, created, updated) VALUES (%s, 'sandbox', 'card', 'succeeded', %s,"
            " %s, 'EUR', '', '', false, '', '', now(), now())",
            [order_id, f"pay_{uuid.uuid4().hex}", subtotal + tax],
        )
        cur.executemany(
            'INSERT INTO subscriptions_term (subscription_id, start, "end", order_number,'
            " source, created) VALUES (%s, %s, %s, 'X', 'order', now())",
            [(pk, start, end) for pk, _s, _d in subs],
        )
        # Per-row values, as in general each subscription has its own D (one statement).
        cur.execute(
            "UPDATE subscriptions_subscription AS s SET renewal_date = v.d, lapse_date = v.d"
            " FROM (VALUES "
            + ", ".join(["(%s, %s::date)"] * len(subs))
            + ") AS v(id, d) WHERE s.id = v.id",
            [value for pk, _s, _d in subs for value in (pk, end)],
        )
        insert_many(
            cur,
            "INSERT INTO core_auditevent (at, actor_id, actor_label, object_type, object_id,"
            " action, data)",
            "(now(), %s, %s, 'subscriptions.subscription', %s, 'renewed', %s)",
            [
                (user.pk, user.email, subs[i % len(subs)][0], json.dumps({"order": "X"}))
                for i in range(audit_rows)
            ],
        )
        cur.execute(
            'INSERT INTO notifications_email (kind, dedupe_key, "to", language, subject, text,'
            " html, headers, message_id, status, attempts, refusals, last_error, created)"
            " VALUES ('order-confirmation', %s, %s, 'en', 'Order', %s, %s, %s, %s, 'pending',"
            " 0, 0, '', now())",
            [
                f"bench:{order_id}",
                user.email,
                "line\n" * COUNT,
                "<p>line</p>" * COUNT,
                json.dumps({"X-Renewals-Subscriptions": ",".join(pk for pk, _s, _d in subs)}),
                f"<{uuid.uuid4().hex}@bench>",
            ],
        )
        cur.execute(
            "UPDATE checkout_order SET status = 'paid', paid_at = now() WHERE id = %s", [order_id]
        )
        cur.execute("DELETE FROM checkout_cartline WHERE user_id = %s", [user.pk])


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
    with CaptureQueriesContext(connection) as pay_queries:
        checkout(user, customer)
    audit_rows = AuditEvent.objects.count() - before

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
