"""Summary (R17): payment errors, last-chance renewals, upcoming expirations, due in 90 days."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from renewals.accounts.models import Card
from renewals.checkout.models import Order, OrderLine
from tests.factories import (
    CustomerFactory,
    OfferingFactory,
    PriceFactory,
    UserFactory,
    priced_subscription,
)

from .helpers import bulk_subscriptions

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 1)


@pytest.fixture
def today(frozen_today):
    return frozen_today(TODAY)


@pytest.fixture
def user(client):
    user = UserFactory(email="marie@dupont.example")
    client.force_login(user)
    return user


def summary(client):
    response = client.get("/")
    assert response.status_code == 200
    return response


def failed_order(user, customer, *, number, business_date):
    return Order.objects.create(
        number=number,
        customer=customer,
        currency="EUR",
        purchase_method="online",
        payment_method="card",
        status="failed",
        placed_by=user,
        subtotal=Decimal("100"),
        tax=Decimal("20"),
        total=Decimal("120"),
        tax_rate=Decimal("0.2"),
        business_date=business_date,
    )


def test_nothing_to_do_says_so(client, today, user):
    response = summary(client)

    assert "Nothing needs your attention." in response.content.decode()
    assert response.context["due"] == []


def test_failed_orders_of_the_last_30_days_are_payment_errors(client, today, user):
    customer = CustomerFactory()
    failed_order(user, customer, number="R-30", business_date=TODAY - timedelta(days=30))
    failed_order(user, customer, number="R-31", business_date=TODAY - timedelta(days=31))
    failed_order(UserFactory(), customer, number="R-OTHER", business_date=TODAY)

    response = summary(client)

    assert [o.number for o in response.context["failed_orders"]] == ["R-30"]
    assert 'href="/billing/orders/R-30/"' in response.content.decode()


def test_a_failed_automatic_charge_is_a_payment_error_for_the_purchaser(client, today, user):
    sub = priced_subscription(purchaser=user, auto_renew=True, renewal_date=TODAY)
    order = failed_order(None, sub.customer, number="R-AUTO", business_date=TODAY)
    Order.objects.filter(pk=order.pk).update(automatic=True)
    OrderLine.objects.create(
        order=order,
        subscription=sub,
        seats=3,
        unit_price=Decimal("1890"),
        price_kind="renewal",
        amount=Decimal("5670"),
        term_start=TODAY,
        term_end=date(2027, 6, 1),
        holds_term=False,
    )

    response = summary(client)

    assert [o.number for o in response.context["failed_orders"]] == ["R-AUTO"]


def test_auto_renewing_subscription_without_a_card_is_a_payment_error(client, today, user):
    card = Card.objects.create(user=user, token="pm_sandbox_4242424242424242", last4="4242")
    priced_subscription(id="NO-CARD", purchaser=user, auto_renew=True, card=None)
    priced_subscription(
        id="REMOVED-CARD",
        purchaser=user,
        auto_renew=True,
        card=Card.objects.create(user=user, token="pm_x", last4="0002", removed=timezone.now()),
    )
    priced_subscription(id="HAS-CARD", purchaser=user, auto_renew=True, card=card)
    priced_subscription(id="MANUAL", purchaser=user, auto_renew=False, card=None)

    response = summary(client)

    assert sorted(s.pk for s in response.context["missing_card"]) == ["NO-CARD", "REMOVED-CARD"]
    assert "NO-CARD (Product" in response.content.decode()


@pytest.mark.parametrize(
    ("days_late", "term", "listed", "days_left"),
    [
        (-1, "annual", False, None),  # still active
        (0, "annual", True, 45),  # expired on D
        (14, "annual", True, 31),
        (15, "annual", True, 30),  # suspended
        (44, "annual", True, 1),  # last renewable day
        (45, "annual", False, None),  # cancelled
        (29, "monthly", True, 1),
        (30, "monthly", False, None),
    ],
)
def test_last_chance_lists_expired_and_suspended_with_days_left(
    client, today, user, days_late, term, listed, days_left
):
    priced_subscription(
        id="LATE", purchaser=user, term=term, renewal_date=TODAY - timedelta(days=days_late)
    )

    rows = summary(client).context["last_chance"]

    if listed:
        assert [(r["sub"].pk, r["days_left"]) for r in rows] == [("LATE", days_left)]
    else:
        assert rows == []


def test_upcoming_expirations_are_manual_renewals_within_30_days(client, today, user):
    card = Card.objects.create(user=user, token="pm_sandbox_4242424242424242", last4="4242")
    priced_subscription(id="IN-30", purchaser=user, renewal_date=TODAY + timedelta(days=30))
    priced_subscription(id="IN-31", purchaser=user, renewal_date=TODAY + timedelta(days=31))
    priced_subscription(
        id="AUTO",
        purchaser=user,
        auto_renew=True,
        card=card,
        renewal_date=TODAY + timedelta(days=5),
    )
    priced_subscription(
        id="KONBINI",
        purchaser=user,
        auto_renew=True,
        payment_method="konbini",
        currency="JPY",
        renewal_date=TODAY + timedelta(days=5),
    )
    priced_subscription(
        id="TRIAL", purchaser=user, trial=True, renewal_date=TODAY + timedelta(days=5)
    )

    response = summary(client)

    assert [s.pk for s in response.context["upcoming"]] == ["KONBINI", "IN-30"]


def test_due_in_90_days_sums_offer_prices_per_currency(client, today, user):
    priced_subscription(purchaser=user, seats=3, renewal_date=TODAY + timedelta(days=1))
    priced_subscription(purchaser=user, seats=1, renewal_date=TODAY + timedelta(days=90))
    priced_subscription(purchaser=user, seats=1, renewal_date=TODAY + timedelta(days=91))
    priced_subscription(
        purchaser=user,
        seats=2,
        currency="JPY",
        renewal_date=TODAY + timedelta(days=40),
        list_price="60000",
        renewal_price="52800",
    )
    priced_subscription(purchaser=user, seats=1, renewal_date=TODAY)  # expired today: not due

    response = summary(client)

    due = [(e["currency"], str(e["total"].amount), e["count"]) for e in response.context["due"]]
    assert due == [("EUR", "7560.00", 2), ("JPY", "105600", 1)]
    html = response.content.decode()
    assert "€7,560.00" in html
    assert "¥105,600" in html
    assert (
        'href="/billing/subscriptions/?stage=active&amp;within=90&amp;trial=no&amp;currency=JPY"'
        in html
    )


def test_summary_uses_a_fixed_number_of_queries(client, today, user, django_assert_max_num_queries):
    customer = CustomerFactory()
    offering = OfferingFactory()
    PriceFactory(offering=offering, term="annual", currency="EUR")
    bulk_subscriptions(
        2000,
        customer=customer,
        offering=offering,
        purchaser=user,
        first_d=TODAY - timedelta(days=60),
    )

    # +1 (14): the overdue invoices alert (R9), one query however many; +1 (15): the expired
    # and the suspended counts apart, each the count of the list its link opens (#17).
    with django_assert_max_num_queries(15):
        response = summary(client)

    assert response.context["due"][0]["count"] == 5 * 90
