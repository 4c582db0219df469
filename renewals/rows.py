"""Subscriptions read as plain rows with what their JSON needs: API pages and events' shapes.

A page (or an event batch) is read with `.values_list()`, never as model instances: 500
instances with their five related objects cost more than the SQL that fetches them (#15). The
offers are computed by `renewal_offers` / `offer_for` over `SubscriptionRow`, which answers the
same attributes as the model and decides stage and scheduled change with the model's own code.
"""

from types import SimpleNamespace

from renewals.shapes import TermRow
from renewals.subscriptions.models import Subscription, Term

# The columns of a subscription that its JSON and its offer read.
COLUMNS = (
    "id",
    "customer_id",
    "offering_id",
    "term",
    "seats",
    "currency",
    "start_date",
    "renewal_date",
    "lapse_date",
    "auto_renew",
    "purchase_method",
    "payment_method",
    "card_id",
    "purchaser_id",
    "partner_id",
    "trial",
    "scheduled_change",
)

# The related rows' fields, read in the same query (joins; partner and card may be missing).
RELATED = (
    ("customer", ("csn", "name")),
    ("offering", ("code", "name")),
    ("purchaser", ("email",)),
    ("partner", ("name", "email", "phone")),
    ("card", ("last4",)),
)
JOINED = tuple(f"{name}__{f}" for name, fields in RELATED for f in fields)


class SubscriptionRow:
    """One subscription read as values: the model's attributes its JSON and its offer use.

    `stage_on`, `anchor_day` and `next_term_change` are the model's own (one rule, one place);
    `customer`, `offering`, `purchaser`, `partner` and `card` are small read-only records
    (`pk` and the fields of RELATED), shared by the rows that name the same one.
    """

    __slots__ = (*COLUMNS, "customer", "offering", "purchaser", "partner", "card")

    stage_on = Subscription.stage_on
    anchor_day = Subscription.anchor_day
    next_term_change = Subscription.next_term_change

    def __init__(self, values, seen: dict):
        for name, value in zip(COLUMNS, values[: len(COLUMNS)], strict=True):
            setattr(self, name, value)
        at = len(COLUMNS)
        for name, fields in RELATED:
            key = getattr(self, name + "_id")
            record = None
            if key is not None:
                record = seen.get((name, key))
                if record is None:
                    record = SimpleNamespace(
                        pk=key, **dict(zip(fields, values[at : at + len(fields)], strict=True))
                    )
                    seen[(name, key)] = record
            setattr(self, name, record)
            at += len(fields)

    @property
    def pk(self) -> str:
        return self.id


def load_rows(qs) -> tuple[list[SubscriptionRow], dict[str, list[TermRow]]]:
    """Fetch a page of subscriptions with what their JSON needs; return them and their terms.

    Queries: the page (with its related rows joined), the terms.
    """
    seen: dict = {}
    subs = [SubscriptionRow(row, seen) for row in qs.values_list(*COLUMNS, *JOINED)]
    terms: dict[str, list[TermRow]] = {s.pk: [] for s in subs}
    if subs:
        term_rows = (
            Term.objects.filter(subscription_id__in=list(terms))
            .order_by("subscription_id", "-start")
            .values_list("subscription_id", "start", "end", "order_number", "seats")
        )
        for sub_id, start, end, order_number, seats in term_rows:
            terms[sub_id].append(TermRow(start, end, order_number, seats))
    return subs, terms
