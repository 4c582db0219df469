"""Post signed sandbox webhook events to the handler; each payment settles exactly once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.webhooks --events 10000

Creates its own database (`renewals_bench_webhooks`). Setup (not timed): D distinct JPY
payments waiting for their money — 70% konbini, 30% bank transfer — each with its order,
order line holding the term, subscription and sandbox payment, where D = 70% of the events.
Then, timed in the same process:
1. **handler**: the events — one `payment.succeeded` (konbini) or `transfer.received` of the
   exact amount (transfer) per payment, plus 30% duplicates re-sent with the same event id,
   shuffled — each signed (`Renewals-Signature`) and POSTed to `/webhooks/sandbox` through the
   Django test client (the whole middleware stack and view, in-process, one at a time): verify,
   store the event, settle the payment, fulfil the order (term, renewal date, audit), queue and
   deliver the order confirmation after commit (locmem backend);
2. **baseline**: the same events inserted by raw SQL into the WebhookEvent table, one
   `INSERT … ON CONFLICT DO NOTHING` per event in autocommit (the floor of "store each event
   once"), into an emptied table.
It then asserts every payment succeeded once: one new term per subscription, one confirmation
per order, one stored event per distinct id.
"""

import argparse
import json
import os
import random
import time
from datetime import date, timedelta
from decimal import Decimal

from bench.common import report, setup_django

TODAY = date(2027, 3, 1)


def create_payments(count: int) -> list[tuple[str, str, Decimal]]:
    """Create `count` JPY orders waiting for konbini or transfer money; return their payments."""
    from renewals.accounts.models import Customer, User
    from renewals.catalog.models import Offering, Price
    from renewals.checkout.models import Order, OrderLine
    from renewals.payments.models import Payment, SandboxPayment
    from renewals.subscriptions import periods
    from renewals.subscriptions.models import Subscription, Term

    offering = Offering.objects.create(code="ACAD", name="AutoCAD")
    Price.objects.create(
        offering=offering, term="annual", currency="JPY",
        list_price=Decimal("52800"), renewal_price=Decimal("48000"),
    )  # fmt: skip
    purchasers = 200
    customers = Customer.objects.bulk_create(
        Customer(csn=f"{9100000000 + n}", name=f"Bench {n}", country="JP")
        for n in range(purchasers)
    )
    users = User.objects.bulk_create(
        User(email=f"buyer{n}@bench.example", password="!", language="ja")
        for n in range(purchasers)
    )
    d = TODAY + timedelta(days=30)
    start = periods.previous_renewal_date(d, "annual", d.day)
    subs = Subscription.objects.bulk_create(
        Subscription(
            id=f"W{k:06d}", customer=customers[k % purchasers], offering=offering,
            term="annual", seats=1, currency="JPY", start_date=start, renewal_date=d,
            lapse_date=d, purchase_method="online",
            payment_method="konbini" if k % 10 < 7 else "bank_transfer",
            purchaser=users[k % purchasers],
        )
        for k in range(count)
    )  # fmt: skip
    Term.objects.bulk_create(Term(subscription=s, start=start, end=d) for s in subs)
    amount, tax = Decimal("48000"), Decimal("4800")
    orders = Order.objects.bulk_create(
        Order(
            number=f"R-2027-{k + 1:06d}", customer=s.customer, currency="JPY",
            purchase_method="online", payment_method=s.payment_method, status="pending_payment",
            placed_by=s.purchaser, subtotal=amount, tax=tax, total=amount + tax,
            tax_rate=Decimal("0.10"), business_date=TODAY,
        )
        for k, s in enumerate(subs)
    )  # fmt: skip
    OrderLine.objects.bulk_create(
        OrderLine(
            order=o, subscription=s, seats=1, unit_price=amount, price_kind="renewal",
            amount=amount, term_start=d, term_end=periods.next_renewal_date(d, "annual", d.day),
        )
        for o, s in zip(orders, subs, strict=True)
    )  # fmt: skip
    payments = [(f"sbx_bench_{k:06d}", s.payment_method, amount + tax) for k, s in enumerate(subs)]
    Payment.objects.bulk_create(
        Payment(
            order=o, gateway="sandbox", method=method, status="pending", reference=ref,
            amount=total, currency="JPY", expires_on=TODAY + timedelta(days=3),
        )
        for o, (ref, method, total) in zip(orders, payments, strict=True)
    )  # fmt: skip
    SandboxPayment.objects.bulk_create(
        SandboxPayment(
            idempotency_key=f"renewals-order-{o.number}", reference=ref, method=method,
            amount=total, currency="JPY", status="pending",
        )
        for o, (ref, method, total) in zip(orders, payments, strict=True)
    )  # fmt: skip
    return payments


def make_events(payments, total_events: int, seed: int) -> list[bytes]:
    """One settling event per payment, then duplicates of random ones up to `total_events`."""
    distinct = []
    for k, (ref, method, total) in enumerate(payments):
        kind = "payment.succeeded" if method == "konbini" else "transfer.received"
        distinct.append(
            json.dumps(
                {
                    "id": f"evt_bench_{k:06d}",
                    "type": kind,
                    "created": "2027-03-01T09:00:00+00:00",
                    "data": {"payment_reference": ref, "amount": str(int(total))},
                }
            ).encode()
        )
    rng = random.Random(seed)
    events = distinct + [rng.choice(distinct) for _ in range(total_events - len(distinct))]
    rng.shuffle(events)
    return events


def post_all(events: list[bytes]) -> dict[int, int]:
    from django.test import Client

    from renewals.payments.gateways.sandbox import SandboxGateway

    client, gateway, statuses = Client(), SandboxGateway(), {}
    for body in events:
        response = client.post(
            "/webhooks/sandbox",
            body,
            content_type="application/json",
            headers=gateway.signed_headers(body),  # signed at sending time (300 s tolerance)
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    return statuses


def baseline(events: list[bytes]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for body in events:
            event = json.loads(body)
            cursor.execute(
                "INSERT INTO payments_webhookevent (gateway, event_id, type, payload, received)"
                " VALUES (%s, %s, %s, %s, now()) ON CONFLICT DO NOTHING",
                ["sandbox", event["id"], event["type"], body.decode()],
            )


def check_settled_once(payments) -> None:
    from renewals.checkout.models import Order
    from renewals.core.models import AuditEvent
    from renewals.notifications.models import Email
    from renewals.payments.models import Payment, WebhookEvent
    from renewals.subscriptions.models import Subscription, Term

    n = len(payments)
    assert Payment.objects.filter(status="succeeded").count() == n
    assert Order.objects.filter(status="paid").count() == n
    assert WebhookEvent.objects.count() == n
    assert Term.objects.count() == 2 * n
    assert Subscription.objects.filter(renewal_date=date(2028, 3, 31)).count() == n
    assert Email.objects.filter(kind="order-confirmation").count() == n
    assert AuditEvent.objects.filter(action="payment_succeeded").count() == n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--duplicates", type=float, default=0.30, help="share of re-sent events")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    setup_django("renewals_bench_webhooks")
    from django.db import connection

    distinct = round(args.events * (1 - args.duplicates))
    payments = create_payments(distinct)
    events = make_events(payments, args.events, args.seed)

    started = time.perf_counter()
    statuses = post_all(events)
    handler = time.perf_counter() - started
    assert statuses == {200: args.events}, statuses
    check_settled_once(payments)

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE payments_webhookevent")
    started = time.perf_counter()
    baseline(events)
    base = time.perf_counter() - started

    report(
        f"Webhooks: {args.events:,} signed sandbox events, {distinct:,} payments, "
        f"{args.events - distinct:,} duplicates, shuffled",
        [
            ("handler (test client, in-process)", f"{handler:.1f} s = {args.events / handler:,.0f} events/s"),
            ("baseline (raw INSERT ON CONFLICT)", f"{base:.1f} s = {args.events / base:,.0f} events/s"),
            ("ratio", f"{handler / base:.1f}x"),
            ("settled exactly once", f"{distinct:,} payments, {distinct:,} confirmations"),
        ],
    )  # fmt: skip
    return {"handler_s": handler, "baseline_s": base, "events": args.events}


if __name__ == "__main__":
    main()
