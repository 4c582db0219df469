"""PATCH /api/v1/cart/items/{id} (R21): change seats and term of the next term over the API."""

from datetime import date
from decimal import Decimal

import pytest

from renewals.checkout.models import CartLine
from renewals.subscriptions.models import Subscription
from tests.factories import PriceFactory, SubscriptionFactory, TaxRateFactory, UserFactory

from .conftest import client_for, error_of

TODAY = date(2027, 2, 10)
D = date(2027, 2, 28)
CARD_OK = {"method": "card", "card_number": "4242424242424242", "save": False}


@pytest.fixture
def sub(user, customer, frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="FR", rate="0.20")
    sub = SubscriptionFactory(
        id="SUB-M",
        customer=customer,
        purchaser=user,
        term="monthly",
        seats=5,
        start_date=date(2027, 1, 31),
        renewal_date=D,
        offering__code="ACAD",
        offering__name="AutoCAD",
    )
    for term, list_price, renewal_price in (
        ("monthly", "100.00", "90.00"),
        ("annual", "1100.00", "990.00"),
    ):
        PriceFactory(
            offering=sub.offering,
            term=term,
            currency="EUR",
            list_price=Decimal(list_price),
            renewal_price=Decimal(renewal_price),
        )
    return sub


def patch(api, sub_id, body):
    return api.patch(f"/api/v1/cart/items/{sub_id}", body, content_type="application/json")


def add(api, ids):
    return api.post(
        "/api/v1/cart/items", {"subscription_ids": ids}, content_type="application/json"
    )


def test_patch_answers_the_cart_priced_for_the_new_seats_and_term(api, sub):
    add(api, [sub.pk])
    response = patch(api, sub.pk, {"seats": 3, "term": "annual"})
    assert response.status_code == 200
    [group] = response.json()["groups"]
    [line] = group["lines"]
    assert line == {
        "subscription_id": "SUB-M",
        "product": {"code": "ACAD", "name": "AutoCAD"},
        "seats": 3,
        "term": "annual",
        "unit_price": {"amount": "990.00", "currency": "EUR"},
        "price_kind": "renewal",
        "amount": {"amount": "2970.00", "currency": "EUR"},
        "next_term": {"start": "2027-02-28", "end": "2028-02-29"},
        "previous": {"seats": 5, "term": "monthly"},
        "choices": {"max_seats": 10000, "terms": ["monthly", "annual"]},
    }
    assert (group["subtotal"], group["tax"], group["total"]) == (
        {"amount": "2970.00", "currency": "EUR"},
        {"amount": "594.00", "currency": "EUR"},
        {"amount": "3564.00", "currency": "EUR"},
    )
    assert api.get("/api/v1/cart").json()["groups"][0]["lines"][0] == line
    # Only the seats: the chosen term stays.
    line = patch(api, sub.pk, {"seats": 4}).json()["groups"][0]["lines"][0]
    assert (line["seats"], line["term"], line["amount"]["amount"]) == (4, "annual", "3960.00")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"seats": 0}, "seats_below_one"),
        ({"seats": 10001}, "seats_above_limit"),
        ({"term": "three_year"}, "term_not_sold"),
        ({"term": "weekly"}, "invalid_term"),
    ],
)
def test_a_refused_change_is_422_in_words_and_changes_nothing(api, sub, body, code):
    add(api, [sub.pk])
    before = list(CartLine.objects.values())
    response = patch(api, sub.pk, body)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == code
    assert list(CartLine.objects.values()) == before


def test_a_subscription_not_in_the_cart_or_someone_elses_is_404(api, sub):
    assert patch(api, sub.pk, {"seats": 2}).status_code == 404
    add(api, [sub.pk])
    eve = client_for(UserFactory(email="eve@example.com"))
    assert patch(eve, sub.pk, {"seats": 2}).status_code == 404
    assert CartLine.objects.get().seats == 5


def test_marie_renews_monthly_as_annual_with_fewer_seats_over_the_api(api, sub):
    add(api, [sub.pk])
    patch(api, sub.pk, {"seats": 3, "term": "annual"})
    response = api.post(
        "/api/v1/checkout",
        {"group": "5100000001:EUR:online", "payment": CARD_OK,
         "expected_total": {"amount": "3564.00", "currency": "EUR"}},
        content_type="application/json",
        headers={"Idempotency-Key": "k-1"},
    )  # fmt: skip
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "paid"
    [line] = order["lines"]
    assert (line["seats"], line["term"], line["previous"]) == (
        3,
        "annual",
        {"seats": 5, "term": "monthly"},
    )
    assert line["next_term"] == {"start": "2027-02-28", "end": "2028-02-29"}
    detail = api.get(f"/api/v1/orders/{order['number']}").json()
    assert detail["lines"] == order["lines"]
    shown = api.get("/api/v1/subscriptions/SUB-M").json()
    assert (shown["seats"], shown["term"], shown["renewal_date"]) == (3, "annual", "2028-02-29")
    assert shown["terms"][0] == {
        "start": "2027-02-28",
        "end": "2028-02-29",
        "order": order["number"],
        "seats": 3,
        "term": "annual",
    }
    assert shown["renewal"]["next_term"] == {"start": "2028-02-29", "end": "2029-02-28"}
    assert Subscription.objects.get().seats == 3
