"""Carts ready to check out, built through the real cart code (add_to_cart)."""

from datetime import date
from decimal import Decimal

from renewals.checkout.cart_actions import add_to_cart
from tests.factories import CustomerFactory, TaxRateFactory, UserFactory, priced_subscription

TODAY = date(2027, 3, 1)  # in the renewal window of subscriptions renewing on 2027-03-31
PAID_CARD = {"method": "card", "card_number": "4242424242424242", "save": False}


def cart_of(n_subscriptions=2, *, csn=None, user=None, currency="EUR", country="FR"):
    """Put `n_subscriptions` renewable subscriptions of one CSN in a purchaser's cart."""
    TaxRateFactory(country=country, rate=Decimal("0.20"))
    user = user or UserFactory()
    customer = CustomerFactory(**({"csn": csn} if csn else {}), country=country)
    subs = [
        priced_subscription(customer=customer, purchaser=user, currency=currency, seats=i + 1)
        for i in range(n_subscriptions)
    ]
    added = add_to_cart(user=user, subscription_ids=[s.pk for s in subs], today=TODAY)
    assert added.rejected == []
    return user, f"{customer.csn}:{currency}:online", subs
