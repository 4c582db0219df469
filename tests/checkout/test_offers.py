"""renewal_offers: stage, eligibility (R5), price (R6) and next term (R4) in fixed queries."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

import pytest

from renewals.checkout.models import Order, OrderLine
from renewals.checkout.offers import renewal_offers
from renewals.core.money import money
from renewals.subscriptions.models import Subscription
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    OfferingFactory,
    PriceFactory,
    UserFactory,
    priced_subscription,
)

D = date(2027, 3, 31)
ORDER_NUMBERS = count(1)


def hold_term(sub, term_start, *, status="pending_payment", holds_term=True):
    """Create an order with one line for `sub`'s term starting on `term_start`."""
    order = Order.objects.create(
        number=f"T-{next(ORDER_NUMBERS)}",
        customer=sub.customer,
        currency=sub.currency,
        purchase_method=sub.purchase_method,
        payment_method="konbini",
        status=status,
        subtotal=Decimal("10"),
        tax=Decimal("1"),
        total=Decimal("11"),
        tax_rate=Decimal("0.10"),
        business_date=term_start - timedelta(days=5),
    )
    OrderLine.objects.create(
        order=order,
        subscription=sub,
        seats=sub.seats,
        unit_price=Decimal("10"),
        price_kind="list",
        amount=Decimal("10"),
        term_start=term_start,
        term_end=term_start + timedelta(days=365),
        holds_term=holds_term,
    )
    return order


@pytest.mark.django_db
def test_an_eligible_annual_subscription_is_offered_the_renewal_price_before_d():
    sub = priced_subscription(
        renewal_date=D, seats=3, list_price="2100.00", renewal_price="1890.00"
    )
    offer = renewal_offers([sub], user=sub.purchaser, today=D - timedelta(days=1))[sub.pk]
    assert offer.eligible is True
    assert offer.reasons == ()
    assert (offer.stage, offer.access) == ("active", True)
    assert offer.price_kind == "renewal"
    assert offer.unit_price == money("1890.00", "EUR")
    assert offer.price == money("5670.00", "EUR")
    assert offer.next_term == (D, date(2028, 3, 31))
    assert offer.eligibility.window_opens == date(2026, 12, 31)
    assert offer.eligibility.window_closes == date(2027, 5, 14)


@pytest.mark.django_db
def test_from_d_on_the_offer_is_the_list_price_for_the_same_term():
    sub = priced_subscription(renewal_date=D, seats=3)
    offer = renewal_offers([sub], user=sub.purchaser, today=D + timedelta(days=15))[sub.pk]
    assert (offer.stage, offer.access, offer.eligible) == ("suspended", False, True)
    assert (offer.price_kind, offer.price) == ("list", money("6300.00", "EUR"))
    assert offer.next_term == (D, date(2028, 3, 31))


@pytest.mark.django_db
def test_a_jpy_monthly_offer_has_no_decimals_and_keeps_the_anchor():
    sub = priced_subscription(
        renewal_date=date(2027, 2, 28),
        start_date=date(2027, 1, 31),
        term="monthly",
        currency="JPY",
        seats=2,
        list_price="5280",
        renewal_price="4800",
    )
    offer = renewal_offers([sub], user=sub.purchaser, today=date(2027, 2, 1))[sub.pk]
    assert (offer.price_kind, str(offer.price.amount)) == ("list", "10560")
    assert offer.next_term == (date(2027, 2, 28), date(2027, 3, 31))


@pytest.mark.django_db
def test_an_admin_sees_the_offer_but_may_not_renew():
    sub = priced_subscription(renewal_date=D)
    admin = UserFactory()
    MembershipFactory(user=admin, customer=sub.customer)
    offer = renewal_offers([sub], user=admin, today=D)[sub.pk]
    assert offer.reasons == ("not_purchaser",)
    assert offer.price == money("6300.00", "EUR")


@pytest.mark.django_db
def test_an_automatic_charge_pays_the_renewal_price_even_after_d():
    sub = priced_subscription(renewal_date=D, seats=3)
    offer = renewal_offers([sub], user=None, today=D + timedelta(days=7), automatic=True)[sub.pk]
    assert offer.eligible is True
    assert (offer.price_kind, offer.price) == ("renewal", money("5670.00", "EUR"))


@pytest.mark.django_db
@pytest.mark.parametrize("active", [False, None], ids=["inactive-price", "no-price"])
def test_without_an_active_price_the_subscription_is_not_sellable(active):
    sub = priced_subscription(renewal_date=D)
    if active is None:
        sub.offering.prices.all().delete()
    else:
        sub.offering.prices.update(active=False)
    offer = renewal_offers([sub], user=sub.purchaser, today=D)[sub.pk]
    assert offer.reasons == ("not_sellable",)
    assert (offer.price_kind, offer.unit_price, offer.price) == (None, None, None)


@pytest.mark.django_db
def test_a_price_in_another_currency_or_term_does_not_make_it_sellable():
    sub = priced_subscription(renewal_date=D)
    sub.offering.prices.all().delete()
    PriceFactory(offering=sub.offering, term="annual", currency="USD")
    PriceFactory(offering=sub.offering, term="monthly", currency="EUR")
    offer = renewal_offers([sub], user=sub.purchaser, today=D)[sub.pk]
    assert offer.reasons == ("not_sellable",)


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["pending_payment", "requires_action"])
def test_an_open_order_for_the_next_term_makes_the_renewal_payment_pending(status):
    sub = priced_subscription(renewal_date=D)
    hold_term(sub, D, status=status)
    offer = renewal_offers([sub], user=sub.purchaser, today=D - timedelta(days=3))[sub.pk]
    assert offer.reasons == ("payment_pending",)


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["failed", "expired"])
def test_a_failed_or_expired_order_releases_the_term(status):
    sub = priced_subscription(renewal_date=D)
    hold_term(sub, D, status=status, holds_term=False)
    offer = renewal_offers([sub], user=sub.purchaser, today=D - timedelta(days=3))[sub.pk]
    assert offer.eligible is True


@pytest.mark.django_db
def test_an_order_line_for_an_older_term_is_not_pending():
    sub = priced_subscription(renewal_date=D)
    hold_term(sub, date(2026, 3, 31), status="pending_payment")
    hold_term(sub, date(2025, 3, 31), status="paid")
    offer = renewal_offers([sub], user=sub.purchaser, today=D - timedelta(days=3))[sub.pk]
    assert offer.eligible is True


@pytest.mark.django_db
def test_pending_is_told_per_subscription():
    waiting = priced_subscription(renewal_date=D)
    free = priced_subscription(renewal_date=D, purchaser=waiting.purchaser)
    hold_term(waiting, D)
    offers = renewal_offers([waiting, free], user=waiting.purchaser, today=D)
    assert offers[waiting.pk].reasons == ("payment_pending",)
    assert offers[free.pk].reasons == ()


def mixed_subscriptions(n: int) -> list[str]:
    """Create `n` priced subscriptions across offerings, terms and currencies; return ids."""
    customer = CustomerFactory()
    purchaser = UserFactory()
    offerings = [OfferingFactory() for _ in range(4)]
    combos = [("annual", "EUR"), ("monthly", "JPY"), ("three_year", "USD"), ("annual", "KWD")]
    ids = []
    for i in range(n):
        term, currency = combos[i % len(combos)]
        sub = priced_subscription(
            customer=customer,
            purchaser=purchaser,
            offering=offerings[i % len(offerings)],
            term=term,
            currency=currency,
            payment_method="konbini" if currency == "JPY" else "card",
            renewal_date=D + timedelta(days=i),
        )
        if i % 5 == 0:
            hold_term(sub, sub.renewal_date)
        ids.append(sub.pk)
    return ids


@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 50])
def test_offers_take_the_same_three_queries_for_1_or_50_subscriptions(n, django_assert_num_queries):
    ids = mixed_subscriptions(n)
    purchaser = Subscription.objects.get(pk=ids[0]).purchaser
    # One for the subscriptions, one for their prices, one for their open order lines.
    with django_assert_num_queries(3):
        offers = renewal_offers(
            Subscription.objects.filter(pk__in=ids), user=purchaser, today=D - timedelta(days=1)
        )
    assert sorted(offers) == sorted(ids)
    assert all(o.price is not None for o in offers.values())
    pending = {i for i, o in offers.items() if o.reasons == ("payment_pending",)}
    assert pending == set(ids[::5])
    assert all(o.eligible for i, o in offers.items() if i not in pending)


@pytest.mark.django_db
def test_no_subscriptions_need_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert renewal_offers([], user=None, today=D) == {}


@pytest.mark.django_db
def test_offers_of_equal_facts_share_one_decision_equal_to_each_one_alone():
    first = priced_subscription(renewal_date=D)
    same = [
        priced_subscription(renewal_date=D, customer=first.customer, purchaser=first.purchaser,
                            offering=first.offering)
        for _ in range(2)
    ]  # fmt: skip
    other = priced_subscription(
        renewal_date=D, customer=first.customer, purchaser=first.purchaser, seats=9
    )
    subs = [first, *same, other]
    today = D - timedelta(days=3)
    offers = renewal_offers(subs, user=first.purchaser, today=today)
    assert {id(offers[s.pk].decision) for s in [first, *same]} == {id(offers[first.pk].decision)}
    assert offers[other.pk].decision is not offers[first.pk].decision
    for s in subs:
        alone = renewal_offers([s], user=first.purchaser, today=today)[s.pk]
        assert offers[s.pk] == alone
        assert offers[s.pk].subscription is s
