"""The baseline of bench.webhooks: a settling event's essential writes by hand (raw psycopg).

See `baseline()` for exactly what it writes; bench/webhooks.py runs it against the handler.
"""

from bench.common import raw_connection

CONFIRMATION = "ご注文ありがとうございます。" * 40  # about the size of a rendered confirmation

LOCK = (
    "SELECT p.id, p.amount, p.method, o.id, o.number, o.customer_id, o.currency, o.subtotal,"
    " o.tax, o.total, o.tax_rate, o.created, l.subscription_id, l.seats, l.unit_price,"
    " l.amount, l.term_start, l.term_end, s.start_date, s.term, u.email, u.language, c.csn,"
    " c.name, c.country, c.vat_id, c.address, f.code, f.name,"
    " (SELECT COALESCE(MAX(e.sequence), 0) FROM events_eventsubscription e"
    "  WHERE e.subscription_id = s.id)"
    " FROM payments_payment p"
    " JOIN checkout_order o ON o.id = p.order_id"
    " JOIN checkout_orderline l ON l.order_id = o.id"
    " JOIN subscriptions_subscription s ON s.id = l.subscription_id"
    " JOIN accounts_user u ON u.id = s.purchaser_id"
    " JOIN accounts_customer c ON c.id = o.customer_id"
    " JOIN catalog_offering f ON f.id = s.offering_id"
    " WHERE p.reference = %s AND p.gateway = 'sandbox' FOR UPDATE OF p, o, s"
)
LOCKED = (
    "pay_id", "amount", "method", "order_id", "number", "customer_id", "currency", "subtotal",
    "tax", "total", "tax_rate", "created", "sub_id", "seats", "unit_price", "line_amount",
    "term_start", "term_end", "start_date", "term", "email", "language", "csn", "name",
    "country", "vat_id", "address", "code", "product", "last_sequence",
)  # fmt: skip
POSITION = "pg_current_xact_id()::text::bigint"  # the events' position, as the outbox writes it
INSERT_INVOICE = (
    "INSERT INTO billing_invoice (number, year, sequence, order_id, customer_id, issued_on,"
    " due_date, status, paid_on, currency, subtotal, tax, total, tax_rate, reverse_charge,"
    " seller, bill_to, lines, language, purchase_order, refund_due, created)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, 'paid', %s, %s, %s, %s, %s, %s, false, %s, %s, %s, %s,"
    " '', 0, now())"
)


def baseline(events: list[bytes], audit_rows: dict[str, int]) -> dict:
    """The same essential writes by hand, with raw psycopg: one transaction, one commit per event.

    Per event: verify the signature, parse; INSERT the event (stored processed) ON CONFLICT DO
    NOTHING RETURNING (a duplicate stops here: 1 statement, then its COMMIT); one locking SELECT
    of payment, order, line, subscription, purchaser, customer and product with the
    subscription's last event sequence; UPDATE the payment and the order; DELETE the renewed
    subscription's cart lines; INSERT the term; UPDATE the subscription; take the year's invoice
    number (one upsert of its counter, RETURNING); INSERT the tax invoice (seller, bill-to and
    lines frozen as JSON); INSERT the `subscription.renewed` and `order.paid` events (one
    statement, each with its payload of an API shape's size) and their two subject/sequence
    rows (one statement); INSERT the audit rows (one multi-row INSERT, as many as the handler
    writes for that kind of event) and the confirmation email; COMMIT: 13 statements. Rendering
    and the API shapes are replaced by fixed texts and dicts of their size.
    """
    import json as jsonlib

    from renewals.core import clock
    from renewals.payments.gateways.sandbox import (
        SIGNATURE_HEADER,
        SandboxGateway,
        verify_signature,
    )

    gateway = SandboxGateway()
    seller = jsonlib.dumps(dict(settings_seller()))
    counts = {"statements": 0, "events": 0}
    with raw_connection() as conn, conn.cursor() as cur:
        for body in events:
            header = gateway.signed_headers(body)[SIGNATURE_HEADER]
            verify_signature(body, header, secret=gateway.secret)
            event = jsonlib.loads(body)
            ref = event["data"]["payment_reference"]
            cur.execute(
                "INSERT INTO payments_webhookevent (gateway, event_id, type, payload, received,"
                " processed) VALUES ('sandbox', %s, %s, %s, now(), now())"
                " ON CONFLICT DO NOTHING RETURNING id",
                [event["id"], event["type"], body.decode()],
            )
            row = cur.fetchone()
            counts["statements"] += 1
            if row is None:
                conn.commit()
                continue
            cur.execute(LOCK, [ref])
            row = dict(zip(LOCKED, cur.fetchone(), strict=True), ref=ref)
            pay_id, order_id = row["pay_id"], row["order_id"]
            number, sub_id = row["number"], row["sub_id"]
            cur.execute(
                "UPDATE payments_payment SET status = 'succeeded', received_amount = amount,"
                " needs_reconciliation = false, updated = now() WHERE id = %s",
                [pay_id],
            )
            cur.execute(
                "UPDATE checkout_order SET status = 'paid', paid_at = now(), failure_code = ''"
                " WHERE id = %s",
                [order_id],
            )
            cur.execute("DELETE FROM checkout_cartline WHERE subscription_id = %s", [sub_id])
            cur.execute(
                'INSERT INTO subscriptions_term (subscription_id, start, "end", order_number,'
                " source, seats, created) VALUES (%s, %s, %s, %s, 'order', %s, now())",
                [sub_id, row["term_start"], row["term_end"], number, row["seats"]],
            )
            cur.execute(
                "UPDATE subscriptions_subscription SET renewal_date = %s, lapse_date = %s,"
                " updated = now() WHERE id = %s",
                [row["term_end"], row["term_end"], sub_id],
            )
            today = clock.today()
            cur.execute(
                "INSERT INTO billing_invoicesequence (year, last) VALUES (%s, 1)"
                " ON CONFLICT (year) DO UPDATE SET last = billing_invoicesequence.last + 1"
                " RETURNING last",
                [today.year],
            )
            sequence = cur.fetchone()[0]
            invoice = f"INV-{today.year}-{sequence:06d}"
            row["invoice"] = invoice
            line = {
                "subscription_id": sub_id, "product": row["product"],
                "product_code": row["code"], "term": row["term"], "seats": row["seats"],
                "unit_price": str(row["unit_price"]), "amount": str(row["line_amount"]),
                "term_start": row["term_start"].isoformat(),
                "term_end": row["term_end"].isoformat(),
            }  # fmt: skip
            bill_to = {key: row[key] for key in ("name", "csn", "country", "vat_id", "address")}
            cur.execute(
                INSERT_INVOICE,
                [invoice, today.year, sequence, order_id, row["customer_id"], today, today,
                 today, row["currency"], row["subtotal"], row["tax"], row["total"],
                 row["tax_rate"], seller, jsonlib.dumps(bill_to), jsonlib.dumps([line]),
                 row["language"]],
            )  # fmt: skip
            renewed, paid = shapes(row)
            last, customers = row["last_sequence"], f"[{row['customer_id']}]"
            cur.execute(
                "INSERT INTO events_event (type, created, subscription_id, sequence,"
                " customer_ids, data, position) VALUES"
                f" ('subscription.renewed', now(), %s, %s, %s, %s, {POSITION}),"
                f" ('order.paid', now(), %s, %s, %s, %s, {POSITION})"
                " RETURNING id",
                [sub_id, last + 1, customers, jsonlib.dumps(renewed),
                 sub_id, last + 2, customers, jsonlib.dumps(paid)],
            )  # fmt: skip
            first, second = (r[0] for r in cur.fetchall())
            cur.execute(
                "INSERT INTO events_eventsubscription (event_id, subscription_id, sequence)"
                " VALUES (%s, %s, %s), (%s, %s, %s)",
                [first, sub_id, last + 1, second, sub_id, last + 2],
            )
            audits = audit_rows[event["type"]]
            cur.execute(
                "INSERT INTO core_auditevent (at, actor_label, object_type, object_id, action,"
                " data) VALUES "
                + ", ".join(["(now(), 'webhook:sandbox', 'x', %s, 'x', '{}')"] * audits),
                [str(pay_id)] * audits,
            )
            cur.execute(
                'INSERT INTO notifications_email (kind, dedupe_key, "to", language, subject,'
                " text, html, headers, message_id, status, attempts, refusals, last_error,"
                " created) VALUES ('order-confirmation', %s, %s, %s, 'ご注文', %s, %s, '{}',"
                " %s, 'pending', 0, 0, '', now())",
                [f"bench-confirmation:{number}", row["email"], row["language"], CONFIRMATION,
                 f"<p>{CONFIRMATION}</p>", f"<{number}@bench>"],
            )  # fmt: skip
            conn.commit()
            counts["statements"] += 12
            counts["events"] += 1
    return counts


def settings_seller() -> dict:
    from django.conf import settings

    return settings.SELLER


def shapes(row: dict) -> tuple[dict, dict]:
    """The two events' payloads, built from the locked row: dicts of the API shapes' size."""
    money = lambda value: {"amount": str(int(value)), "currency": row["currency"]}  # noqa: E731
    term = {"start": row["term_start"].isoformat(), "end": row["term_end"].isoformat()}
    subscription = {
        "id": row["sub_id"], "csn": row["csn"], "customer_name": row["name"],
        "product": {"code": row["code"], "name": row["product"]}, "term": row["term"],
        "seats": row["seats"], "currency": row["currency"],
        "start_date": row["start_date"].isoformat(), "renewal_date": term["end"],
        "stage": "active", "access": True, "auto_renew": False, "purchase_method": "online",
        "payment_method": {"type": row["method"], "last4": None}, "purchaser": row["email"],
        "partner": None, "trial": False,
        "renewal": {"eligible": False, "reasons": ["too_early"], "unit_price": money(row["unit_price"]),
                    "price": money(row["line_amount"]), "price_kind": "renewal",
                    "seats": row["seats"], "term": row["term"], "next_term": term},
        "scheduled_change": None,
        "terms": [{**term, "order": row["number"], "seats": row["seats"], "term": row["term"]}],
    }  # fmt: skip
    order = {
        "number": row["number"], "status": "paid", "csn": row["csn"],
        "currency": row["currency"], "purchase_method": "online",
        "created": row["created"].isoformat(),
        "lines": [{"subscription_id": row["sub_id"], "product": subscription["product"],
                   "seats": row["seats"], "term": row["term"],
                   "unit_price": money(row["unit_price"]), "price_kind": "renewal",
                   "amount": money(row["line_amount"]), "next_term": term, "previous": None}],
        "subtotal": money(row["subtotal"]), "tax": money(row["tax"]),
        "total": money(row["total"]),
        "payment": {"method": row["method"], "status": "succeeded", "reference": row["ref"]},
        "invoice": {"number": row["invoice"], "status": "paid", "language": row["language"]},
        "purchase_order": None, "credit_notes": [],
    }  # fmt: skip
    return {"object": subscription}, {"object": order}
