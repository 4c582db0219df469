"""The import's door to subscriptions: create and update them in bulk, audited on each.

The vendor's file is the one other source of a subscription's dates and settings besides the
actions of `subscriptions/actions.py`, and this module is its only writer: a created subscription
gets the same first term as `actions.create_subscription` (`actions.first_term`, R1, R4) and an
`imported` audit event, a changed one an `imported` event with each field before and after (its
card included: the import's `set_payment_method`), a held one (R19, `guard`) an `import_held`
event and no change. Rows travel in bulk (COPY on PostgreSQL) so a 100,000-row file stays fast.
"""

from collections import Counter

from renewals.accounts.models import Card, Customer, Partner, User
from renewals.catalog.models import Offering
from renewals.core import clock

from .. import actions, rules
from ..models import Subscription, Term
from . import guard
from .bulk import (
    BATCH,
    AuditRow,
    chunks,
    fetch,
    ids_of,
    insert_audit_events,
    insert_new_rows,
    rows_where,
    upsert_rows,
)

SUBSCRIPTION_FIELDS = [
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
]
# The data of a created subscription's audit event: one dict for them all, never changed (#15).
CREATED = {"created": True}


def write_cards(plan, users: dict, summary) -> dict:
    """Create the purchasers' saved cards named by token; return {(user, gateway, token): id}."""
    wanted = {}
    for sub in plan.subscriptions:
        pay = sub["payment"]
        if pay["type"] == "card" and pay.get("token"):
            wanted[(users[sub["purchaser"]], pay["gateway"], pay["token"])] = pay["last4"]
    if not wanted:
        return {}

    def load():
        return {
            (user, gateway, token): (pk, last4, removed)
            for user, pk, gateway, token, last4, removed in rows_where(
                Card,
                "user_id",
                {u for u, _g, _t in wanted},
                ["pk", "gateway", "token", "last4", "removed"],
            )
        }

    have = load()
    new, changed = [], []
    for key, last4 in wanted.items():
        card = have.get(key)
        if card is None:
            new.append((*key, last4))
        elif card[1] != last4 and card[2] is None:
            changed.append(Card(pk=card[0], last4=last4))
    summary.add("cards", "created", len(new))
    summary.add("cards", "updated", len(changed))
    summary.add("cards", "unchanged", len(wanted) - len(new) - len(changed))
    columns = ["user_id", "gateway", "token", "last4"]
    insert_new_rows(
        Card,
        columns,
        new,
        otherwise=lambda: Card.objects.bulk_create(
            [Card(**dict(zip(columns, row, strict=True))) for row in new], batch_size=BATCH
        ),
        defaults=True,
    )
    Card.objects.bulk_update(changed, ["last4"], batch_size=BATCH)
    if new:
        have = load()
    # A card its owner removed in the portal is neither revived nor assigned again.
    return {key: card[0] for key, card in have.items() if card[2] is None}


def write_subscriptions(plan, summary, *, today, actor_label: str = "import") -> None:
    """Create and update the plan's subscriptions, hold what R19 protects; audit each."""
    subs = plan.subscriptions
    if not subs:
        return
    customers = ids_of(Customer, "csn", {s["csn"] for s in subs})
    offerings = ids_of(Offering, "code", {s["offering"] for s in subs})
    partners = ids_of(Partner, "code", {s["partner"] for s in subs if s["partner"]})
    users = ids_of(User, "email", {s["purchaser"] for s in subs})
    cards = write_cards(plan, users, summary)
    existing = fetch(Subscription, "id", [s["id"] for s in subs], SUBSCRIPTION_FIELDS)
    # R19: lock the rows whose dates change, then hold those that would undo a paid term or
    # break a pending payment; they stay exactly as they are and are reported.
    guard.lock_and_refresh(guard.date_changes(subs, existing), existing, SUBSCRIPTION_FIELDS)
    held = guard.held_rows(subs, existing, today=today)

    # The rows not in the table when it was read (`created`) and the changed ones go apart: the
    # former by COPY straight into the table on PostgreSQL (`insert_new_rows`, #15).
    created, changed = [], []
    audits, new_terms, moved = guard.audit_held(held, actor_label=actor_label), [], {}
    now = clock.now()
    label = Subscription._meta.label_lower
    outcomes = Counter()
    # Rows repeat their dates and term: each first term is computed once (#15).
    first_terms = {}
    # Attributes of the planned rows, read directly: 20,000 rows are 500,000 reads (#15).
    for row in subs:
        sub_id = row.id
        if sub_id in held:
            outcomes["unchanged"] += 1
            summary.held.append(f"{row.get('path', '$.subscriptions')} ({sub_id}): {held[sub_id]}")
            continue
        pay = row.payment
        purchaser = users[row.purchaser]
        old = existing.get(sub_id)
        card = None
        if pay["type"] == "card":
            if pay.get("token"):
                card = cards.get((purchaser, pay["gateway"], pay["token"]))
            elif old and old["payment_method"] == "card" and old["purchaser_id"] == purchaser:
                card = old["card_id"]  # a card assigned in the portal survives a token-less file
        start, renewal, term = row.start_date, row.renewal_date, row.term
        values = (
            customers[row.csn],
            offerings[row.offering],
            term,
            row.seats,
            row.currency,
            start,
            renewal,
            # R2: the expiry process starts at D; an overdue invoice's earlier date is kept
            # whatever the file says of D (R9, R19).
            rules.import_lapse_date(
                old_lapse=old["lapse_date"] if old else None,
                old_renewal=old["renewal_date"] if old else None,
                new_renewal=renewal,
            ),
            row.auto_renew,
            row.purchase_method,
            pay["type"],
            card,
            purchaser,
            partners[row.partner] if row.partner else None,
            row.trial,
        )
        key = (start, renewal, term)
        current = first_terms.get(key)
        if current is None:
            current = first_terms[key] = actions.first_term(start, renewal, term)[0]
        if old is None:
            outcomes["created"] += 1
            new_terms.append((sub_id, current, renewal, row.seats))
            audits.append(AuditRow(actor_label, label, sub_id, "imported", CREATED))
            created.append((sub_id, *values, now))
            continue
        changes = {
            f: [_jsonable(old[f]), _jsonable(value)]
            for f, value in zip(SUBSCRIPTION_FIELDS, values, strict=True)
            if old[f] != value
        }
        if not changes:
            outcomes["unchanged"] += 1
            continue
        outcomes["updated"] += 1
        audits.append(AuditRow(actor_label, label, sub_id, "imported", {"changes": changes}))
        if {"start_date", "renewal_date", "term"} & changes.keys():
            moved[sub_id] = (current, renewal)
        changed.append((sub_id, *values, now))
    for outcome, n in outcomes.items():
        summary.add("subscriptions", outcome, n)
    columns = ["id", *SUBSCRIPTION_FIELDS, "updated"]
    upsert_rows(Subscription, columns, changed, conflict=["id"], update=columns[1:])
    insert_new_rows(
        Subscription,
        columns,
        created,
        otherwise=lambda: upsert_rows(
            Subscription, columns, created, conflict=["id"], update=columns[1:]
        ),
    )
    created.clear()  # not held through the terms' and audit rows' writes (#15)
    changed.clear()
    upsert_rows(
        Term,
        ["subscription_id", "start", "end", "order_number", "source", "created", "seats"],
        # One row at a time into the COPY, not a second list of them all (#15).
        ((sub_id, start, end, "", "import", now, seats) for sub_id, start, end, seats in new_terms)
        if new_terms
        else [],
        conflict=None,
        update=[],
    )
    summary.add("terms", "created", len(new_terms))
    realign_terms(moved, summary)
    insert_audit_events(audits)


def realign_terms(moved: dict, summary) -> None:
    """Make the term history end with one current term `[start, D)` after D moved (R4).

    Imported terms that overlap or follow the new current term are dropped; terms paid by
    orders are history and stay.
    """
    if not moved:
        return
    have: dict[str, list[Term]] = {}
    for part in chunks(moved):
        for term in Term.objects.filter(subscription_id__in=part):
            have.setdefault(term.subscription_id, []).append(term)
    drop, stretch, add = [], [], []
    for sub_id, (start, end) in moved.items():
        same = None
        for term in have.get(sub_id, []):
            if term.start == start:
                same = term
            elif term.source == "import" and term.end > start:
                drop.append(term.pk)
        if same is None:
            add.append(Term(subscription_id=sub_id, start=start, end=end, source="import"))
        elif same.end != end:
            same.end = end
            stretch.append(same)
    for part in chunks(drop):
        Term.objects.filter(pk__in=part).delete()
    Term.objects.bulk_update(stretch, ["end"], batch_size=BATCH)
    Term.objects.bulk_create(add, batch_size=BATCH)
    summary.add("terms", "created", len(add))
    summary.add("terms", "updated", len(stretch))


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
