"""A paid checkout of one cart group, written by hand (raw SQL), for bench/bulk_renewal.py.

What `place_order` of a group of n renewals by card essentially writes (counted on the product
by the benchmark's warm-up, `TABLES` below), each the simplest set-based way, in one
transaction:

- the order number (its year's sequence row, one upsert), the order, n order lines (one
  multi-row INSERT), the payment created then settled;
- the gateway's side: the sandbox's payment row and the call's ledger row;
- n terms (one INSERT), the n subscriptions' new dates (one UPDATE … FROM VALUES);
- the numbered tax invoice (its sequence row, one upsert; the lines as JSON);
- the R22 outbox: the transaction id, the subscriptions' last sequences (one query), n
  `subscription.renewed` events and one `order.paid` (one INSERT … RETURNING), their n + n
  subjects (one INSERT); the events carry the API shapes the product writes (same fields);
- as many audit rows as the product writes (one INSERT);
- the order paid, the cart emptied, the order-confirmation email row (text and HTML of about
  the product's size).
"""

import json
import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings

# Tables whose rows one checkout adds, compared between the product and the baseline.
TABLES = (
    "checkout_order", "checkout_orderline", "payments_payment", "payments_sandboxpayment",
    "payments_gatewaycall", "subscriptions_term", "billing_invoice", "events_event",
    "events_eventsubscription", "core_auditevent", "notifications_email",
)  # fmt: skip
UNIT = Decimal("1890.00")


def row_counts(cursor) -> dict[str, int]:
    return {t: _count(cursor, t) for t in TABLES}


def _count(cursor, table: str) -> int:
    cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 — fixed names above
    return cursor.fetchone()[0]


def insert_many(cursor, head: str, row_sql: str, rows: list[tuple], tail: str = "") -> None:
    """Insert all rows with one multi-row INSERT statement (the fastest plain SQL short of COPY)."""
    cursor.execute(
        f"{head} VALUES " + ", ".join([row_sql] * len(rows)) + tail,
        [value for row in rows for value in row],
    )


def _renewed_shape(sub, customer, user, start: date, end: date, number: str) -> str:
    pk, seats = sub
    price = {"amount": str(UNIT * seats), "currency": "EUR"}
    return json.dumps(
        {
            "object": {
                "id": pk, "csn": customer.csn, "customer_name": customer.name, "term": "annual",
                "seats": seats, "stage": "active", "currency": "EUR", "trial": False,
                "access": True, "partner": None, "auto_renew": False,
                "product": {"code": "ACAD", "name": "AutoCAD"}, "purchaser": user.email,
                "start_date": start.replace(year=start.year - 1).isoformat(),
                "renewal_date": end.isoformat(), "purchase_method": "online",
                "payment_method": {"type": "card", "last4": None}, "scheduled_change": None,
                "terms": [{"start": start.isoformat(), "end": end.isoformat(), "term": "annual",
                           "order": number, "seats": seats}],
                "renewal": {"term": "annual", "seats": seats, "price": price,
                            "unit_price": {"amount": str(UNIT), "currency": "EUR"},
                            "price_kind": "renewal", "eligible": False, "reasons": ["too_early"],
                            "next_term": {"start": end.isoformat(),
                                          "end": end.replace(year=end.year + 1).isoformat()},
                            "window_opens": end.replace(month=1, day=1).isoformat(),
                            "window_closes": end.isoformat()},
            }
        }
    )  # fmt: skip


def _line_shape(pk: str, seats: int, start: date, end: date) -> dict:
    return {
        "subscription_id": pk, "term": "annual", "seats": seats, "previous": None,
        "product": {"code": "ACAD", "name": "AutoCAD"}, "price_kind": "renewal",
        "unit_price": {"amount": str(UNIT), "currency": "EUR"},
        "amount": {"amount": str(UNIT * seats), "currency": "EUR"},
        "next_term": {"start": start.isoformat(), "end": end.isoformat()},
    }  # fmt: skip


def checkout_by_hand(cur, user, customer, subs: list[tuple], today: date, audit_rows: int) -> None:
    """Write one paid checkout of `subs` ((id, seats, renewal date)); the caller's transaction."""
    start = subs[0][2]
    end = start.replace(year=start.year + 1)
    subtotal = sum(UNIT * seats for _pk, seats, _d in subs)
    tax = (subtotal * Decimal("0.20")).quantize(Decimal("0.01"))
    total = subtotal + tax
    cur.execute(
        "INSERT INTO checkout_ordernumbersequence (year, last) VALUES (%s, 1) ON CONFLICT (year)"
        " DO UPDATE SET last = checkout_ordernumbersequence.last + 1 RETURNING last",
        [today.year],
    )
    number = f"X-{today.year}-{cur.fetchone()[0]:06d}-{uuid.uuid4().hex[:8]}"
    cur.execute(
        "INSERT INTO checkout_order (number, customer_id, currency, purchase_method,"
        " payment_method, status, placed_by_id, automatic, subtotal, tax, total, tax_rate,"
        " reverse_charge, business_date, created, idempotency_key, request_hash,"
        " failure_code, purchase_order) VALUES (%s, %s, 'EUR', 'online', 'card',"
        " 'pending_payment', %s, false, %s, %s, %s, 0.2, false, %s, now(), %s, %s, '', '')"
        " RETURNING id",
        [number, customer.pk, user.pk, subtotal, tax, total, today, uuid.uuid4().hex,
         uuid.uuid4().hex * 2],
    )  # fmt: skip
    order_id = cur.fetchone()[0]
    insert_many(
        cur,
        "INSERT INTO checkout_orderline (order_id, subscription_id, seats, unit_price,"
        " price_kind, amount, term_start, term_end, holds_term)",
        "(%s, %s, %s, %s, 'renewal', %s, %s, %s, true)",
        [(order_id, pk, seats, UNIT, UNIT * seats, start, end) for pk, seats, _d in subs],
    )
    cur.execute(
        "INSERT INTO payments_payment (order_id, gateway, method, status, reference, amount,"
        " currency, failure_code, action_url, needs_reconciliation, reconciliation_note,"
        " idempotency_key, created, updated) VALUES (%s, 'sandbox', 'card', 'created', '',"
        " %s, 'EUR', '', '', false, '', '', now(), now()) RETURNING id",
        [order_id, total],
    )
    payment_id = cur.fetchone()[0]
    reference, key = f"sbx_{uuid.uuid4().hex[:20]}", f"renewals-order-{number}"
    cur.execute(
        "INSERT INTO payments_sandboxpayment (idempotency_key, reference, method, amount,"
        " currency, status, failure_code, card_number, save_card, customer_id,"
        " answers_to_lose, return_url, created) VALUES (%s, %s, 'card', %s, 'EUR',"
        " 'succeeded', '', '4242424242424242', false, '', 0, '', now())",
        [key, reference, total],
    )
    cur.execute(
        "INSERT INTO payments_gatewaycall (payment_id, gateway, kind, idempotency_key, outcome,"
        " reference, error, response, duration_ms, created) VALUES (%s, 'sandbox',"
        " 'create_payment', %s, 'succeeded', %s, '', %s, 1, now())",
        [payment_id, key, reference,
         json.dumps({"raw": {"method": "card", "sandbox_status": "succeeded"}, "error": "",
                     "outcome": "succeeded", "reference": reference, "action_url": "",
                     "saved_card": None, "failure_code": "", "instructions": None})],
    )  # fmt: skip
    cur.execute(
        "UPDATE payments_payment SET status = 'succeeded', reference = %s, updated = now()"
        " WHERE id = %s",
        [reference, payment_id],
    )
    insert_many(
        cur,
        'INSERT INTO subscriptions_term (subscription_id, start, "end", order_number,'
        " source, seats, created)",
        "(%s, %s, %s, %s, 'order', %s, now())",
        [(pk, start, end, number, seats) for pk, seats, _d in subs],
    )
    # Per-row values, as in general each subscription has its own D (one statement).
    cur.execute(
        "UPDATE subscriptions_subscription AS s SET renewal_date = v.d, lapse_date = v.d,"
        " updated = now() FROM (VALUES "
        + ", ".join(["(%s, %s::date)"] * len(subs))
        + ") AS v(id, d) WHERE s.id = v.id",
        [value for pk, _s, _d in subs for value in (pk, end)],
    )
    _invoice(cur, order_id, customer, subs, today, number, (subtotal, tax, total), start, end)
    _events(cur, user, customer, subs, number, (subtotal, tax, total), start, end)
    insert_many(
        cur,
        "INSERT INTO core_auditevent (at, actor_id, actor_label, object_type, object_id,"
        " action, data)",
        "(now(), %s, %s, 'subscriptions.subscription', %s, 'renewed', %s)",
        [
            (user.pk, user.email, subs[i % len(subs)][0],
             json.dumps({"order": number, "source": "order"}))
            for i in range(audit_rows)
        ],
    )  # fmt: skip
    cur.execute(
        "UPDATE checkout_order SET status = 'paid', paid_at = now() WHERE id = %s", [order_id]
    )
    cur.execute("DELETE FROM checkout_cartline WHERE user_id = %s", [user.pk])
    cur.execute(
        'INSERT INTO notifications_email (kind, dedupe_key, "to", language, subject, text,'
        " html, headers, message_id, status, attempts, refusals, last_error, created)"
        " VALUES ('order-confirmation', %s, %s, 'en', 'Order', %s, %s, %s, %s, 'pending',"
        " 0, 0, '', now())",
        [
            f"bench:{number}",
            user.email,
            "".join(f"{pk}  AutoCAD  {seats} seats  {UNIT * seats} EUR\n" * 3 for pk, seats, _d
                    in subs),
            "".join(f"<tr><td>{pk}</td><td>AutoCAD</td><td>{seats}</td><td>{UNIT * seats} EUR"
                    "</td></tr>" * 5 for pk, seats, _d in subs),
            json.dumps({"X-Renewals-Event": "order-confirmation", "X-Renewals-Order": number,
                        "X-Renewals-Subscriptions": ",".join(pk for pk, _s, _d in subs)}),
            f"<{uuid.uuid4().hex}@bench>",
        ],
    )  # fmt: skip


def _invoice(cur, order_id, customer, subs, today, number, amounts, start, end) -> None:
    subtotal, tax, total = amounts
    cur.execute(
        "INSERT INTO billing_invoicesequence (year, last) VALUES (%s, 1) ON CONFLICT (year)"
        " DO UPDATE SET last = billing_invoicesequence.last + 1 RETURNING last",
        [today.year],
    )
    sequence = cur.fetchone()[0]
    lines = [
        {"subscription_id": pk, "product": "AutoCAD", "product_code": "ACAD", "term": "annual",
         "seats": seats, "unit_price": str(UNIT), "amount": str(UNIT * seats),
         "term_start": start.isoformat(), "term_end": end.isoformat()}
        for pk, seats, _d in subs
    ]  # fmt: skip
    cur.execute(
        "INSERT INTO billing_invoice (number, year, sequence, order_id, customer_id, issued_on,"
        " due_date, status, paid_on, currency, subtotal, tax, total, tax_rate, reverse_charge,"
        " seller, bill_to, lines, language, purchase_order, refund_due, created) VALUES (%s, %s,"
        " %s, %s, %s, %s, %s, 'paid', %s, 'EUR', %s, %s, %s, 0.2, false, %s, %s, %s, 'en', '', 0,"
        " now())",
        [f"XINV-{number}", today.year, sequence, order_id, customer.pk, today, today, today,
         subtotal, tax, total, json.dumps(settings.SELLER),
         json.dumps({"csn": customer.csn, "name": customer.name, "country": customer.country,
                     "vat_id": "", "address": ""}),
         json.dumps(lines)],
    )  # fmt: skip


def _events(cur, user, customer, subs, number, amounts, start, end) -> None:
    """The outbox of R22: one subscription.renewed per line, one order.paid, their subjects."""
    subtotal, tax, total = amounts
    ids = [pk for pk, _s, _d in subs]
    cur.execute("SELECT pg_current_xact_id()::text::bigint")
    position = cur.fetchone()[0]
    cur.execute(
        "SELECT subscription_id, max(sequence) FROM events_eventsubscription"
        " WHERE subscription_id = ANY(%s) GROUP BY subscription_id",
        [ids],
    )
    last = dict(cur.fetchall())
    money = lambda amount: {"amount": str(amount), "currency": "EUR"}  # noqa: E731
    order_shape = json.dumps(
        {
            "object": {
                "number": number, "status": "paid", "csn": customer.csn, "currency": "EUR",
                "subtotal": money(subtotal), "tax": money(tax), "total": money(total),
                "lines": [_line_shape(pk, seats, start, end) for pk, seats, _d in subs],
            }
        }
    )  # fmt: skip
    customers = f"[{customer.pk}]"
    rows = [
        ("subscription.renewed", sub[0], last.get(sub[0], 0) + 1, customers,
         _renewed_shape(sub[:2], customer, user, start, end, number), position)
        for sub in subs
    ] + [("order.paid", None, None, customers, order_shape, position)]  # fmt: skip
    insert_many(
        cur,
        "INSERT INTO events_event (type, created, subscription_id, sequence, customer_ids, data,"
        " position)",
        "(%s, now(), %s, %s, %s, %s, %s)",
        rows,
        " RETURNING id",
    )
    event_ids = [r[0] for r in cur.fetchall()]
    paid = event_ids[-1]
    insert_many(
        cur,
        "INSERT INTO events_eventsubscription (event_id, subscription_id, sequence)",
        "(%s, %s, %s)",
        [(eid, pk, last.get(pk, 0) + 1) for eid, pk in zip(event_ids, ids, strict=False)]
        + [(paid, pk, last.get(pk, 0) + 2) for pk in ids],
    )
