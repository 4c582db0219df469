"""Bulk renewal (R7, R8): grouping a selection, one email per transaction, fixed query counts.

The concurrency case (two tabs checking out the same group → one order, one charge) is covered
once, on PostgreSQL, by tests/checkout/test_place_order.py::
test_two_tabs_checking_out_the_same_group_make_one_order; it is not repeated here.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renewals.api.errors import STATUS
from renewals.checkout.bulk import bulk_selection
from renewals.checkout.cart_actions import add_to_cart
from renewals.checkout.models import CartLine, Order
from renewals.core.errors import DomainError
from renewals.core.money import money
from renewals.notifications.models import Email
from renewals.payments.checkout import place_order
from renewals.subscriptions.models import Subscription, Term
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    OfferingFactory,
    PriceFactory,
    SubscriptionFactory,
    TaxRateFactory,
    UserFactory,
    priced_subscription,
)

pytestmark = pytest.mark.django_db

TODAY = date(2027, 2, 1)
CARD = {"method": "card", "card_number": "4242 4242 4242 4242", "save": False}


@pytest.fixture
def buyer():
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    TaxRateFactory(country="JP", rate=Decimal("0.10"))
    return UserFactory(email="marie@dupont.example", language="fr")


@pytest.fixture
def seven(buyer):
    """7 subscriptions across 2 CSNs, 2 currencies and 2 purchase methods → 4 groups."""
    paris = CustomerFactory(csn="5100000001", name="Atelier Dupont", country="FR")
    tokyo = CustomerFactory(csn="5100000002", name="山田設計", country="JP")
    acad = OfferingFactory(code="ACAD", name="AutoCAD")
    PriceFactory(
        offering=acad,
        term="annual",
        currency="EUR",
        list_price=Decimal("2100.00"),
        renewal_price=Decimal("1890.00"),
    )
    PriceFactory(
        offering=acad,
        term="monthly",
        currency="EUR",
        list_price=Decimal("215.50"),
        renewal_price=Decimal("199.99"),
    )
    PriceFactory(
        offering=acad,
        term="annual",
        currency="JPY",
        list_price=Decimal("330000"),
        renewal_price=Decimal("297000"),
    )

    def sub(sub_id, customer, **kw):
        return SubscriptionFactory(
            id=sub_id, customer=customer, offering=acad, purchaser=buyer, **kw
        )

    return {
        # Paris, EUR, online: annual at D−59 (renewal price) and a monthly anchored on the 31st.
        "A1": sub("A1", paris, renewal_date=date(2027, 4, 1), seats=3),
        "A2": sub(
            "A2",
            paris,
            term="monthly",
            seats=2,
            start_date=date(2027, 1, 31),
            renewal_date=date(2027, 2, 28),
        ),
        # Paris, EUR, invoice.
        "B1": sub(
            "B1",
            paris,
            renewal_date=date(2027, 3, 15),
            seats=1,
            purchase_method="invoice",
            payment_method="invoice",
        ),
        "B2": sub(
            "B2",
            paris,
            renewal_date=date(2027, 3, 20),
            seats=2,
            purchase_method="invoice",
            payment_method="invoice",
        ),
        # Tokyo, JPY, online.
        "C1": sub(
            "C1",
            tokyo,
            currency="JPY",
            renewal_date=date(2027, 2, 10),
            seats=1,
            payment_method="konbini",
        ),
        "C2": sub(
            "C2",
            tokyo,
            currency="JPY",
            renewal_date=date(2027, 1, 20),
            seats=2,
            payment_method="konbini",
        ),  # expired on D: list price (R6)
        # Tokyo, EUR, online.
        "D1": sub("D1", tokyo, renewal_date=date(2027, 3, 1), seats=4),
    }


def test_seven_subscriptions_make_four_groups_with_exact_totals(buyer, seven):
    selection = bulk_selection(user=buyer, subscription_ids=list(seven), today=TODAY)
    assert selection.refused == []
    by_key = {g.key: g for g in selection.groups}
    assert list(by_key) == [
        "5100000001:EUR:online",
        "5100000001:EUR:invoice",
        "5100000002:JPY:online",
        "5100000002:EUR:online",
    ]
    paris = by_key["5100000001:EUR:online"]
    assert [i.subscription.pk for i in paris.lines] == ["A1", "A2"]
    # A1: 3 × 1890.00 renewal price; A2 monthly always pays the list price: 2 × 215.50.
    assert [i.offer.price for i in paris.lines] == [money("5670.00", "EUR"), money("431.00", "EUR")]
    assert (paris.subtotal, paris.tax, paris.total) == (
        money("6101.00", "EUR"),
        money("1220.20", "EUR"),
        money("7321.20", "EUR"),
    )
    # The monthly started on 31 January renews [28 Feb, 31 Mar): anchored, no drift (R1).
    assert paris.lines[1].offer.next_term == (date(2027, 2, 28), date(2027, 3, 31))
    tokyo = by_key["5100000002:JPY:online"]
    # C1 active: renewal price 297000; C2 expired: list price 2 × 330000; 10 % JP tax.
    assert [i.offer.price_kind for i in tokyo.lines] == ["renewal", "list"]
    assert (tokyo.subtotal, tokyo.tax, tokyo.total) == (
        money("957000", "JPY"),
        money("95700", "JPY"),
        money("1052700", "JPY"),
    )
    assert tokyo.payment_methods == ["card", "bank_transfer"]  # konbini is ≤ ¥300,000 (R9)
    assert by_key["5100000001:EUR:invoice"].payment_methods == ["card", "invoice"]


def test_ineligible_and_unseen_subscriptions_are_listed_apart_with_every_reason(buyer, seven):
    priced_subscription(id="THEIRS", renewal_date=date(2027, 3, 1))
    admin_only = priced_subscription(id="ADMIN", renewal_date=date(2027, 12, 1))
    MembershipFactory(user=buyer, customer=admin_only.customer)
    selection = bulk_selection(
        user=buyer, subscription_ids=["A1", "THEIRS", "ADMIN", "A1", ""], today=TODAY
    )
    assert [i.subscription.pk for g in selection.groups for i in g.lines] == ["A1"]
    assert [(r.id, r.reasons) for r in selection.refused] == [
        ("THEIRS", ("not_found",)),
        ("ADMIN", ("not_purchaser", "too_early")),
    ]
    assert selection.refused[0].subscription is None  # nothing revealed about others' ids


def test_a_selection_of_101_is_refused_before_reading_anything(buyer, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(DomainError) as refused:
        bulk_selection(user=buyer, subscription_ids=[f"S-{n}" for n in range(101)], today=TODAY)
    assert (refused.value.code, STATUS[refused.value.code]) == ("too_many", 422)
    assert "at most 100" in refused.value.message


def test_a_selection_of_exactly_100_is_accepted(buyer):
    customer = CustomerFactory(csn="5100000009")
    subs = [priced_subscription(purchaser=buyer, customer=customer) for _ in range(100)]
    selection = bulk_selection(user=buyer, subscription_ids=[s.pk for s in subs], today=TODAY)
    assert sum(len(g.lines) for g in selection.groups) == 100


def _many(buyer, count, *, csn="5100000005"):
    customer = CustomerFactory(csn=csn, country="FR")
    first = priced_subscription(purchaser=buyer, customer=customer)
    rest = [
        SubscriptionFactory(purchaser=buyer, customer=customer, offering=first.offering)
        for _ in range(count - 1)
    ]
    return [first, *rest]


@pytest.mark.parametrize("count", [10, 100])
def test_grouping_a_selection_takes_six_queries_for_10_or_100(
    buyer, count, django_assert_num_queries
):
    subs = _many(buyer, count)
    CartLine.objects.create(
        user=buyer,
        subscription=priced_subscription(purchaser=buyer, customer=subs[0].customer),
        seats=1,
        unit_price=Decimal("1"),
        currency="EUR",
        price_kind="list",
        term_start=date(2027, 3, 31),
        term_end=date(2028, 3, 31),
    )
    # subscriptions, prices, open orders, tax rates, invoice customers, others in the cart
    with django_assert_num_queries(6):
        selection = bulk_selection(user=buyer, subscription_ids=[s.pk for s in subs], today=TODAY)
    assert selection.in_cart == {"5100000005:EUR:online": 1}


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def test_adding_10_or_100_to_the_cart_takes_the_same_number_of_queries(buyer):
    ten = [s.pk for s in _many(buyer, 10, csn="5100000010")]
    hundred = [s.pk for s in _many(buyer, 100, csn="5100000011")]
    small = _queries(lambda: add_to_cart(user=buyer, subscription_ids=ten, today=TODAY))
    CartLine.objects.all().delete()
    large = _queries(lambda: add_to_cart(user=buyer, subscription_ids=hundred, today=TODAY))
    assert CartLine.objects.count() == 100
    assert small == large


def _pay(buyer, key, idempotency_key, payment=CARD):
    order, _created = place_order(
        user=buyer,
        group_key=key,
        payment=payment,
        idempotency_key=idempotency_key,
        expected_total=None,
        today=TODAY,
    )
    return order


def test_paying_a_group_of_10_or_100_takes_the_same_number_of_queries(buyer):
    warm = [s.pk for s in _many(buyer, 1, csn="5100000012")]
    ten = [s.pk for s in _many(buyer, 10, csn="5100000010")]
    hundred = [s.pk for s in _many(buyer, 100, csn="5100000011")]
    # A first order of the year creates its number sequence: pay one before measuring.
    add_to_cart(user=buyer, subscription_ids=warm, today=TODAY)
    _pay(buyer, "5100000012:EUR:online", "k-1")
    add_to_cart(user=buyer, subscription_ids=ten, today=TODAY)
    small = _queries(lambda: _pay(buyer, "5100000010:EUR:online", "k-10"))
    add_to_cart(user=buyer, subscription_ids=hundred, today=TODAY)
    large = _queries(lambda: _pay(buyer, "5100000011:EUR:online", "k-100"))
    assert list(Order.objects.values_list("status", flat=True)) == ["paid"] * 3
    assert Term.objects.filter(order_number__gt="").count() == 111
    assert small == large


def test_two_groups_paid_send_exactly_two_confirmations_listing_every_renewal(buyer, seven):
    add_to_cart(user=buyer, subscription_ids=list(seven), today=TODAY)
    paris = _pay(buyer, "5100000001:EUR:online", "k-paris")
    tokyo = _pay(buyer, "5100000002:JPY:online", "k-tokyo")
    emails = list(Email.objects.filter(kind="order-confirmation").order_by("id"))
    assert [(e.to, e.headers["X-Renewals-Order"]) for e in emails] == [
        ("marie@dupont.example", paris.number),
        ("marie@dupont.example", tokyo.number),
    ]
    assert [e.headers["X-Renewals-Subscriptions"] for e in emails] == ["A1,A2", "C1,C2"]
    # French, as the purchaser reads: every subscription with its new term.
    paris_text = emails[0].text
    assert "A1" in paris_text and "A2" in paris_text
    assert "28 février 2027" in paris_text and "31 mars 2027" in paris_text
    assert "1 avril 2028" in paris_text or "1er avril 2028" in paris_text
    # Every renewed subscription keeps its anchor day (R1, R4); the others did not move.
    dates = dict(Subscription.objects.values_list("pk", "renewal_date"))
    assert dates == {
        "A1": date(2028, 4, 1),
        "A2": date(2027, 3, 31),
        "B1": date(2027, 3, 15),
        "B2": date(2027, 3, 20),
        "C1": date(2028, 2, 10),
        "C2": date(2028, 1, 20),  # paid late: [D, D+1 term), no free days (R4)
        "D1": date(2027, 3, 1),
    }
    assert sorted(CartLine.objects.values_list("subscription_id", flat=True)) == ["B1", "B2", "D1"]
