"""The writes of the cart (R7): add, remove, clear — each one door with an audit event."""

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction

from renewals.core import audit
from renewals.core.errors import DomainError
from renewals.subscriptions.models import Subscription

from .models import CartLine
from .offers import Offer, renewal_offers

MAX_CART_LINES = 100  # R7: a cart, and a bulk selection, holds at most 100 subscriptions

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
    line.seats = sub.seats
    line.unit_price = offer.unit_price.amount
    line.currency = sub.currency
    line.price_kind = offer.price_kind
    line.term_start, line.term_end = offer.next_term
    return line


def too_many_error(count: int) -> DomainError:
    return DomainError(
        f"A cart holds at most {MAX_CART_LINES} subscriptions; this would make {count}. "
        "Nothing was added.",
        code="too_many",
        status=422,
        details=[{"limit": MAX_CART_LINES, "would_be": count}],
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
    if len(ids) > MAX_CART_LINES:
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
    offers = renewal_offers(subs, user=user, today=today)
    existing = {line.subscription_id: line for line in CartLine.objects.filter(user=user)}
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
    if count > MAX_CART_LINES:
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
