"""The renewable filter and the renewal offer after a change of term (R2, R5, R21).

Once a renewal changed the term, the window, the grace G and the price are those of the new term,
never the original one; before D, a change scheduled for the next term decides its price. The SQL
filter (`queries.renewable_q`) and the offer (`offers.renewal_offers`) must agree on every row.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from renewals.catalog.models import Price
from renewals.checkout.offers import renewal_offers
from renewals.subscriptions.actions import renew_subscriptions, schedule_change
from renewals.subscriptions.models import Subscription
from renewals.subscriptions.queries import SubscriptionFilters, subscriptions_for
from tests.factories import (
    CustomerFactory,
    OfferingFactory,
    PriceFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    user = UserFactory(email="marie@dupont.example")
    customer = CustomerFactory(csn="5100000001", country="FR")
    offering = OfferingFactory(code="ACAD")
    for term, list_price, renewal_price in (
        ("monthly", "100.00", "90.00"),
        ("annual", "1100.00", "990.00"),
    ):
        PriceFactory(
            offering=offering,
            term=term,
            currency="EUR",
            list_price=Decimal(list_price),
            renewal_price=Decimal(renewal_price),
        )

    def sub(sub_id, term, start, renewal):
        return SubscriptionFactory(
            id=sub_id,
            customer=customer,
            purchaser=user,
            offering=offering,
            term=term,
            seats=5,
            start_date=start,
            renewal_date=renewal,
        )

    return user, sub


def switched(sub, sub_id, old, new, start, renewal):
    sub(sub_id, old, start, renewal)
    renew_subscriptions(
        [(sub_id, renewal)],
        today=renewal - timedelta(days=5),
        order_number=f"R-{sub_id}",
        source="order",
        changes={sub_id: (2, new)},
    )
    return Subscription.objects.get(pk=sub_id)


def renewable(user, today):
    """Return (ids the offer says are eligible, ids the SQL filter finds), both sorted."""
    offers = renewal_offers(Subscription.objects.all(), user=user, today=today)
    found = subscriptions_for(user, SubscriptionFilters(renewable=True), today=today)
    return sorted(k for k, o in offers.items() if o.eligible), sorted(s.pk for s in found)


def test_monthly_switched_to_annual_is_priced_annual_even_when_monthly_is_no_longer_sold(world):
    user, sub = world
    s = switched(sub, "TO-ANNUAL", "monthly", "annual", date(2027, 1, 31), date(2027, 2, 28))
    assert (s.term, s.renewal_date) == ("annual", date(2028, 2, 29))
    Price.objects.filter(term="monthly").update(active=False)
    today = date(2028, 1, 15)
    assert renewable(user, today) == (["TO-ANNUAL"], ["TO-ANNUAL"])
    offer = renewal_offers([s], user=user, today=today)[s.pk]
    assert (offer.term, offer.price_kind, str(offer.price.amount)) == (
        "annual",
        "renewal",
        "1980.00",
    )
    assert offer.next_term == (date(2028, 2, 29), date(2029, 2, 28))


# Grace of the *new* term (R2): the annual G is 45 days, the monthly 30.
GRACE = [
    ("TO-MONTHLY", 29, True),  # suspended, still renewable
    ("TO-MONTHLY", 30, False),  # monthly: cancelled on D + 30 (annual would allow D + 44)
    ("TO-ANNUAL", 44, True),
    ("TO-ANNUAL", 45, False),  # annual: cancelled on D + 45 (monthly would have ended at D + 30)
]


@pytest.mark.parametrize(("sub_id", "days_after_d", "expected"), GRACE)
def test_the_grace_after_d_is_that_of_the_new_term(world, sub_id, days_after_d, expected):
    user, sub = world
    monthly = switched(sub, "TO-MONTHLY", "annual", "monthly", date(2026, 3, 31), date(2027, 3, 31))
    annual = switched(sub, "TO-ANNUAL", "monthly", "annual", date(2027, 1, 31), date(2027, 2, 28))
    assert monthly.renewal_date == date(2027, 4, 30) and annual.renewal_date == date(2028, 2, 29)
    d = {"TO-MONTHLY": monthly, "TO-ANNUAL": annual}[sub_id].renewal_date
    offers, found = renewable(user, d + timedelta(days=days_after_d))
    assert offers == found
    assert (sub_id in found) is expected


def test_a_scheduled_change_decides_the_next_terms_price_in_the_filter_too(world):
    user, sub = world
    today = date(2027, 2, 10)
    sub("TO-UNSOLD", "annual", date(2026, 2, 28), date(2027, 2, 28))
    sub("FROM-UNSOLD", "monthly", date(2027, 1, 28), date(2027, 2, 28))
    sub("STALE", "monthly", date(2027, 1, 28), date(2027, 2, 28))
    schedule_change("TO-UNSOLD", seats=None, term="monthly", today=today, actor=user)
    schedule_change("FROM-UNSOLD", seats=None, term="annual", today=today, actor=user)
    schedule_change("STALE", seats=None, term="annual", today=today, actor=user)
    # A change set against another D (an import moved it) is not for the next term.
    Subscription.objects.filter(pk="STALE").update(
        renewal_date=date(2027, 3, 28), lapse_date=date(2027, 3, 28)
    )
    Price.objects.filter(term="monthly").update(active=False)
    offers, found = renewable(user, today)
    assert offers == found == ["FROM-UNSOLD"]
    refused = subscriptions_for(user, SubscriptionFilters(renewable=False), today=today)
    assert sorted(s.pk for s in refused) == ["STALE", "TO-UNSOLD"]
