"""Reading the cart (R7): lines grouped by (CSN, currency, purchase method), priced and taxed.

Served to the portal and the API in a fixed number of queries whatever the number of lines.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings

from renewals.accounts.models import Customer
from renewals.catalog.models import TaxRate
from renewals.core.money import Money, money, zero
from renewals.subscriptions.models import Subscription

from .grouping import group_by, group_key
from .models import CartLine
from .offers import Offer, max_seats, renewal_offers
from .pricing import order_totals, payment_methods_for_group, tax_decision, tax_percent


@dataclass(frozen=True)
class CartItem:
    """One cart line with its subscription and what renewing it means today."""

    line: CartLine
    subscription: Subscription
    offer: Offer

    @property
    def eligible(self) -> bool:
        return self.offer.eligible and self.offer.price is not None

    @property
    def max_seats(self) -> int:
        """The most seats this line may be changed to (R21)."""
        return max_seats(self.subscription.offering)

    @property
    def seen_unit_price(self) -> Money:
        """The unit price stored when the line entered (or was last refreshed in) the cart."""
        return money(self.line.unit_price, self.line.currency)

    @property
    def price_changed(self) -> bool:
        """Tell whether today's price or term differs from what the user was shown (R6)."""
        offer = self.offer
        return offer.unit_price is not None and (
            offer.unit_price != self.seen_unit_price
            or offer.price_kind != self.line.price_kind
            or offer.seats != self.line.seats
            or offer.next_term != (self.line.term_start, self.line.term_end)
        )


@dataclass
class CartGroup:
    key: str
    csn: str
    customer: Customer
    currency: str
    purchase_method: str
    lines: list[CartItem]
    subtotal: Money
    tax: Money
    total: Money
    tax_rate: Decimal
    reverse_charge: bool
    payment_methods: list[str]
    blocked: list[CartItem] = field(default_factory=list)  # lines that cannot be renewed now

    @property
    def count(self) -> int:
        return len(self.lines) + len(self.blocked)

    @property
    def tax_percent(self) -> str:
        """The tax rate as people write it: 20, 10, 8.5."""
        return tax_percent(self.tax_rate)


def invoice_customers(customer_ids) -> set[int]:
    """Return the customers that already have a subscription paid by invoice (R9), one query."""
    return set(
        Subscription.objects.filter(customer_id__in=customer_ids, payment_method="invoice")
        .values_list("customer_id", flat=True)
        .distinct()
    )


def tax_rates(countries) -> dict[str, Decimal]:
    return dict(TaxRate.objects.filter(country__in=countries).values_list("country", "rate"))


def build_groups(items: list[CartItem]) -> list[CartGroup]:
    """Group cart items and price each group (two queries: tax rates, invoice customers)."""
    customers = {i.subscription.customer_id: i.subscription.customer for i in items}
    rates = tax_rates({c.country for c in customers.values()})
    invoicing = invoice_customers(customers.keys())
    groups = []
    grouped = group_by(
        items,
        lambda i: group_key(
            i.subscription.customer.csn, i.subscription.currency, i.subscription.purchase_method
        ),
    )
    for key, members in grouped.items():
        first = members[0].subscription
        customer, currency = first.customer, first.currency
        payable = [i for i in members if i.eligible]
        decision = tax_decision(
            customer_country=customer.country,
            vat_id_validated=customer.vat_id_validated,
            seller_country=settings.SELLER["country"],
            rates=rates,
        )
        if payable:
            totals = order_totals([i.offer.price for i in payable], currency, decision.rate)
            subtotal, tax, total = totals.subtotal, totals.tax, totals.total
        else:
            subtotal = tax = total = zero(currency)
        groups.append(
            CartGroup(
                key=key,
                csn=customer.csn,
                customer=customer,
                currency=currency,
                purchase_method=first.purchase_method,
                lines=payable,
                blocked=[i for i in members if not i.eligible],
                subtotal=subtotal,
                tax=tax,
                total=total,
                tax_rate=decision.rate,
                reverse_charge=decision.reverse_charge,
                payment_methods=payment_methods_for_group(
                    currency=currency,
                    purchase_method=first.purchase_method,
                    total=total,
                    invoice_customer=customer.pk in invoicing,
                )
                if payable
                else [],
            )
        )
    return groups


def cart_items(lines: list[CartLine], *, user, today: date) -> list[CartItem]:
    """Pair cart lines with their subscription's offer today (two queries: prices, open orders)."""
    subs = [line.subscription for line in lines]
    changes = {ln.subscription_id: ln.change for ln in lines if ln.change is not None}
    offers = renewal_offers(subs, user=user, today=today, changes=changes)
    return [
        CartItem(line=ln, subscription=ln.subscription, offer=offers[ln.subscription_id])
        for ln in lines
    ]


def cart_lines(user):
    """Return the user's cart lines whose subscription they can still see, with what pages need."""
    return (
        CartLine.objects.filter(
            user=user, subscription__in=Subscription.objects.visible_to(user).values("pk")
        )
        .select_related(
            "subscription__customer",
            "subscription__offering",
            "subscription__purchaser",
            "subscription__partner",
            "chosen",
        )
        .order_by("added", "id")
    )


def cart_groups(*, user, today: date) -> list[CartGroup]:
    """Return the user's cart as priced groups (R7), in five queries whatever its size."""
    return build_groups(cart_items(list(cart_lines(user)), user=user, today=today))


def cart_group(*, user, key: str, today: date) -> CartGroup | None:
    """Return one group of the user's cart by its key, or None when the cart has no such group."""
    return next((g for g in cart_groups(user=user, today=today) if g.key == key), None)


def cart_count(user) -> int:
    """Return how many lines the user's cart holds (for the menu badge)."""
    return CartLine.objects.filter(user=user).count()
