"""The import's money guard (R19): rows that would undo a paid term or break a pending payment.

Re-importing the vendor's file is meant to be safe. A row is *held* — left exactly as it is in
the database, reported with its JSON path and why, and audited on the subscription — when:

- it moves the renewal date back before the end of a term paid through the product (a Term row
  with an order number: an order or an automatic charge): the paid term would be lost and could
  never be paid again; or it keeps that end as D but names another term than the one paid (the
  term of before a change at that renewal, R21);
- it changes the renewal date, start date or term while an order is waiting for its payment
  (konbini voucher, bank transfer, 3-D Secure): that payment could then renew nothing;
- it would bring back a subscription that is cancelled on the day of the import (R2: final).

The rest of the file imports. The decision is `subscriptions.rules.import_hold` (pure); this
module gathers its inputs in a fixed number of queries and locks the rows whose dates change, so
a renewal paid while the import runs is seen before the import writes.
"""

from django.apps import apps
from django.db.models import Max

from .. import periods, rules
from ..models import Subscription, Term
from .bulk import AuditRow

DATE_FIELDS = ("start_date", "renewal_date", "term", "trial")
CHUNK = 5000


def _chunks(items):
    items = list(items)
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def date_changes(rows: list[dict], existing: dict) -> list[str]:
    """Return the ids of existing subscriptions whose dates or term the file changes."""
    return [
        row["id"]
        for row in rows
        if row["id"] in existing and any(existing[row["id"]][f] != row[f] for f in DATE_FIELDS)
    ]


def lock_and_refresh(ids: list[str], existing: dict, fields: list[str]) -> None:
    """Lock the subscriptions whose dates change (id order, as the renewal door does) and reload
    their values into `existing`: what a renewal committed meanwhile is what the guard judges."""
    for part in _chunks(sorted(ids)):
        rows = (
            Subscription.objects.select_for_update()
            .filter(pk__in=part)
            .order_by("pk")
            .values("id", *fields)
        )
        for row in rows:
            existing[row["id"]] = row


def held_rows(rows: list[dict], existing: dict, *, today) -> dict[str, str]:
    """Return {subscription id: why} for the rows the import must leave unchanged (R19).

    `today` is the business day of the import: a subscription cancelled on it stays cancelled.
    """
    changing = date_changes(rows, existing)
    if not changing:
        return {}
    paid_until, paid_by, paid_term, open_orders = {}, {}, {}, {}
    for part in _chunks(changing):
        for sub_id, end in (
            Term.objects.filter(subscription_id__in=part)
            .exclude(order_number="")
            .values("subscription_id")
            .annotate(end=Max("end"))
            .values_list("subscription_id", "end")
        ):
            paid_until[sub_id] = end
        for sub_id, start, end, number in (
            Term.objects.filter(subscription_id__in=part)
            .exclude(order_number="")
            .values_list("subscription_id", "start", "end", "order_number")
        ):
            if paid_until.get(sub_id) == end:
                paid_by[sub_id] = number
                paid_term[sub_id] = _term_of(start, end)
        # checkout is a layer above subscriptions: its model is looked up, never imported.
        order_line = apps.get_model("checkout", "OrderLine")
        for sub_id, number, start in (
            order_line.objects.filter(subscription_id__in=part, holds_term=True)
            .exclude(order__status__in=("paid", "invoiced"))  # fulfilled, not open
            .values_list("subscription_id", "order__number", "term_start")
        ):
            open_orders[sub_id] = (number, start)
    held = {}
    by_id = {row["id"]: row for row in rows}
    for sub_id in changing:
        row, old = by_id[sub_id], existing[sub_id]
        new_lapse = rules.import_lapse_date(
            old_lapse=old["lapse_date"],
            old_renewal=old["renewal_date"],
            new_renewal=row["renewal_date"],
        )
        reason = rules.import_hold(
            new_renewal_date=row["renewal_date"],
            dates_change=True,
            paid_until=paid_until.get(sub_id),
            open_order=sub_id in open_orders,
            cancelled_now=rules.stage_on(
                old["lapse_date"], old["term"], trial=old["trial"], today=today
            )
            == rules.CANCELLED,
            cancelled_after=rules.stage_on(new_lapse, row["term"], trial=row["trial"], today=today)
            == rules.CANCELLED,
            new_term=row["term"],
            paid_term=paid_term.get(sub_id),
        )
        if reason == rules.HELD_CANCELLED:
            cancelled_on = rules.stage_dates(old["lapse_date"], old["term"], trial=old["trial"])
            held[sub_id] = (
                f"left unchanged: the subscription was cancelled on "
                f"{cancelled_on[rules.CANCELLED]} and a cancelled subscription is never "
                "reactivated (R2); import it under a new id to start a new subscription"
            )
        elif reason == rules.HELD_PAID_TERM and row["renewal_date"] == paid_until[sub_id]:
            held[sub_id] = (
                f"left unchanged: the term {row['term']} would undo the {paid_term[sub_id]} "
                f"term up to {paid_until[sub_id]} paid by order {paid_by.get(sub_id) or '?'} "
                f"(its term stays {old['term']})"
            )
        elif reason == rules.HELD_PAID_TERM:
            held[sub_id] = (
                f"left unchanged: the renewal date {row['renewal_date']} would undo the term up "
                f"to {paid_until[sub_id]} paid by order {paid_by.get(sub_id) or '?'} "
                f"(its renewal date stays {old['renewal_date']})"
            )
        elif reason == rules.HELD_OPEN_ORDER:
            number, start = open_orders[sub_id]
            held[sub_id] = (
                f"left unchanged: order {number} is waiting for its payment of the term starting "
                f"{start}; changing the dates now would leave that payment renewing nothing "
                "(import again once it is paid or expired)"
            )
    return held


def _term_of(start, end) -> str | None:
    try:
        return periods.term_of(start, end)
    except ValueError:
        return None


def audit_held(held: dict[str, str], *, actor_label: str) -> list[AuditRow]:
    """Return the audit events of the held rows, recorded on each subscription."""
    return [
        AuditRow(
            actor_label=actor_label,
            object_type=Subscription._meta.label_lower,
            object_id=sub_id,
            action="import_held",
            data={"why": why},
        )
        for sub_id, why in held.items()
    ]
