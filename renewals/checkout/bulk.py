"""A bulk selection from the subscriptions list, as it would be renewed (R7, R8). Read only.

The selection (at most 100 subscriptions) is grouped exactly like the cart — by CSN, currency
and purchase method, priced and taxed by `cart.build_groups` — so the review page shows the same
amounts the checkout will charge. The ones that cannot be renewed are kept apart with every R5
reason. Nothing is written: the user then puts the ticked lines of one group into the cart
(`actions.add_to_cart`) and checks that group out.
"""

from dataclasses import dataclass, field
from datetime import date

from renewals.core.errors import DomainError
from renewals.subscriptions.models import Subscription
from renewals.subscriptions.rules import AT_ONCE_LIMIT

from .cart import CartGroup, CartItem, build_groups
from .cart_actions import NOT_FOUND, _snapshot
from .grouping import group_key
from .models import CartLine
from .offers import Offer, renewal_offers


@dataclass(frozen=True)
class Refusal:
    """A selected subscription that cannot be renewed now, with every reason (R5)."""

    id: str
    reasons: tuple[str, ...]
    subscription: Subscription | None = None  # None when the user may not see it
    offer: Offer | None = None


@dataclass
class BulkSelection:
    groups: list[CartGroup] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    in_cart: dict[str, int] = field(default_factory=dict)  # group key → other lines already there

    @property
    def ids(self) -> list[str]:
        """Every selected id, renewable or not, in selection order within groups then refusals."""
        return [i.subscription.pk for g in self.groups for i in g.lines] + [
            r.id for r in self.refused
        ]

    def group(self, key: str) -> CartGroup | None:
        return next((g for g in self.groups if g.key == key), None)


def selection_ids(subscription_ids) -> list[str]:
    """Return the distinct non-empty ids in their order; refuse more than 100 (R7, R8)."""
    ids = list(dict.fromkeys(str(i).strip() for i in subscription_ids if str(i).strip()))
    if len(ids) > AT_ONCE_LIMIT:
        raise DomainError(
            "too_many",
            variant="selection",
            max=AT_ONCE_LIMIT,
            count=len(ids),
            details=[{"limit": AT_ONCE_LIMIT, "selected": len(ids)}],
        )
    return ids


def bulk_selection(*, user, subscription_ids, today: date) -> BulkSelection:
    """Group a selection of at most 100 subscriptions for renewal, as the cart would (R7, R8).

    Ids the user may not see are refused as "not_found" (never revealing that they exist); the
    ineligible are refused with their R5 reasons. Six queries whatever the selection's size.
    """
    ids = selection_ids(subscription_ids)
    if not ids:
        return BulkSelection()
    found = {
        s.pk: s
        for s in Subscription.objects.visible_to(user)
        .filter(pk__in=ids)
        .select_related("customer", "offering", "partner", "purchaser")
    }
    offers = renewal_offers(found.values(), user=user, today=today)
    items, refused = [], []
    for sub_id in ids:
        offer = offers.get(sub_id)
        if offer is None:
            refused.append(Refusal(id=sub_id, reasons=(NOT_FOUND,)))
        elif not offer.eligible or offer.price is None:
            refused.append(
                Refusal(id=sub_id, reasons=offer.reasons, subscription=found[sub_id], offer=offer)
            )
        else:
            # An unsaved cart line: the snapshot the cart would store if the line were added now.
            line = _snapshot(CartLine(user=user, subscription=offer.subscription), offer)
            items.append(CartItem(line=line, subscription=offer.subscription, offer=offer))
    groups = build_groups(items)
    return BulkSelection(groups=groups, refused=refused, in_cart=_others_in_cart(user, groups, ids))


def _others_in_cart(user, groups: list[CartGroup], ids: list[str]) -> dict[str, int]:
    """Count the cart lines of each group that are not in the selection (one query).

    A checkout pays a whole cart group (R7): the review page says when lines added earlier will
    be paid together with the selection.
    """
    if not groups:
        return {}
    counts: dict[str, int] = {}
    rows = (
        CartLine.objects.filter(
            user=user,
            subscription__in=Subscription.objects.visible_to(user).values("pk"),
            subscription__customer__csn__in={g.csn for g in groups},
        )
        .exclude(subscription_id__in=ids)
        .values_list(
            "subscription__customer__csn", "subscription__currency", "subscription__purchase_method"
        )
    )
    keys = {g.key for g in groups}
    for csn, currency, purchase_method in rows:
        key = group_key(csn, currency, purchase_method)
        if key in keys:
            counts[key] = counts.get(key, 0) + 1
    return counts
