"""What renewing each subscription would mean for a user today: stage, eligibility, price, term.

One function serves the portal, the API, `renewals show`, the cart and bulk actions, in a fixed
number of queries whatever the number of subscriptions (prices and open orders are fetched in
one statement each).
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from renewals.catalog.models import Price
from renewals.core.money import Money, money
from renewals.subscriptions import periods, rules
from renewals.subscriptions.models import Subscription

from .models import OPEN_STATUSES, OrderLine
from .pricing import line_amount


@dataclass(frozen=True)
class Offer:
    subscription: Subscription
    stage: str
    access: bool
    eligibility: rules.Eligibility
    price_kind: str | None
    unit_price: Money | None
    price: Money | None
    next_term: tuple[date, date]

    @property
    def eligible(self) -> bool:
        return self.eligibility.eligible

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.eligibility.reasons


def active_prices(subscriptions) -> dict[tuple[int, str, str], Price]:
    """Return the active catalogue price of each (offering, term, currency) in one query."""
    combos = {(s.offering_id, s.term, s.currency) for s in subscriptions}
    if not combos:
        return {}
    match = Q()
    for offering_id, term, currency in combos:
        match |= Q(offering_id=offering_id, term=term, currency=currency)
    return {
        (p.offering_id, p.term, p.currency): p for p in Price.objects.filter(match, active=True)
    }


def pending_subscription_ids(subscriptions) -> set[str]:
    """Return the ids whose next term is held by an order waiting for payment (R5)."""
    subs = list(subscriptions)
    if not subs:
        return set()
    rows = OrderLine.objects.filter(
        subscription_id__in=[s.pk for s in subs],
        holds_term=True,
        order__status__in=OPEN_STATUSES,
    ).values_list("subscription_id", "term_start")
    next_starts = {s.pk: s.renewal_date for s in subs}
    return {sub_id for sub_id, start in rows if next_starts.get(sub_id) == start}


def offer_for(
    sub: Subscription,
    *,
    user,
    today: date,
    price: Price | None,
    pending: bool,
    automatic: bool = False,
) -> Offer:
    """Decide one subscription's renewal offer from values already fetched (no query)."""
    stage = sub.stage_on(today)
    eligibility = rules.renewal_eligibility(
        is_purchaser=automatic or (user is not None and sub.purchaser_id == user.pk),
        purchase_method=sub.purchase_method,
        trial=sub.trial,
        stage=stage,
        renewal_date=sub.renewal_date,
        lapse_date=sub.lapse_date,
        term=sub.term,
        payment_pending=pending,
        sellable=price is not None,
        today=today,
    )
    term = periods.next_term(sub.renewal_date, sub.term, sub.anchor_day)
    kind = unit = amount = None
    if price is not None:
        kind = rules.price_kind(
            term=sub.term, renewal_date=sub.renewal_date, automatic=automatic, today=today
        )
        unit = money(price.renewal_price if kind == "renewal" else price.list_price, sub.currency)
        amount = line_amount(unit, sub.seats)
    return Offer(
        subscription=sub,
        stage=stage,
        access=rules.has_access(stage),
        eligibility=eligibility,
        price_kind=kind,
        unit_price=unit,
        price=amount,
        next_term=term,
    )


def renewal_offers(
    subscriptions, *, user, today: date, automatic: bool = False
) -> dict[str, Offer]:
    """Return the renewal offer of each subscription for `user` on `today`, keyed by id."""
    subs = list(subscriptions)
    prices = active_prices(subs)
    pending = pending_subscription_ids(subs)
    return {
        s.pk: offer_for(
            s,
            user=user,
            today=today,
            price=prices.get((s.offering_id, s.term, s.currency)),
            pending=s.pk in pending,
            automatic=automatic,
        )
        for s in subs
    }
