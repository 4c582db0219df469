"""Post signed sandbox webhook events to the handler against the same writes done by hand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.webhooks --events 10000

Creates its own private database (bench/common.py). Setup (not timed): two sets of D JPY
payments waiting for their money — 70% konbini, 30% bank transfer — each with its order, order
line holding the term, subscription and sandbox payment, where D = 70% of the events. Then:
1. **handler**: the events — one `payment.succeeded` (konbini) or `transfer.received` of the
   exact amount (transfer) per payment of the first set, plus 30% duplicates re-sent with the
   same event id, shuffled — each signed (`Renewals-Signature`) and POSTed to
   `/webhooks/sandbox` through the Django test client (middleware, view, in-process, one at a
   time): verify, store the event once, settle the payment, fulfil the order (term, renewal
   date, audit), queue the order confirmation (delivery is the workers' job, left out);
2. **baseline** (`bench/webhooks_baseline.py`): the same events for the second set, by hand with raw psycopg —
   verify, parse, INSERT … ON CONFLICT DO NOTHING RETURNING of the event, stored processed (a
   duplicate stops there); one locking SELECT of payment, order, line, subscription,
   purchaser, customer and product with the subscription's last event sequence; the payment
   and the order updated, the subscription's cart lines deleted, the term inserted, the
   subscription updated; the year's invoice counter taken (one upsert RETURNING) and the tax
   invoice inserted (seller, bill-to, lines frozen); the `subscription.renewed` and
   `order.paid` events (payloads of their API shapes' size) in one INSERT and their two
   subject/sequence rows in another; the audit rows (as many as the handler writes for that
   kind of event, one INSERT) and the confirmation email; one COMMIT per event: 13 statements
   and the COMMIT (no `subscription.stage_changed`: these renewals keep the subscription
   active, so the handler writes none either; no deliveries: the bench has no endpoints).
It asserts every payment of the first set succeeded once (one new term, one confirmation, one
stored event each), and counts the statements of a settling konbini and transfer event and of a
duplicate — as the baseline's are counted: transaction control (BEGIN, COMMIT, SAVEPOINT,
RELEASE) apart, since psycopg's implicit BEGIN and the baseline's COMMIT are not counted either.
`--quick`: 1,500 events.
"""

import argparse
import json
import os
import random
import time
from datetime import date, timedelta
from decimal import Decimal

from bench.common import checkpoint, report, setup_django, verdict
from bench.webhooks_baseline import baseline

TODAY = date(2027, 3, 1)


def create_payments(count: int, prefix: str = "A") -> list[tuple[str, str, Decimal]]:
    """Create `count` JPY orders waiting for konbini or transfer money; return their payments.

    `prefix` keeps two sets apart in one database (the handler's and the baseline's).
    """
    from renewals.accounts.models import Customer, User
    from renewals.catalog.models import Offering, Price
    from renewals.checkout.models import Order, OrderLine
    from renewals.payments.models import Payment, SandboxPayment
    from renewals.subscriptions import periods
    from renewals.subscriptions.models import Subscription, Term

    offering, created = Offering.objects.get_or_create(code="ACAD", defaults={"name": "AutoCAD"})
    if created:
        Price.objects.create(
            offering=offering, term="annual", currency="JPY",
            list_price=Decimal("52800"), renewal_price=Decimal("48000"),
        )  # fmt: skip
    purchasers = 200
    base = 9100000000 if prefix == "A" else 9200000000
    customers = Customer.objects.bulk_create(
        Customer(csn=f"{base + n}", name=f"Bench {n}", country="JP") for n in range(purchasers)
    )
    users = User.objects.bulk_create(
        User(email=f"buyer{n}.{prefix}@bench.example", password="!", language="ja")
        for n in range(purchasers)
    )
    d = TODAY + timedelta(days=30)
    start = periods.previous_renewal_date(d, "annual", d.day)
    subs = Subscription.objects.bulk_create(
        Subscription(
            id=f"W{prefix}{k:06d}", customer=customers[k % purchasers], offering=offering,
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
            number=f"R-2027-{prefix}{k + 1:06d}", customer=s.customer, currency="JPY",
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
    payments = [
        (f"sbx_bench_{prefix}{k:06d}", s.payment_method, amount + tax) for k, s in enumerate(subs)
    ]
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
    for ref, method, total in payments:
        kind = "payment.succeeded" if method == "konbini" else "transfer.received"
        distinct.append(
            json.dumps(
                {
                    "id": f"evt_bench_{ref}",
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


def check_settled_once(payments) -> None:
    from renewals.checkout.models import Order
    from renewals.core.models import AuditEvent
    from renewals.notifications.models import Email
    from renewals.payments.models import Payment, WebhookEvent
    from renewals.subscriptions.models import Subscription, Term

    n = len(payments)
    refs = [ref for ref, _m, _t in payments]
    mine = Payment.objects.filter(reference__in=refs)
    assert mine.filter(status="succeeded").count() == n
    assert Order.objects.filter(payment__reference__in=refs, status="paid").count() == n
    assert WebhookEvent.objects.filter(event_id__startswith="evt_bench_sbx_bench_A").count() == n
    subs = Subscription.objects.filter(pk__startswith="WA")
    assert Term.objects.filter(subscription__in=subs).count() == 2 * n
    assert subs.filter(renewal_date=date(2028, 3, 31)).count() == n
    assert Email.objects.filter(kind="order-confirmation").count() == n
    assert AuditEvent.objects.filter(action="payment_succeeded").count() == n


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def statements_of(body: bytes) -> tuple[int, int]:
    """Return (SQL statements, transaction-control statements) the handler runs for `body`.

    Counted like the baseline's: its BEGIN (psycopg's, implicit) and COMMIT are not counted as
    statements, so the handler's BEGIN/COMMIT (and any SAVEPOINT/RELEASE) are counted apart.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from renewals.payments.gateways.sandbox import SandboxGateway

    with CaptureQueriesContext(connection) as queries:
        Client().post(
            "/webhooks/sandbox", body, content_type="application/json",
            headers=SandboxGateway().signed_headers(body),
        )  # fmt: skip
    control = [q for q in queries.captured_queries if q["sql"].startswith(TRANSACTION_CONTROL)]
    return len(queries.captured_queries) - len(control), len(control)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--duplicates", type=float, default=0.30, help="share of re-sent events")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1,500 events (bench.all --quick)")
    args = parser.parse_args()
    if args.quick:
        args.events = 1500
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    setup_django("renewals_bench_webhooks")
    from django.db import connection

    from renewals.core.models import AuditEvent
    from renewals.notifications import outbox

    outbox.deliver_later = lambda ids: None  # delivery is the workers' job (both sides)

    distinct = round(args.events * (1 - args.duplicates))
    payments = create_payments(distinct + 3, "A")
    events = make_events(payments, args.events + 3, args.seed)
    # Measured alone for their statements: a konbini payment's event (A000000, k % 10 < 7) that
    # issues the year's first invoice (its counter is created), a second one (the steady
    # state), a transfer's (A000007), then a duplicate of the second.
    first = [next(e for e in events if f"sbx_bench_A{k:06d}".encode() in e) for k in (0, 1, 7)]
    events = [e for e in events if e not in first]
    statements_of(first[0])
    audit_rows, measured = {}, {}
    for body, kind in ((first[1], "payment.succeeded"), (first[2], "transfer.received")):
        audit_before = AuditEvent.objects.count()
        measured[kind] = statements_of(body)
        audit_rows[kind] = AuditEvent.objects.count() - audit_before
    duplicate, duplicate_control = statements_of(first[1])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    checkpoint()

    started = time.perf_counter()
    statuses = post_all(events)
    handler = time.perf_counter() - started
    assert statuses == {200: len(events)}, statuses
    check_settled_once(payments)

    base_payments = create_payments(distinct, "B")
    base_events = make_events(base_payments, args.events, args.seed)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    checkpoint()
    connection.close()
    started = time.perf_counter()
    counts = baseline(base_events, audit_rows)
    base = time.perf_counter() - started
    assert counts["events"] == distinct, counts

    n = len(events)
    report(
        f"Webhooks: {n:,} signed sandbox events, {distinct:,} payments, "
        f"{n - distinct:,} duplicates, shuffled",
        [
            ("handler (test client, in-process)", f"{handler:.1f} s = {n / handler:,.0f} events/s"),
            ("baseline (raw psycopg, same writes)", f"{base:.1f} s = {len(base_events) / base:,.0f} events/s"),
            ("ratio", f"{(handler / n) / (base / len(base_events)):.1f}x"),
            *(
                (f"statements: settling {kind}", f"{sql} + {control} BEGIN/COMMIT/SAVEPOINT/RELEASE"
                 f" (baseline 13 + COMMIT), {audit_rows[kind]} audit rows")
                for kind, (sql, control) in measured.items()
            ),
            ("statements: duplicate", f"{duplicate} + {duplicate_control} BEGIN/COMMIT (baseline 1 + COMMIT)"),
            ("settled exactly once", f"{distinct + 3:,} payments, {distinct + 3:,} confirmations"),
        ],
    )  # fmt: skip
    ratio = (handler / n) / (base / len(base_events))
    verdict(
        "webhook-event", ratio, 3, f"{n / handler:.0f} vs {len(base_events) / base:.0f} events/s"
    )
    verdict("webhook-duplicate-statements", duplicate, 2, "statements for a re-sent event")


if __name__ == "__main__":
    main()
