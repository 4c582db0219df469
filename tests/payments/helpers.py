"""Orders ready to pay, built through the real checkout code (create_order)."""

from datetime import date

from renewals.checkout.offers import renewal_offers
from renewals.checkout.orders import create_order
from renewals.subscriptions.models import Subscription
from tests.factories import CustomerFactory, TaxRateFactory, UserFactory, priced_subscription

TODAY = date(2027, 3, 1)  # within the renewal window of subscriptions renewing on 2027-03-31


def jpy_subscriptions(n=1, *, user=None, customer=None, seats=1, price="12000", **kwargs):
    """Create `n` renewable JPY subscriptions of one Japanese customer and purchaser."""
    user = user or UserFactory(language="ja")
    customer = customer or CustomerFactory(country="JP")
    TaxRateFactory(country="JP", rate="0.10")
    return [
        priced_subscription(
            customer=customer,
            purchaser=user,
            currency="JPY",
            seats=seats,
            list_price=price,
            renewal_price=price,
            **kwargs,
        )
        for _ in range(n)
    ]


def eur_subscription(**kwargs):
    TaxRateFactory(country="FR", rate="0.20")
    return priced_subscription(**kwargs)


def order_for(subs, *, method="card", today=TODAY, user=None, automatic=False):
    """Create the order (pending payment, holding its terms) for `subs` as the purchaser would."""
    subs = list(Subscription.objects.filter(pk__in=[s.pk for s in subs]).order_by("pk"))
    user = user or subs[0].purchaser
    offers = renewal_offers(subs, user=user, today=today, automatic=automatic)
    first = subs[0]
    return create_order(
        customer=first.customer,
        currency=first.currency,
        purchase_method=first.purchase_method,
        payment_method=method,
        offers=[offers[s.pk] for s in subs],
        placed_by=None if automatic else user,
        automatic=automatic,
        business_date=today,
    )
