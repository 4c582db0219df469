"""The writes of the cart (R7, R21): add, change, remove, clear — each one door with an audit event."""

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction

from renewals.catalog.models import TERM_CODES
from renewals.core import audit
from renewals.core.errors import DomainError, NotFound
from renewals.subscriptions import rules
from renewals.subscriptions.actions import ChangeRefused
from renewals.subscriptions.models import Subscription

from .cart import CartItem
from .models import CartLine, CartLineChange
from .offers import Offer, max_seats, renewal_offers

NOT_FOUND = "not_found"


@dataclass
class AddResult:
    added: list[str] = field(default_factory=list)
    rejected: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


def _possible_id(value: str) -> bool:
    return 0 < len(value) <= Subscription._meta.pk.max_length and "\x00" not in value


# The cart line fields `_snapshot` writes: what the user was shown (R6).
SNAPSHOT_FIELDS = ["seats", "unit_price", "currency", "price_kind", "term_start", "term_end"]


def _snapshot(line: CartLine, offer: Offer) -> CartLine:
    """Copy what the user is shown now into the cart line (R6: the price seen is the price paid)."""
    sub = offer.subscription
    line.seats = offer.seats
    line.unit_price = offer.unit_price.amount
    line.currency = sub.currency
    line.price_kind = offer.price_kind
    line.term_start, line.term_end = offer.next_term
    return line


def too_many_error(count: int) -> DomainError:
    return DomainError(
        "too_many",
        variant="cart",
        max=rules.AT_ONCE_LIMIT,
        count=count,
        details=[{"limit": rules.AT_ONCE_LIMIT, "would_be": count}],
    )


@transaction.atomic
def add_to_cart(*, user, subscription_ids: list[str], today: date) -> AddResult:
    """Add renewals to the user's cart; refuse the ineligible with every R5 reason (R7).

    Ids the user may not see are rejected as "not_found" (never revealing they exist). A
    subscription already in the cart gets its snapshot refreshed. If the cart would exceed 100
    lines, DomainError "too_many" is raised and nothing is added. Runs in a fixed number of
    queries whatever the number of ids.
    """
    ids = list(dict.fromkeys(str(i) for i in subscription_ids))
    if len(ids) > rules.AT_ONCE_LIMIT:
        raise too_many_error(len(ids))
    # Serialise the cart writes of one user so that two tabs cannot pass 100 together.
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))
    # An id no subscription can have (too long, a NUL byte PostgreSQL refuses) is simply not
    # found: it never reaches the database.
    candidates = [i for i in ids if _possible_id(i)]
    subs = list(
        Subscription.objects.visible_to(user)
        .filter(pk__in=candidates)
        .select_related("customer", "offering", "partner", "purchaser")
    )
    existing = {
        line.subscription_id: line
        for line in CartLine.objects.filter(user=user).select_related("chosen")
    }
    # A line already in the cart keeps the change chosen for it (R21).
    changes = {i: ln.change for i, ln in existing.items() if ln.change is not None}
    offers = renewal_offers(subs, user=user, today=today, changes=changes)
    result = AddResult()
    new_lines, refreshed = [], []
    for sub_id in ids:
        offer = offers.get(sub_id)
        if offer is None:
            result.rejected.append((sub_id, (NOT_FOUND,)))
        elif not offer.eligible:
            result.rejected.append((sub_id, offer.reasons))
        elif sub_id in existing:
            refreshed.append(_snapshot(existing[sub_id], offer))
            result.added.append(sub_id)
        else:
            new_lines.append(_snapshot(CartLine(user=user, subscription=offer.subscription), offer))
            result.added.append(sub_id)
    count = len(existing) + len(new_lines)
    if count > rules.AT_ONCE_LIMIT:
        raise too_many_error(count)
    if new_lines:
        CartLine.objects.bulk_create(new_lines)
    if refreshed:
        CartLine.objects.bulk_update(refreshed, SNAPSHOT_FIELDS)
    if result.added:
        audit.record(user, action="cart_added", actor=user, subscriptions=result.added)
    return result


@transaction.atomic
def refresh_cart_lines(*, user, offers: list[Offer]) -> int:
    """Store the current price and term of these cart lines (after a price-change refusal, R6)."""
    by_id = {o.subscription.pk: o for o in offers if o.unit_price is not None}
    lines = list(CartLine.objects.filter(user=user, subscription_id__in=by_id))
    for line in lines:
        _snapshot(line, by_id[line.subscription_id])
    CartLine.objects.bulk_update(lines, SNAPSHOT_FIELDS)
    return len(lines)


def check_change(sub: Subscription, offer: Offer, *, seats, term) -> None:
    """Refuse a change of the next term's seats or term with every reason (R21)."""
    limit = max_seats(sub.offering)
    reasons = rules.change_refusals(
        seats=seats,
        term=term,
        max_seats=limit,
        sold_terms=set(offer.sold_terms),
        purchase_method=sub.purchase_method,
        trial=sub.trial,
    )
    if reasons:
        raise ChangeRefused(reasons, max_seats=limit, sold_terms=offer.sold_terms)


@transaction.atomic
def change_cart_line(
    *, user, subscription_id: str, seats: int | None = None, term: str | None = None, today: date
) -> CartItem:
    """Change the seats and/or term the next term of a cart line is bought for (R21).

    None keeps a value as it is. Refusals (ChangeRefused, 422) change nothing; a subscription
    not in the user's cart is NotFound. On success the line stores the change and what the user
    is now shown (price, kind, term dates) — the snapshot checkout compares with (R6). Nothing
    changes on the subscription until the order is paid.
    """
    if not _possible_id(str(subscription_id)):
        raise NotFound("cart_line")
    line = (
        CartLine.objects.select_for_update(of=("self",))
        .filter(
            user=user,
            subscription_id=subscription_id,
            subscription__in=Subscription.objects.visible_to(user).values("pk"),
        )
        .select_related("subscription__customer", "subscription__offering", "chosen")
        .first()
    )
    if line is None:
        raise NotFound("cart_line")
    sub = line.subscription
    if term is not None and term not in TERM_CODES:
        raise DomainError("invalid_term")
    current = renewal_offers([sub], user=user, today=today, changes={sub.pk: line.change})[sub.pk]
    check_change(sub, current, seats=seats, term=term)
    old = line.change
    new_seats = seats if seats is not None else (old[0] if old else None)
    new_term = term if term is not None else (old[1] if old else None)
    chosen = {sub.pk: (new_seats, new_term)}
    offer = renewal_offers([sub], user=user, today=today, changes=chosen)[sub.pk]
    # Orphans: changes of this user's lines that were deleted since (see CartLineChange).
    CartLineChange.objects.filter(user=user).exclude(
        line_id__in=CartLine.objects.filter(user=user).values("pk")
    ).delete()
    CartLineChange.objects.update_or_create(
        line_id=line.pk, defaults={"user": user, "seats": new_seats, "term": new_term}
    )
    if offer.unit_price is not None:
        _snapshot(line, offer)
        line.save(update_fields=SNAPSHOT_FIELDS)
    audit.record(
        user,
        action="cart_changed",
        actor=user,
        subscription=sub.pk,
        before=list(old) if old else None,
        seats=offer.seats,
        term=offer.term,
    )
    return CartItem(line=line, subscription=sub, offer=offer)


@transaction.atomic
def remove_from_cart(*, user, subscription_id: str) -> bool:
    """Remove one subscription from the user's cart; return whether it was there."""
    if not _possible_id(str(subscription_id)):
        return False
    deleted, _detail = CartLine.objects.filter(user=user, subscription_id=subscription_id).delete()
    if deleted:
        audit.record(user, action="cart_removed", actor=user, subscription=subscription_id)
    return bool(deleted)


@transaction.atomic
def clear_cart(*, user) -> int:
    """Empty the user's cart; return how many lines were removed."""
    deleted, _detail = CartLine.objects.filter(user=user).delete()
    if deleted:
        audit.record(user, action="cart_cleared", actor=user, lines=deleted)
    return deleted
