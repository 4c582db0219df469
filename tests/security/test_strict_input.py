"""Strict input (issue #14): booleans are JSON booleans, and a confirmed total is exact.

The probe sent `"auto_renew": "yes"` and it was taken as true; an `expected_total` with more
decimals than its currency (6804.004 EUR) was rounded into a match and charged.
"""

from datetime import date

import pytest
from django.core.cache import cache
from django.test import Client

from renewals.api.tokens import create_token
from renewals.checkout.models import CartLine, Order
from renewals.subscriptions.models import Subscription
from tests.factories import CustomerFactory, TaxRateFactory, UserFactory, priced_subscription

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 26)
PASSWORD = "correct horse battery"


@pytest.fixture
def world(frozen_today):
    cache.clear()
    frozen_today(TODAY)
    TaxRateFactory(country="FR", rate="0.20")
    TaxRateFactory(country="JP", rate="0.10")
    user = UserFactory(email="marie@dupont.example")
    fr = CustomerFactory(csn="5100000001", country="FR")
    jp = CustomerFactory(csn="5100000002", country="JP")
    for n, customer, currency in ((0, fr, "EUR"), (1, jp, "JPY")):
        priced_subscription(
            id=f"SUB-{n}",
            customer=customer,
            purchaser=user,
            renewal_date=date(2027, 1, 31),
            currency=currency,
            auto_renew=False,
        )
    _token, raw = create_token(user=user, name="probe")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    yield user, api
    cache.clear()


NOT_BOOLEANS = ["yes", "true", "1", 1, 0, "on", None, [], {}]


@pytest.mark.parametrize("value", NOT_BOOLEANS)
def test_auto_renew_must_be_a_json_boolean(world, value):
    _user, api = world
    response = api.patch(
        "/api/v1/subscriptions/SUB-0", {"auto_renew": value}, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert "auto_renew" in body["message"]
    assert Subscription.objects.get(pk="SUB-0").auto_renew is False

    bulk = api.post(
        "/api/v1/subscriptions/auto-renew",
        {"subscription_ids": ["SUB-0"], "auto_renew": value},
        content_type="application/json",
    )
    assert bulk.status_code == 422
    assert Subscription.objects.get(pk="SUB-0").auto_renew is False


def test_a_json_true_still_turns_it_on(world):
    _user, api = world
    response = api.patch(
        "/api/v1/subscriptions/SUB-0", {"auto_renew": True}, content_type="application/json"
    )
    assert response.status_code == 200
    assert Subscription.objects.get(pk="SUB-0").auto_renew is True


def test_save_card_must_be_a_json_boolean(world):
    _user, api = world
    api.post("/api/v1/cart/items", {"subscription_ids": ["SUB-0"]}, content_type="application/json")
    response = api.post(
        "/api/v1/checkout",
        {
            "group": "5100000001:EUR:online",
            "payment": {"method": "card", "card_number": "4242424242424242", "save": "yes"},
        },
        content_type="application/json",
        headers={"Idempotency-Key": "k-save"},
    )
    assert response.status_code == 422
    assert Order.objects.count() == 0


def _group_total(api, key):
    (group,) = [g for g in api.get("/api/v1/cart").json()["groups"] if g["key"] == key]
    return group["total"]["amount"]


@pytest.mark.parametrize(
    ("sub", "key", "extra", "words"),
    [
        ("SUB-0", "5100000001:EUR:online", "4", "more decimals than EUR allows"),
        ("SUB-1", "5100000002:JPY:online", ".4", "more decimals than JPY allows"),
    ],
)
def test_an_expected_total_finer_than_its_currency_is_refused_not_rounded(
    world, sub, key, extra, words
):
    _user, api = world
    api.post("/api/v1/cart/items", {"subscription_ids": [sub]}, content_type="application/json")
    total = _group_total(api, key)
    currency = key.split(":")[1]
    # "6804.004" EUR rounds to the true total 6804.00; "52800.4" JPY rounds to 52800.
    response = api.post(
        "/api/v1/checkout",
        {
            "group": key,
            "payment": {"method": "card", "card_number": "4242424242424242"},
            "expected_total": {"amount": total + extra, "currency": currency},
        },
        content_type="application/json",
        headers={"Idempotency-Key": f"k-{sub}"},
    )
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert words in error["message"]
    assert error["message"].startswith("expected_total:")
    assert Order.objects.count() == 0
    assert CartLine.objects.count() == 1

    exact = api.post(
        "/api/v1/checkout",
        {
            "group": key,
            "payment": {"method": "card", "card_number": "4242424242424242"},
            "expected_total": {"amount": total, "currency": currency},
        },
        content_type="application/json",
        headers={"Idempotency-Key": f"k2-{sub}"},
    )
    assert exact.status_code == 201, exact.content


def test_the_portal_refuses_a_tampered_total_with_more_decimals(client, world):
    user, _api = world
    user.set_password(PASSWORD)
    user.save()
    assert client.login(username=user.email, password=PASSWORD)
    client.post("/billing/cart/add/", {"subscription_ids": ["SUB-0"]})
    api_total = _group_total(world[1], "5100000001:EUR:online")
    page = client.get("/billing/cart/checkout/5100000001:EUR:online/")
    assert f'name="expected_total" value="{api_total}"' in page.content.decode()
    response = client.post(
        "/billing/cart/checkout/5100000001:EUR:online/",
        {
            "method": "card",
            "card_number": "4242424242424242",
            "idempotency_key": "portal-1",
            "expected_total": api_total + "4",
        },
    )
    assert response.status_code == 422
    assert "The total on this form is not a valid amount" in response.content.decode()
    assert Order.objects.count() == 0
