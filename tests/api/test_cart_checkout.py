from datetime import date

import pytest

from renewals.api.models import IdempotentRequest
from renewals.checkout.models import CartLine, Order
from renewals.payments.models import Payment
from renewals.subscriptions.models import Subscription
from tests.factories import SubscriptionFactory, TaxRateFactory, priced_subscription

from .conftest import error_of

pytestmark = pytest.mark.django_db

D = date(2027, 1, 31)  # inside the window on TODAY (2026-11-26), still active: renewal price
CART_KEYS = {"groups", "count"}
GROUP_KEYS = {
    "key", "csn", "currency", "purchase_method", "lines", "blocked", "subtotal", "tax", "total",
    "payment_methods",
}  # fmt: skip
LINE_KEYS = {
    "subscription_id", "product", "seats", "term", "unit_price", "price_kind", "amount",
    "next_term", "previous", "choices",  # R21: what the line changes, and what it may change to
}  # fmt: skip


@pytest.fixture
def subs(user, customer, today):
    TaxRateFactory(country="FR", rate="0.20")
    return [
        priced_subscription(
            id=f"SUB-{n}",
            customer=customer,
            purchaser=user,
            renewal_date=D,
            seats=3,
            offering__code="ACAD",
            offering__name="AutoCAD",
        )  # fmt: skip
        for n in range(3)
    ]


def add(api, ids):
    return api.post(
        "/api/v1/cart/items", {"subscription_ids": ids}, content_type="application/json"
    )


def checkout(api, body, key="key-1"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.post("/api/v1/checkout", body, content_type="application/json", headers=headers)


CARD_OK = {"method": "card", "card_number": "4242424242424242", "save": False}


def test_empty_cart(api, today):
    assert api.get("/api/v1/cart").json() == {"groups": [], "count": 0}


def test_add_answers_the_priced_cart_and_the_rejected(api, subs, today):
    SubscriptionFactory(id="SUB-HIDDEN")
    response = add(api, ["SUB-0", "SUB-1", "SUB-HIDDEN"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == CART_KEYS | {"rejected"}
    assert body["rejected"] == [{"id": "SUB-HIDDEN", "reasons": ["not_found"]}]
    assert body["count"] == 2
    [group] = body["groups"]
    assert set(group) == GROUP_KEYS
    assert group["key"] == "5100000001:EUR:online"
    assert group["subtotal"] == {"amount": "11340.00", "currency": "EUR"}
    assert group["tax"] == {"amount": "2268.00", "currency": "EUR"}
    assert group["total"] == {"amount": "13608.00", "currency": "EUR"}
    assert group["payment_methods"] == ["card"]
    assert set(group["lines"][0]) == LINE_KEYS
    assert group["lines"][0] == {
        "subscription_id": "SUB-0",
        "product": {"code": "ACAD", "name": "AutoCAD"},
        "seats": 3,
        "term": "annual",
        "unit_price": {"amount": "1890.00", "currency": "EUR"},
        "price_kind": "renewal",
        "amount": {"amount": "5670.00", "currency": "EUR"},
        "next_term": {"start": "2027-01-31", "end": "2028-01-31"},
        "previous": None,  # R21: no change chosen
        "choices": {"max_seats": 10000, "terms": ["annual"]},
    }
    assert api.get("/api/v1/cart").json()["count"] == 2


def test_adding_past_100_is_422_too_many_and_adds_nothing(api, user, customer, subs, today):
    for n in range(3, 101):
        priced_subscription(id=f"SUB-{n}", customer=customer, purchaser=user, renewal_date=D)
    assert add(api, [f"SUB-{n}" for n in range(100)]).json()["count"] == 100
    response = add(api, ["SUB-100"])
    assert response.status_code == 422
    assert error_of(response)["code"] == "too_many"
    assert CartLine.objects.filter(user=user).count() == 100
    assert not CartLine.objects.filter(subscription_id="SUB-100").exists()


def test_remove_and_clear(api, user, subs, today):
    add(api, ["SUB-0", "SUB-1"])
    response = api.delete("/api/v1/cart/items/SUB-0")
    assert response.status_code == 200
    assert response.json()["count"] == 1
    missing = api.delete("/api/v1/cart/items/SUB-0")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    assert api.delete("/api/v1/cart").json() == {"groups": [], "count": 0}
    assert CartLine.objects.filter(user=user).count() == 0


def test_checkout_by_card_answers_201_with_a_paid_order(
    api, user, subs, today, django_capture_on_commit_callbacks
):
    from django.core import mail

    add(api, ["SUB-0", "SUB-1"])
    with django_capture_on_commit_callbacks(execute=True):
        response = checkout(
            api,
            {
                "group": "5100000001:EUR:online",
                "payment": CARD_OK,
                "expected_total": {"amount": "13608.00", "currency": "EUR"},
            },
        )
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "paid"
    assert order["total"] == {"amount": "13608.00", "currency": "EUR"}
    assert [line["subscription_id"] for line in order["lines"]] == ["SUB-0", "SUB-1"]
    assert order["payment"]["method"] == "card"
    assert order["payment"]["status"] == "succeeded"
    # R20: a paid order has its tax invoice, issued paid.
    assert (order["invoice"]["status"], order["invoice"]["due_date"]) == ("paid", "2026-11-26")
    assert Subscription.objects.get(pk="SUB-0").renewal_date == date(2028, 1, 31)
    assert api.get("/api/v1/cart").json()["count"] == 0
    assert [m.extra_headers["X-Renewals-Event"] for m in mail.outbox] == ["order-confirmation"]


def test_same_key_replays_the_first_order_with_200_and_charges_once(api, subs, today):
    add(api, ["SUB-0"])
    body = {"group": "5100000001:EUR:online", "payment": CARD_OK}
    first = checkout(api, body)
    again = checkout(api, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1


def test_same_key_with_another_body_is_422_mismatch(api, subs, today):
    add(api, ["SUB-0"])
    checkout(api, {"group": "5100000001:EUR:online", "payment": CARD_OK})
    response = checkout(api, {"group": "5100000001:EUR:online", "payment": {"method": "invoice"}})
    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_mismatch"
    assert Order.objects.count() == 1


@pytest.mark.parametrize("key", [None, ""])
def test_checkout_without_idempotency_key_is_400(api, subs, today, key):
    add(api, ["SUB-0"])
    response = checkout(api, {"group": "5100000001:EUR:online", "payment": CARD_OK}, key=key)
    assert response.status_code == 400
    assert error_of(response)["code"] == "idempotency_key_required"
    assert Order.objects.count() == 0


def test_changed_price_is_409_with_new_prices_and_the_key_can_be_retried(api, subs, today):
    add(api, ["SUB-0"])
    stale = {
        "group": "5100000001:EUR:online",
        "payment": CARD_OK,
        "expected_total": {"amount": "1.00", "currency": "EUR"},
    }
    response = checkout(api, stale)
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "price_changed"
    assert error["details"][-1] == {"total": {"amount": "6804.00", "currency": "EUR"}}
    assert Order.objects.count() == 0
    assert IdempotentRequest.objects.count() == 0
    fixed = {**stale, "expected_total": {"amount": "6804.00", "currency": "EUR"}}
    assert checkout(api, fixed).status_code == 201


def test_declined_card_answers_the_failed_order(api, subs, today):
    add(api, ["SUB-0"])
    response = checkout(
        api,
        {
            "group": "5100000001:EUR:online",
            "payment": {"method": "card", "card_number": "4000000000000002"},
        },
    )
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "failed"
    assert order["payment"]["failure_code"] == "card_declined"
    assert Subscription.objects.get(pk="SUB-0").renewal_date == D
    assert api.get("/api/v1/cart").json()["count"] == 1


def test_3ds_card_answers_requires_action_with_the_challenge_url(api, subs, today):
    add(api, ["SUB-0"])
    response = checkout(
        api,
        {
            "group": "5100000001:EUR:online",
            "payment": {"method": "card", "card_number": "4000000000003220"},
        },
    )
    order = response.json()
    assert order["status"] == "requires_action"
    assert (
        order["payment"]["action_url"].startswith("/sandbox/3ds/")
        or "/sandbox/3ds/" in (order["payment"]["action_url"])
    )
    renewal = api.get("/api/v1/subscriptions/SUB-0").json()["renewal"]
    assert renewal["reasons"] == ["payment_pending"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"group": "9999:EUR:online", "payment": CARD_OK}, 404, "not_found"),
        ({"group": "5100000001:EUR:online", "payment": {"method": "konbini"}}, 422, "method_not_allowed"),
        ({"group": "5100000001:EUR:online", "payment": {"method": "cash"}}, 422, "invalid"),
        ({"group": "5100000001:EUR:online", "payment": {"method": "card", "card_number": "12"}}, 422, "card_number_not_accepted"),
        ({"group": "5100000001:EUR:online", "payment": {"method": "card", "card_number": "4111111111111111"}}, 422, "card_number_not_accepted"),
        ({"group": "5100000001:EUR:online", "payment": {"method": "card", "payment_method_id": "999"}}, 422, "card_not_found"),
        ({"group": "5100000001:EUR:online"}, 422, "invalid"),
        ({"group": "5100000001:EUR:online", "payment": CARD_OK, "expected_total": {"amount": "x", "currency": "EUR"}}, 422, "invalid"),
    ],
)  # fmt: skip
def test_checkout_refusals_are_json_and_create_nothing(api, subs, today, body, status, code):
    add(api, ["SUB-0"])
    response = checkout(api, body)
    assert response.status_code == status, response.content
    assert error_of(response)["code"] == code
    assert Order.objects.count() == 0
    assert CartLine.objects.count() == 1


def test_another_users_order_is_404(api, user, subs, today):
    from tests.factories import UserFactory

    from .conftest import client_for

    add(api, ["SUB-0"])
    number = checkout(api, {"group": "5100000001:EUR:online", "payment": CARD_OK}).json()["number"]
    stranger = client_for(UserFactory())
    response = stranger.get(f"/api/v1/orders/{number}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert stranger.get("/api/v1/orders").json()["count"] == 0
    mine = api.get("/api/v1/orders").json()
    assert [o["number"] for o in mine["results"]] == [number]
    assert api.get(f"/api/v1/orders/{number}").json() == mine["results"][0]
