"""Two checkouts with the same Idempotency-Key at the same time: one runs, one gets 409 (R10)."""

import threading
from datetime import date

import pytest
from django.db import connection

from renewals.api.endpoints import cart as cart_endpoints
from renewals.checkout.models import Order
from renewals.payments.models import Payment
from tests.factories import TaxRateFactory, priced_subscription

from .conftest import client_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BODY = {
    "group": "5100000001:EUR:online",
    "payment": {"method": "card", "card_number": "4242424242424242"},
}


def test_concurrent_same_key_runs_once_and_the_other_gets_409(user, customer, today, monkeypatch):
    TaxRateFactory(country="FR", rate="0.20")
    priced_subscription(
        id="SUB-C", customer=customer, purchaser=user, renewal_date=date(2027, 1, 31)
    )
    api = client_for(user)
    api.post("/api/v1/cart/items", {"subscription_ids": ["SUB-C"]}, content_type="application/json")

    entered, release = threading.Event(), threading.Event()
    real_place_order = cart_endpoints.place_order

    def slow_place_order(**kwargs):
        entered.set()
        assert release.wait(10)
        return real_place_order(**kwargs)

    monkeypatch.setattr(cart_endpoints, "place_order", slow_place_order)
    results = {}

    def post(name):
        try:
            results[name] = client_for(user, name).post(
                "/api/v1/checkout", BODY, content_type="application/json",
                headers={"Idempotency-Key": "same"},
            )  # fmt: skip
        finally:
            connection.close()

    first = threading.Thread(target=post, args=("first",))
    first.start()
    assert entered.wait(10)
    post("second")  # while the first is inside place_order
    release.set()
    first.join(20)
    assert results["second"].status_code == 409
    assert results["second"].json()["error"]["code"] == "request_in_progress"
    assert results["first"].status_code == 201
    replay = api.post(
        "/api/v1/checkout", BODY, content_type="application/json",
        headers={"Idempotency-Key": "same"},
    )  # fmt: skip
    assert replay.status_code == 200
    assert replay.json() == results["first"].json()
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1


def test_many_threads_same_key_create_one_order(user, customer, today):
    TaxRateFactory(country="FR", rate="0.20")
    priced_subscription(
        id="SUB-T", customer=customer, purchaser=user, renewal_date=date(2027, 1, 31)
    )
    api = client_for(user)
    api.post("/api/v1/cart/items", {"subscription_ids": ["SUB-T"]}, content_type="application/json")
    barrier = threading.Barrier(6)
    statuses = []

    def post(n):
        client = client_for(user, f"t{n}")
        barrier.wait(10)
        try:
            response = client.post(
                "/api/v1/checkout", BODY, content_type="application/json",
                headers={"Idempotency-Key": "burst"},
            )  # fmt: skip
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses.count(201) == 1
    assert set(statuses) <= {201, 200, 409}
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1
