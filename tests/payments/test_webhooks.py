"""/webhooks/sandbox (interfaces.md §2, R10): signatures, duplicates, out-of-order events."""

import json
import time
from datetime import date

import pytest

from renewals.checkout.models import Order
from renewals.notifications.models import Email
from renewals.payments import actions
from renewals.payments.gateways.sandbox import event_body, sign
from renewals.payments.models import Payment, WebhookEvent
from renewals.subscriptions.models import Subscription

from .helpers import TODAY, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db
SECRET = "whsec_sandbox_development"


@pytest.fixture
def konbini_payment():
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini")
    return actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)


def post(client, body: bytes, signature: str | None):
    headers = {} if signature is None else {"HTTP_RENEWALS_SIGNATURE": signature}
    return client.post("/webhooks/sandbox", body, content_type="application/json", **headers)


def state(payment):
    payment.refresh_from_db()
    return payment.status, Order.objects.get(pk=payment.order_id).status


def test_signed_succeeded_event_pays_the_order(client, konbini_payment):
    body = event_body("payment.succeeded", konbini_payment.reference)
    response = post(client, body, sign(body, secret=SECRET))
    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"
    assert state(konbini_payment) == ("succeeded", "paid")


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=abc,v1=00",
        "v1=deadbeef",
        "t={now},v1=" + "0" * 64,
        "stale",
        "wrong-secret",
    ],
)
def test_unsigned_stale_or_tampered_events_are_refused_and_change_nothing(
    client, konbini_payment, signature
):
    body = event_body("payment.succeeded", konbini_payment.reference)
    if signature == "stale":
        signature = sign(body, secret=SECRET, timestamp=int(time.time()) - 301)
    elif signature == "wrong-secret":
        signature = sign(body, secret="another")
    elif signature:
        signature = signature.format(now=int(time.time()))
    response = post(client, body, signature)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert state(konbini_payment) == ("pending", "pending_payment")
    assert not WebhookEvent.objects.exists()


def test_a_body_changed_after_signing_is_refused(client, konbini_payment):
    body = event_body("payment.succeeded", konbini_payment.reference)
    signature = sign(body, secret=SECRET)
    tampered = body.replace(b"payment.succeeded", b"payment.expired")
    assert post(client, tampered, signature).status_code == 400
    assert state(konbini_payment) == ("pending", "pending_payment")


def test_signature_299_seconds_old_is_accepted(client, konbini_payment):
    body = event_body("payment.succeeded", konbini_payment.reference)
    signature = sign(body, secret=SECRET, timestamp=int(time.time()) - 299)
    assert post(client, body, signature).status_code == 200


def test_the_same_event_delivered_five_times_fulfils_once(client, konbini_payment):
    body = event_body("payment.succeeded", konbini_payment.reference)
    answers = [post(client, body, sign(body, secret=SECRET)).json() for _ in range(5)]
    assert [a["duplicate"] for a in answers] == [False, True, True, True, True]
    assert WebhookEvent.objects.count() == 1
    assert state(konbini_payment) == ("succeeded", "paid")
    sub = Subscription.objects.get()
    assert sub.renewal_date == date(2028, 3, 31)
    assert sub.terms.count() == 2
    assert Email.objects.filter(kind="order-confirmation").count() == 1


def test_failed_after_succeeded_changes_nothing(client, konbini_payment):
    for kind in ("payment.succeeded", "payment.failed", "payment.expired"):
        body = event_body(kind, konbini_payment.reference)
        assert post(client, body, sign(body, secret=SECRET)).status_code == 200
    assert state(konbini_payment) == ("succeeded", "paid")
    assert Subscription.objects.get().renewal_date == date(2028, 3, 31)
    assert not Email.objects.filter(kind="payment-expired").exists()


def test_succeeded_after_expired_renews_nothing_and_flags_for_reconciliation(
    client, konbini_payment
):
    for kind in ("payment.expired", "payment.succeeded"):
        body = event_body(kind, konbini_payment.reference)
        assert post(client, body, sign(body, secret=SECRET)).status_code == 200
    assert state(konbini_payment) == ("expired", "payment_after_release")
    assert Payment.objects.get().needs_reconciliation is True
    assert Subscription.objects.get().renewal_date == date(2027, 3, 31)
    assert not Email.objects.filter(kind="order-confirmation").exists()


def test_event_for_an_unknown_payment_is_refused_unstored_so_the_gateway_retries(client, db):
    body = event_body("payment.succeeded", "sbx_nobody")
    response = post(client, body, sign(body, secret=SECRET))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "unknown_payment")
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"id": "evt_1"}', b"[]"])
def test_malformed_but_signed_bodies_are_a_400_not_a_500(client, db, body):
    response = post(client, body, sign(body, secret=SECRET))
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_unknown_event_types_are_stored_and_ignored(client, konbini_payment):
    body = json.dumps(
        {"id": "evt_x", "type": "payment.refunded", "data": {"payment_reference": "x"}}
    ).encode()
    response = post(client, body, sign(body, secret=SECRET))
    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")
    assert state(konbini_payment) == ("pending", "pending_payment")


def test_webhook_accepts_post_only_and_needs_no_csrf_token(db):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    assert csrf_client.get("/webhooks/sandbox").status_code == 405
    body = event_body("payment.succeeded", "sbx_nobody")
    assert post(csrf_client, body, sign(body, secret=SECRET)).status_code == 404


def test_oversized_bodies_are_refused(client, db):
    body = b"{" + b" " * (70 * 1024) + b"}"
    assert post(client, body, sign(body, secret=SECRET)).status_code == 413
