"""What renewing each subscription would mean for a user today: stage, eligibility, price, term.

One function serves the portal, the API, `renewals show`, the cart and bulk actions, in a fixed
number of queries whatever the number of subscriptions (prices and open orders are fetched in
one statement each).
"""

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from renewals.catalog.models import TERM_CODES, Price
from renewals.core.money import Money, money
from renewals.subscriptions import periods, rules
from renewals.subscriptions.actions import max_seats  # noqa: F401 (part of what offers answer)
from renewals.subscriptions.models import Subscription

from .models import OPEN_STATUSES, OrderLine
from .pricing import line_amount


@dataclass(frozen=True)
class Decision:
    """What renewing means, decided from an offer's facts (`decide_offer`): the subscriptions of
    one call whose facts are equal share one (#15)."""

    stage: str
    access: bool
    eligibility: rules.Eligibility
    price_kind: str | None
    unit_price: Money | None
    price: Money | None
    next_term: tuple[date, date]
    # R21: the seats and term the next term is priced for (the subscription's own unless a
    # change was chosen in the cart or scheduled on the subscription), and the terms the
    # catalogue sells for its offering and currency.
    seats: int
    term: str
    sold_terms: tuple[str, ...]


@dataclass(frozen=True)
class Offer:
    """A subscription's renewal offer: the subscription and its `Decision`."""

    subscription: Subscription
    decision: Decision

    @property
    def stage(self) -> str:
        return self.decision.stage

    @property
    def access(self) -> bool:
        return self.decision.access

    @property
    def eligibility(self) -> rules.Eligibility:
        return self.decision.eligibility

    @property
    def price_kind(self) -> str | None:
        return self.decision.price_kind

    @property
    def unit_price(self) -> Money | None:
        return self.decision.unit_price

    @property
    def price(self) -> Money | None:
        return self.decision.price

    @property
    def next_term(self) -> tuple[date, date]:
        return self.decision.next_term

    @property
    def seats(self) -> int:
        return self.decision.seats

    @property
    def term(self) -> str:
        return self.decision.term

    @property
    def sold_terms(self) -> tuple[str, ...]:
        return self.decision.sold_terms

    @property
    def eligible(self) -> bool:
        return self.decision.eligibility.eligible

    @property
    def changed(self) -> bool:
        """Tell whether the next term differs from the current one in seats or term (R21)."""
        sub = self.subscription
        return (self.seats, self.term) != (sub.seats, sub.term)

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.decision.eligibility.reasons


def active_prices(subscriptions) -> dict[tuple[int, str, str], Price]:
    """Return the active catalogue prices of every term of the subscriptions' offerings and
    currencies, keyed by (offering, term, currency), in one query (R6, R21: the terms a
    renewal may switch to are those priced here)."""
    combos = {(s.offering_id, s.currency) for s in subscriptions}
    if not combos:
        return {}
    match = Q()
    for offering_id, currency in combos:
        match |= Q(offering_id=offering_id, currency=currency)
    return {
        (p.offering_id, p.term, p.currency): p for p in Price.objects.filter(match, active=True)
    }


def sold_terms(prices: dict, offering_id: int, currency: str) -> tuple[str, ...]:
    """Return the terms with an active price for an offering and currency, in term order."""
    return tuple(t for t in TERM_CODES if (offering_id, t, currency) in prices)


def renewal_change(sub: Subscription, chosen=None) -> tuple[int, str]:
    """Return the (seats, term) the next term is for (R21).

    Each of `chosen` (a cart line's change: seats or term, None keeps) overrides the
    subscription's scheduled change for that term, which overrides its current values.
    """
    seats, term = sub.seats, sub.term
    scheduled = sub.next_term_change
    for source in (scheduled, chosen):
        if source is None:
            continue
        new_seats, new_term = source
        seats = new_seats if new_seats is not None else seats
        term = new_term if new_term is not None else term
    return seats, term


def pending_subscription_ids(subscriptions) -> set[str]:
    """Return the ids whose next term is held by an order waiting for payment (R5)."""
    return open_order_facts(subscriptions)[0]


# The order lines that tell about a subscription's next term (the line's term_start is its D):
# one held by an order waiting for payment (R5), or whose automatic charge failed (R6, R12).
HOLDING_LINE = Q(holds_term=True, order__status__in=OPEN_STATUSES)
FAILED_AUTOMATIC_LINE = Q(order__automatic=True, order__status="failed")


def open_order_exists() -> dict[str, Exists]:
    """Return `open_order_facts` as two boolean columns of a subscription query (`pending`,
    `failed_automatic`), so that a page reads them with its rows instead of by id (#15)."""
    lines = OrderLine.objects.filter(
        subscription_id=OuterRef("pk"), term_start=OuterRef("renewal_date")
    )
    return {
        "pending": Exists(lines.filter(HOLDING_LINE)),
        "failed_automatic": Exists(lines.filter(FAILED_AUTOMATIC_LINE)),
    }


def open_order_facts(subscriptions) -> tuple[set[str], set[str]]:
    """Return, in one query, the ids whose next term is held by an order waiting for payment
    (R5) and those whose next term's automatic charge failed (R6, R12)."""
    subs = list(subscriptions)
    if not subs:
        return set(), set()
    rows = (
        OrderLine.objects.filter(subscription_id__any=[s.pk for s in subs])
        .filter(HOLDING_LINE | FAILED_AUTOMATIC_LINE)
        .values_list("subscription_id", "term_start", "order__status")
    )
    next_starts = {s.pk: s.renewal_date for s in subs}
    pending, failed = set(), set()
    for sub_id, start, status in rows:
        if next_starts.get(sub_id) != start:
            continue
        (failed if status == "failed" else pending).add(sub_id)
    return pending, failed


class OfferFacts(NamedTuple):
    """Every value an offer is decided from (`decide_offer`): two subscriptions with the same
    facts on the same day have the same offer, whatever else differs."""

    is_purchaser: bool
    purchase_method: str
    trial: bool
    stage: str
    renewal_date: date
    lapse_date: date
    current_term: str
    anchor_day: int
    currency: str
    pending: bool
    automatic: bool
    seats: int
    term: str
    # (list price, renewal price) of the next term's catalogue price; None: not sold.
    amounts: tuple | None
    sold: tuple[str, ...]
    # auto_renew, read only when the next term is priced and its automatic charge failed
    # (None otherwise): callers may defer auto_renew (.only()).
    retry_auto_renew: bool | None


def offer_facts(
    sub: Subscription,
    *,
    user,
    today: date,
    price: Price | None,
    pending: bool,
    automatic: bool = False,
    seats: int | None = None,
    term: str | None = None,
    sold: tuple[str, ...] = (),
    failed_automatic: bool = False,
) -> OfferFacts:
    """Read from a subscription (a model or a row) what its offer is decided from."""
    return OfferFacts(
        is_purchaser=automatic or (user is not None and sub.purchaser_id == user.pk),
        purchase_method=sub.purchase_method,
        trial=sub.trial,
        stage=sub.stage_on(today),
        renewal_date=sub.renewal_date,
        lapse_date=sub.lapse_date,
        current_term=sub.term,
        anchor_day=sub.anchor_day,
        currency=sub.currency,
        pending=pending,
        automatic=automatic,
        seats=sub.seats if seats is None else seats,
        term=sub.term if term is None else term,
        amounts=None if price is None else (price.list_price, price.renewal_price),
        sold=sold,
        retry_auto_renew=sub.auto_renew if failed_automatic and price is not None else None,
    )


def decide_offer(facts: OfferFacts, today: date) -> Decision:
    """Decide an offer from its facts (no query).

    `seats` and `term` are those of the next term (R21), `amounts` the catalogue price of that
    term.
    """
    f = facts
    eligibility = rules.renewal_eligibility(
        is_purchaser=f.is_purchaser,
        purchase_method=f.purchase_method,
        trial=f.trial,
        stage=f.stage,
        renewal_date=f.renewal_date,
        lapse_date=f.lapse_date,
        term=f.current_term,
        payment_pending=f.pending,
        sellable=f.amounts is not None,
        today=today,
    )
    # R1, R21: the next term starts on D and lasts the new term, on the same anchor day.
    next_term = periods.next_term(f.renewal_date, f.term, f.anchor_day)
    kind = unit = amount = None
    if f.amounts is not None:
        failed_automatic = f.retry_auto_renew is not None
        retrying = failed_automatic and rules.retries_pending(
            renewal_date=f.renewal_date,
            auto_renew=f.retry_auto_renew,
            failed_automatic=failed_automatic,
            today=today,
            retry_days=settings.AUTO_RENEW_RETRY_DAYS,
        )
        kind = rules.price_kind(
            term=f.term,
            renewal_date=f.renewal_date,
            automatic=f.automatic,
            today=today,
            retrying=retrying,
        )
        list_price, renewal_price = f.amounts
        unit = money(renewal_price if kind == "renewal" else list_price, f.currency)
        amount = line_amount(unit, f.seats)
    return Decision(
        stage=f.stage,
        access=rules.has_access(f.stage),
        eligibility=eligibility,
        price_kind=kind,
        unit_price=unit,
        price=amount,
        next_term=next_term,
        seats=f.seats,
        term=f.term,
        sold_terms=f.sold,
    )


def offer_for(
    sub: Subscription,
    *,
    user,
    today: date,
    price: Price | None,
    pending: bool,
    automatic: bool = False,
    seats: int | None = None,
    term: str | None = None,
    sold: tuple[str, ...] = (),
    failed_automatic: bool = False,
) -> Offer:
    """Decide one subscription's renewal offer from values already fetched (no query).

    `seats` and `term` are those of the next term (R21; default: the subscription's), `price`
    the catalogue price of that term.
    """
    facts = offer_facts(
        sub,
        user=user,
        today=today,
        price=price,
        pending=pending,
        automatic=automatic,
        seats=seats,
        term=term,
        sold=sold,
        failed_automatic=failed_automatic,
    )
    return Offer(subscription=sub, decision=decide_offer(facts, today))


def renewal_offers(
    subscriptions, *, user, today: date, automatic: bool = False, changes=None, open_orders=None
) -> dict[str, Offer]:
    """Return the renewal offer of each subscription for `user` on `today`, keyed by id.

    `changes` maps a subscription id to the (seats, term) chosen in the cart (R21; None keeps a
    value); without one, the subscription's scheduled change for its next term applies.
    `open_orders` is `open_order_facts` of the subscriptions when already read (rows read with
    `open_order_exists`); without it, they are read here. The offers whose facts are equal share
    one `Decision` object.
    """
    subs = list(subscriptions)
    prices = active_prices(subs)
    pending, failed = open_orders if open_orders is not None else open_order_facts(subs)
    changes = changes or {}
    offers = {}
    # Subscriptions of one page often share their facts (offering, dates, seats): each set of
    # facts is decided once (#15), and each (offering, currency)'s sold terms looked up once.
    decided: dict[OfferFacts, Decision] = {}
    sold: dict[tuple[int, str], tuple[str, ...]] = {}
    for s in subs:
        seats, term = renewal_change(s, changes.get(s.pk))
        sold_key = (s.offering_id, s.currency)
        if sold_key not in sold:
            sold[sold_key] = sold_terms(prices, *sold_key)
        facts = offer_facts(
            s,
            user=user,
            today=today,
            price=prices.get((s.offering_id, term, s.currency)),
            pending=s.pk in pending,
            automatic=automatic,
            seats=seats,
            term=term,
            sold=sold[sold_key],
            failed_automatic=s.pk in failed,
        )
        decision = decided.get(facts)
        if decision is None:
            decision = decided[facts] = decide_offer(facts, today)
        offers[s.pk] = Offer(subscription=s, decision=decision)
    return offers
