"""Re-check a stage notice under the subscription's row lock before it is queued (issue #14).

The daily run selects and loads its subscriptions, then decides their notices; a checkout can
renew one in between (the probe saw an "expired" email leave 0.8 s after the customer paid).
`still_due` locks the subscriptions of the notices about to be queued — a checkout renewing
them waits, or has committed and is seen — and drops every notice whose subscription changed
since it was loaded (renewed, lapse date moved, auto-renew switched, moved to another purchaser
or customer, card changed). Such a notice is re-decided from the new facts by the next pass of
the run (the daily run repeats hourly, R16); the lock is released with the transaction that
queues the rest.

`drop_expired_while_paying` drops, before that, the "expired" notices of subscriptions whose
renewal is already being paid (#17).
"""

from renewals.checkout.offers import pending_subscription_ids
from renewals.subscriptions.models import Subscription

from . import schedule

FACTS = (
    "renewal_date",
    "lapse_date",
    "auto_renew",
    "trial",
    "purchase_method",
    "payment_method",
    "card_id",
    "purchaser_id",
    "customer_id",
)


def still_due(ordered: list) -> list:
    """Lock the subscriptions of these ((purchaser, kind), [(sub, step)]) digests (call it in a
    transaction) and return the digests without the notices whose subscription changed."""
    ids = sorted({sub.pk for _key, items in ordered for sub, _step in items})
    fresh = {
        row["pk"]: row
        for row in Subscription.objects.select_for_update()
        .filter(pk__any=ids)
        .order_by("pk")
        .values("pk", *FACTS)
    }
    kept = []
    for key, items in ordered:
        same = [(sub, step) for sub, step in items if _unchanged(sub, fresh.get(sub.pk))]
        if same:
            kept.append((key, same))
    return kept


def _unchanged(loaded: Subscription, row: dict | None) -> bool:
    return row is not None and all(getattr(loaded, name) == row[name] for name in FACTS)


def drop_expired_while_paying(groups: dict) -> None:
    """No "expired" email for a subscription whose next term an order waiting for its payment
    holds (a konbini voucher or a transfer still valid, #17): "renew now" would be refused
    (R5 payment_pending). Not sent later either: if that payment expires, its own email says so.
    One query, only on a day with expiry notices. `groups`: {(purchaser, kind): [(sub, step)]}."""
    expiring = [key for key in groups if key[1] == schedule.SUBSCRIPTION_EXPIRED]
    if not expiring:
        return
    waiting = pending_subscription_ids(sub for key in expiring for sub, _step in groups[key])
    for key in expiring:
        groups[key] = [(sub, step) for sub, step in groups[key] if sub.pk not in waiting]
        if not groups[key]:
            del groups[key]
