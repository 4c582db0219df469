"""The daily run's essential writes by hand (raw psycopg): the baseline of bench/daily_run.py.

`baseline(params)` writes what a run of DATE must write, with nothing else: the stage-change
events of the window (`stage_events_by_hand`), then per chunk of ~500 due rows the notices and
digest emails, and per automatic charge its rows (bench/daily_charge_by_hand.py).
"""

import json
from datetime import date, timedelta
from decimal import Decimal

from bench.common import raw_connection
from bench.daily_charge_by_hand import charge_by_hand
from bench.daily_fixture import DATE, DIGEST_LINE, RAW_DUE_SQL, due_step


def values(rows: list[tuple], width: int) -> str:
    """Return the VALUES of a multi-row INSERT of `rows`, `width` columns each, then now()."""
    one = "(" + ", ".join(["%s"] * width) + ", now())"
    return ", ".join([one] * len(rows))


STAGE_SQL = """
SELECT s.id, s.customer_id, s.term, s.seats, s.currency, s.start_date, s.renewal_date,
       s.lapse_date, s.auto_renew, s.purchase_method, s.payment_method, s.trial, c.csn, c.name,
       o.code, o.name, u.email, k.last4
FROM subscriptions_subscription s JOIN accounts_customer c ON c.id = s.customer_id
JOIN catalog_offering o ON o.id = s.offering_id JOIN accounts_user u ON u.id = s.purchaser_id
LEFT JOIN accounts_card k ON k.id = s.card_id
WHERE s.id = ANY(%s)
"""


def stage_events_by_hand(conn, cur, today: date, batch: int = 1000) -> int:
    """The `subscription.stage_changed` events of a run's window (R22), by hand, per batch of
    1,000 (as the run): the ids that entered expired, suspended or cancelled (indexed lapse
    dates), their rows with customer, offering, purchaser and card, their terms, the dedupe keys
    already taken, the last sequence of each, the transaction id, one multi-row INSERT of the
    events (the subscription's API shape as data) and one of their subjects, one COMMIT."""
    cur.execute(
        "SELECT id FROM subscriptions_subscription WHERE lapse_date = %(today)s"
        " OR (NOT trial AND lapse_date = %(suspended)s)"
        " OR (NOT trial AND term = 'monthly' AND lapse_date = %(monthly)s)"
        " OR (NOT trial AND term IN ('annual', 'three_year') AND lapse_date = %(annual)s)"
        " ORDER BY id",
        {"today": today, "suspended": today - timedelta(days=15),
         "monthly": today - timedelta(days=30), "annual": today - timedelta(days=45)},
    )  # fmt: skip
    ids = [r[0] for r in cur.fetchall()]
    written = 0
    for start in range(0, len(ids), batch):
        part = ids[start : start + batch]
        cur.execute(STAGE_SQL, [part])
        rows = cur.fetchall()
        cur.execute(
            'SELECT subscription_id, start, "end", order_number, seats FROM subscriptions_term'
            " WHERE subscription_id = ANY(%s) ORDER BY subscription_id, start DESC",
            [part],
        )
        cur.fetchall()
        keys = {}
        for row in rows:
            back = (today - row[7]).days
            stage = "expired" if back == 0 else "suspended" if back == 15 else "cancelled"
            keys[row[0]] = (f"stage:{row[0]}:{row[7].isoformat()}:{stage}", stage)
        cur.execute(
            "SELECT dedupe_key FROM events_event WHERE dedupe_key = ANY(%s)",
            [[k for k, _stage in keys.values()]],
        )
        taken = {r[0] for r in cur.fetchall()}
        cur.execute(
            "SELECT subscription_id, max(sequence) FROM events_eventsubscription"
            " WHERE subscription_id = ANY(%s) GROUP BY subscription_id",
            [part],
        )
        last = dict(cur.fetchall())
        cur.execute("SELECT pg_current_xact_id()::text::bigint")
        position = cur.fetchone()[0]
        events = []
        for row in rows:
            key, stage = keys[row[0]]
            if key in taken:
                continue
            events.append((row, key, stage, last.get(row[0], 0) + 1))
        if not events:
            conn.commit()
            continue
        cur.execute(
            "INSERT INTO events_event (type, created, customer_ids, data, position, dedupe_key,"
            " subscription_id, sequence) VALUES "
            + ", ".join(["('subscription.stage_changed', now(), %s, %s, %s, %s, %s, %s)"] * len(events))
            + " RETURNING id",
            [v for row, key, stage, seq in events
             for v in (json.dumps([row[1]]), json.dumps(stage_shape(row, stage, today)), position,
                       key, row[0], seq)],
        )  # fmt: skip
        event_ids = [r[0] for r in cur.fetchall()]
        cur.execute(
            "INSERT INTO events_eventsubscription (event_id, subscription_id, sequence) VALUES "
            + ", ".join(["(%s, %s, %s)"] * len(events)),
            [v for eid, (row, _k, _s, seq) in zip(event_ids, events, strict=True)
             for v in (eid, row[0], seq)],
        )  # fmt: skip
        conn.commit()
        written += len(events)
    return written


BEFORE = {"expired": "active", "suspended": "expired", "cancelled": "suspended"}


def stage_shape(row: tuple, stage: str, today: date) -> dict:
    """The event's data: the subscription's API fields (interfaces.md), filled by hand."""
    (sub_id, _customer, term, seats, currency, start, renewal, _lapse, auto, purchase, method,
     trial, csn, customer_name, code, product, email, last4) = row  # fmt: skip
    amount = f"{Decimal('2100.00') * seats:.2f}"
    return {
        "object": {
            "id": sub_id, "csn": csn, "customer_name": customer_name,
            "product": {"code": code, "name": product}, "term": term, "seats": seats,
            "currency": currency, "start_date": start.isoformat(),
            "renewal_date": renewal.isoformat(), "stage": stage,
            "access": stage == "expired", "auto_renew": auto, "purchase_method": purchase,
            "payment_method": {"type": method, "last4": last4}, "purchaser": email,
            "partner": None, "trial": trial,
            "renewal": {
                "eligible": stage != "cancelled", "reasons": [], "window_opens": None,
                "window_closes": None, "unit_price": {"amount": "2100.00", "currency": currency},
                "price": {"amount": amount, "currency": currency}, "price_kind": "list",
                "seats": seats, "term": term,
                "next_term": {"start": renewal.isoformat(), "end": renewal.isoformat()},
            },
            "terms": [],
        },
        "previous_attributes": {"stage": BEFORE[stage], "access": BEFORE[stage] == "active"
                                or BEFORE[stage] == "expired"},
    }  # fmt: skip


def baseline(params: dict, chunk_size: int = 500) -> dict:
    """The daily run's essential writes by hand, raw psycopg, one commit per chunk / charge.

    First the stage-change events of the window (`stage_events_by_hand`). Then select the
    due ids (the indexed date query), then per chunk of ~500 (purchasers never
    split): load the rows with their purchaser, read the notices already sent, INSERT one
    digest email per purchaser and kind (a text of the digest's size, html alike) and one
    Notice per row, COMMIT. Per automatic charge: claim the attempt (COMMIT), the order, line
    and payment (COMMIT), the gateway's row, then the payment and order paid, the term, the new
    dates, the audit rows, the receipt and the attempt settled (COMMIT).
    """
    counts = {"notices": 0, "emails": 0, "charges": 0}
    with raw_connection() as conn, conn.cursor() as cur:
        counts["stage_events"] = stage_events_by_hand(conn, cur, params["today"])
        cur.execute(RAW_DUE_SQL, params)
        rows = cur.fetchall()
        chunks, current, last = [], [], None
        for purchaser, sub_id in rows:
            if len(current) >= chunk_size and purchaser != last:
                chunks.append(current)
                current = []
            current.append(sub_id)
            last = purchaser
        chunks += [current] if current else []
        for ids in chunks:
            cur.execute(
                "SELECT s.id, s.purchaser_id, s.renewal_date, s.lapse_date, s.term, s.seats,"
                " s.auto_renew, s.card_id, u.email, u.language, o.name FROM"
                " subscriptions_subscription s JOIN accounts_user u ON u.id = s.purchaser_id"
                " JOIN catalog_offering o ON o.id = s.offering_id WHERE s.id = ANY(%s)",
                [ids],
            )
            subs = cur.fetchall()
            cur.execute(
                "SELECT subscription_id, term_end, step FROM lifecycle_notice"
                " WHERE subscription_id = ANY(%s)",
                [ids],
            )
            sent = set(cur.fetchall())
            charged = [s for s in subs if s[6] and s[2] == DATE]
            for sub in charged:
                charge_by_hand(conn, cur, sub)
                counts["charges"] += 1
            groups: dict[tuple[int, str], list[tuple]] = {}
            for sub in subs:
                step = due_step(sub[2], sub[3], sub[4])
                if step and (sub[0], sub[2], step) not in sent and sub not in charged:
                    groups.setdefault((sub[1], step.split("@")[0]), []).append((sub, step))
            if not groups:
                continue
            emails = [
                (
                    kind, f"bench:{kind}:{buyer}:{DATE}", items[0][0][8], items[0][0][9],
                    f"{kind} ({len(items)})", DIGEST_LINE * len(items),
                    f"<li>{DIGEST_LINE}</li>" * len(items), "{}",
                    f"<{kind}.{buyer}.{DATE}@bench>", "pending", 0, 0, "",
                )
                for (buyer, kind), items in groups.items()
            ]  # fmt: skip
            cur.execute(
                'INSERT INTO notifications_email (kind, dedupe_key, "to", language, subject,'
                " text, html, headers, message_id, status, attempts, refusals, last_error,"
                " created) VALUES " + values(emails, 13) + " RETURNING id",
                [v for row in emails for v in row],
            )
            email_ids = [r[0] for r in cur.fetchall()]
            notices = [
                (sub[0], sub[2], step, kind, DATE, email_id)
                for ((_b, kind), items), email_id in zip(groups.items(), email_ids, strict=True)
                for sub, step in items
            ]
            cur.execute(
                "INSERT INTO lifecycle_notice (subscription_id, term_end, step, kind,"
                " business_date, email_id, created) VALUES " + values(notices, 6),
                [v for row in notices for v in row],
            )
            conn.commit()
            counts["notices"] += len(notices)
            counts["emails"] += len(emails)
    return counts
