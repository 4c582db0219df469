"""One automatic charge's writes by hand (raw psycopg), for the baseline of bench/daily_run.py."""

import json
from decimal import Decimal

from bench.daily_fixture import DATE, DIGEST_LINE

# The audit rows an automatic charge writes (order, payment, renewal, invoice, attempt).
AUDITS = ("order_created", "payment_created", "payment_succeeded", "renewed", "order_paid",
          "invoice_issued", "auto_renewal_succeeded")  # fmt: skip
SELLER = {"name": "Renewals SAS", "address": "1 rue de la Paix, 75002 Paris", "vat": "FR00123"}


def charge_by_hand(conn, cur, sub: tuple) -> None:
    """One automatic charge's writes: claim; order number, order, line, payment; the gateway's
    row and the call's ledger row; then settled: payment and order paid, term, new dates, the
    tax invoice (numbered), the three events of R22 with their subjects, the audit rows, the
    receipt and the attempt settled (4 commits)."""
    sub_id, buyer, renewal, _lapse, _term, seats, _auto, _card, email, lang, name = sub
    end = renewal.replace(year=renewal.year + 1)
    amount = Decimal("1890.00") * seats
    total = amount + (amount * Decimal("0.20")).quantize(Decimal("0.01"))
    cur.execute(
        "INSERT INTO lifecycle_chargeattempt (subscription_id, term_start, attempt,"
        " business_date, status, failure_code, notified, created, updated)"
        " VALUES (%s, %s, 0, %s, 'claimed', '', false, now(), now()) RETURNING id",
        [sub_id, renewal, DATE],
    )
    attempt = cur.fetchone()[0]
    conn.commit()
    cur.execute(
        "INSERT INTO checkout_ordernumbersequence (year, last) VALUES (%s, 1) ON CONFLICT (year)"
        " DO UPDATE SET last = checkout_ordernumbersequence.last + 1 RETURNING last",
        [DATE.year],
    )
    number = f"A-{sub_id}-{cur.fetchone()[0]}"
    cur.execute(
        "INSERT INTO checkout_order (number, customer_id, currency, purchase_method,"
        " payment_method, status, automatic, subtotal, tax, total, tax_rate, reverse_charge,"
        " business_date, created, idempotency_key, request_hash, failure_code, purchase_order)"
        " VALUES (%s, %s, 'EUR', 'online', 'card', 'pending_payment', true, %s, %s, %s, 0.2,"
        " false, %s, now(), %s, '', '', '') RETURNING id",
        [number, buyer, amount, total - amount, total, DATE, f"auto-{attempt}"],
    )
    order = cur.fetchone()[0]
    cur.execute(
        "INSERT INTO checkout_orderline (order_id, subscription_id, seats, unit_price,"
        " price_kind, amount, term_start, term_end, holds_term) VALUES (%s, %s, %s, 1890,"
        " 'renewal', %s, %s, %s, true)",
        [order, sub_id, seats, amount, renewal, end],
    )
    cur.execute(
        "INSERT INTO payments_payment (order_id, gateway, method, status, reference, amount,"
        " currency, failure_code, action_url, needs_reconciliation, reconciliation_note,"
        " idempotency_key, created, updated) VALUES (%s, 'sandbox', 'card', 'created', %s, %s,"
        " 'EUR', '', '', false, '', '', now(), now()) RETURNING id",
        [order, f"new_{number}", total],
    )
    payment = cur.fetchone()[0]
    cur.execute("UPDATE lifecycle_chargeattempt SET order_id = %s WHERE id = %s", [order, attempt])
    conn.commit()
    cur.execute(
        "INSERT INTO payments_sandboxpayment (idempotency_key, reference, method, amount,"
        " currency, status, failure_code, card_number, save_card, customer_id,"
        " answers_to_lose, return_url, created) VALUES (%s, %s, 'card', %s, 'EUR',"
        " 'succeeded', '', '4242424242424242', false, '', 0, '', now())",
        [f"renewals-order-{number}", f"sbx_{number}", total],
    )
    cur.execute(
        "INSERT INTO payments_gatewaycall (payment_id, customer_id, gateway, kind,"
        " idempotency_key, outcome, reference, error, response, duration_ms, created) VALUES"
        " (%s, %s, 'sandbox', 'create_payment', %s, 'succeeded', %s, '', %s, 1, now())",
        [payment, buyer, f"renewals-order-{number}", f"sbx_{number}",
         json.dumps({"id": f"sbx_{number}", "status": "succeeded", "amount": str(total)})],
    )  # fmt: skip
    conn.commit()
    cur.execute(
        "UPDATE payments_payment SET status = 'succeeded', reference = %s, updated = now()"
        " WHERE id = %s",
        [f"sbx_{number}", payment],
    )
    cur.execute("UPDATE checkout_order SET status = 'paid', paid_at = now() WHERE id = %s", [order])
    cur.execute(
        'INSERT INTO subscriptions_term (subscription_id, start, "end", order_number, source,'
        " created) VALUES (%s, %s, %s, %s, 'order', now())",
        [sub_id, renewal, end, number],
    )
    cur.execute(
        "UPDATE subscriptions_subscription SET renewal_date = %s, lapse_date = %s WHERE id = %s",
        [end, end, sub_id],
    )
    cur.execute(
        "INSERT INTO billing_invoicesequence (year, last) VALUES (%s, 1) ON CONFLICT (year)"
        " DO UPDATE SET last = billing_invoicesequence.last + 1 RETURNING last",
        [DATE.year],
    )
    sequence = cur.fetchone()[0]
    cur.execute(
        "INSERT INTO billing_invoice (number, year, sequence, order_id, customer_id, issued_on,"
        " due_date, status, paid_on, currency, subtotal, tax, total, tax_rate, reverse_charge,"
        " seller, bill_to, lines, language, purchase_order, refund_due, created) VALUES (%s, %s,"
        " %s, %s, %s, %s, %s, 'paid', %s, 'EUR', %s, %s, %s, 0.2, false, %s, %s, %s, %s, '', 0,"
        " now())",
        [f"F-{DATE.year}-{sequence:06d}", DATE.year, sequence, order, buyer, DATE, DATE, DATE,
         amount, total - amount, total, json.dumps(SELLER),
         json.dumps({"csn": str(7000000000 + buyer), "name": f"Customer {buyer}",
                     "country": "FR"}),
         json.dumps([{"subscription": sub_id, "product": name, "seats": seats,
                      "unit_price": "1890.00", "amount": str(amount),
                      "term": [renewal.isoformat(), end.isoformat()]}]), lang],
    )  # fmt: skip
    # The outbox of R22: subscription.renewed, its stage back to active, order.paid.
    shape = json.dumps(
        {
            "object": {
                "id": sub_id,
                "renewal_date": end.isoformat(),
                "seats": seats,
                "terms": [{"start": renewal.isoformat(), "end": end.isoformat(), "order": number}],
            }
        }
    )
    order_shape = json.dumps(
        {
            "object": {
                "number": number,
                "status": "paid",
                "total": {"amount": str(total), "currency": "EUR"},
                "lines": [{"subscription": sub_id, "seats": seats}],
            }
        }
    )
    cur.execute("SELECT pg_current_xact_id()::text::bigint")
    position = cur.fetchone()[0]
    cur.execute(
        "SELECT max(sequence) FROM events_eventsubscription WHERE subscription_id = %s", [sub_id]
    )
    last = cur.fetchone()[0] or 0
    cur.execute(
        "INSERT INTO events_event (type, created, customer_ids, data, position, subscription_id,"
        " sequence) VALUES ('subscription.renewed', now(), %s, %s, %s, %s, %s),"
        " ('subscription.stage_changed', now(), %s, %s, %s, %s, %s),"
        " ('order.paid', now(), %s, %s, %s, %s, %s) RETURNING id",
        [f"[{buyer}]", shape, position, sub_id, last + 1,
         f"[{buyer}]", shape, position, sub_id, last + 2,
         f"[{buyer}]", order_shape, position, sub_id, last + 3],
    )  # fmt: skip
    event_ids = [r[0] for r in cur.fetchall()]
    cur.execute(
        "INSERT INTO events_eventsubscription (event_id, subscription_id, sequence) VALUES"
        " (%s, %s, %s), (%s, %s, %s), (%s, %s, %s)",
        [v for n, eid in enumerate(event_ids) for v in (eid, sub_id, last + 1 + n)],
    )
    cur.execute(
        "INSERT INTO core_auditevent (at, actor_label, object_type, object_id, action, data)"
        " VALUES " + ", ".join(["(now(), 'daily', 'x', %s, %s, '{}')"] * len(AUDITS)),
        [v for action in AUDITS for v in (sub_id, action)],
    )
    cur.execute(
        'INSERT INTO notifications_email (kind, dedupe_key, "to", language, subject, text,'
        " html, headers, message_id, status, attempts, refusals, last_error, created) VALUES"
        " ('order-confirmation', %s, %s, %s, 'Receipt', %s, %s, '{}', %s, 'pending', 0, 0, '',"
        " now())",
        [f"bench-receipt:{number}", email, lang, DIGEST_LINE * 8, DIGEST_LINE * 10,
         f"<{number}@bench>"],
    )  # fmt: skip
    cur.execute(
        "UPDATE lifecycle_chargeattempt SET status = 'succeeded', updated = now() WHERE id = %s",
        [attempt],
    )
    conn.commit()
