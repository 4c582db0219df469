"""R10 through the API and the sandbox payment page: a new card is typed on the gateway's page,
0119 ("charged, answer lost") ends paid once, and no card number is stored, hashed or logged."""

import re
from datetime import timedelta

import pytest

from renewals.api.models import IdempotentRequest
from renewals.checkout.models import Order
from renewals.notifications.models import Email
from renewals.payments.models import GatewayCall, SandboxPayment

from .conftest import error_of
from .test_cart_checkout import add, checkout, subs  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("subs")]
GROUP = "5100000001:EUR:online"
PAN = re.compile(r"\d{13,19}")


def test_a_new_card_answers_requires_action_with_the_sandbox_payment_page(api, user, today, client):
    add(api, ["SUB-0"])
    response = checkout(api, {"group": GROUP, "payment": {"method": "card", "save": True}})
    assert response.status_code == 201
    order = response.json()
    assert (order["status"], order["payment"]["status"]) == ("requires_action", "requires_action")
    url = order["payment"]["action_url"]
    assert url.startswith("/sandbox/pay/sbx_")
    client.force_login(user)
    page = client.get(url)
    assert page.status_code == 200 and "4242 4242 4242 4242" in page.content.decode()
    back = client.post(url, {"card_number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"})
    assert back["Location"] == f"/billing/orders/{order['number']}/?return=1"
    client.get(back["Location"])
    paid = api.get(f"/api/v1/orders/{order['number']}").json()
    assert paid["status"] == "paid"
    assert user.cards.get().last4 == "4242"  # saved as asked


def test_a_number_that_is_not_a_test_card_is_refused_on_the_payment_page(api, user, today, client):
    add(api, ["SUB-0"])
    order = checkout(api, {"group": GROUP, "payment": {"method": "card"}}).json()
    client.force_login(user)
    page = client.post(order["payment"]["action_url"], {"card_number": "4111 1111 1111 1111"})
    assert page.status_code == 422
    assert "This card number is not accepted" in page.content.decode()
    row = SandboxPayment.objects.get()
    assert (row.status, row.card_number) == ("collecting", "")


def test_api_refuses_a_real_card_number_with_422_and_writes_nothing(api, today):
    add(api, ["SUB-0"])
    payment = {"method": "card", "card_number": "5555555555554444"}
    response = checkout(api, {"group": GROUP, "payment": payment})
    assert response.status_code == 422
    assert error_of(response)["code"] == "card_number_not_accepted"
    assert not Order.objects.exists() and not SandboxPayment.objects.exists()


def test_0119_is_confirming_blocks_a_second_order_then_ends_paid_once(
    api, user, today, client, caplog, monkeypatch
):
    monkeypatch.setattr("renewals.payments.collecting.LOOKUP_EVERY", timedelta(0))
    add(api, ["SUB-0"])
    payment = {"method": "card", "card_number": "4000 0000 0000 0119"}
    first = checkout(api, {"group": GROUP, "payment": payment})
    assert first.status_code == 201
    order = first.json()
    assert (order["status"], order["payment"]["status"]) == ("confirming", "confirming")
    # Meanwhile the group cannot be paid again, whatever the key.
    add(api, ["SUB-0"])
    again = checkout(api, {"group": GROUP, "payment": {"method": "card"}}, key="key-2")
    assert (again.status_code, error_of(again)["code"]) in (
        (409, "payment_pending"),
        (404, "not_found"),
    )
    assert Order.objects.count() == 1
    # The order page asks the gateway again: the charge is found.
    client.force_login(user)
    page = client.post(f"/billing/orders/{order['number']}/", {"check": "1"}, follow=True)
    assert page.status_code == 200
    assert "Payment received" in page.content.decode()
    assert api.get(f"/api/v1/orders/{order['number']}").json()["status"] == "paid"
    assert Email.objects.filter(kind="order-confirmation").count() == 1
    kinds = list(GatewayCall.objects.order_by("id").values_list("kind", "outcome"))
    assert kinds == [
        ("create_payment", "unknown"),
        ("find_payment", "unknown"),
        ("find_payment", "succeeded"),
    ]
    # No card number in the stored hashes, the ledger or the logs.
    stored = [o.request_hash for o in Order.objects.all()]
    stored += list(IdempotentRequest.objects.values_list("request_hash", flat=True))
    assert stored and all(len(h) == 64 for h in stored)
    ledger = str(list(GatewayCall.objects.values_list("response", "error")))
    assert not PAN.search(ledger) and not PAN.search(caplog.text)


def test_the_request_hash_never_depends_on_more_than_the_last_four_digits():
    from renewals.payments.checkout import request_hash

    a = request_hash(GROUP, {"method": "card", "card_number": "4000000000000119"}, None)
    b = request_hash(GROUP, {"method": "card", "card_number": "9999999999990119"}, None)
    c = request_hash(GROUP, {"method": "card", "card_number": "4242424242424242"}, None)
    assert a == b != c
