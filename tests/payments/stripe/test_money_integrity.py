"""Issue #11 on a Stripe deployment (R10, R19): forged, malformed and late Stripe money."""

import json
import time
from datetime import date, timedelta

import pytest
import stripe

from renewals.checkout.models import Order
from renewals.notifications.models import Email
from renewals.payments import actions
from renewals.payments.gateways.sandbox import event_body, sign
from renewals.payments.models import Payment, WebhookEvent
from renewals.subscriptions.models import Subscription

from ..helpers import jpy_subscriptions, order_for
from .fake import WEBHOOK_SECRET
from .test_checkout import post as post_delivery

pytestmark = pytest.mark.django_db


def post(client, body, signature):
    return post_delivery(client, (body, signature))


LAST = date(2027, 5, 14)


def signed_event(fake, reference: str, **intent) -> tuple[bytes, str]:
    body, _signature = fake.event("payment_intent.succeeded", fake.intents[reference])
    event = json.loads(body)
    event["data"]["object"].update(intent)
    body = json.dumps(event)
    ts = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{ts}.{body}", WEBHOOK_SECRET)
    return body.encode(), f"t={ts},v1={signature}"


def stripe_konbini(today):
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini", today=today)
    return actions.start_payment(order, method="konbini", user=order.placed_by, today=today)


def test_a_forged_sandbox_event_on_a_stripe_deployment_pays_nothing(client, fake_stripe):
    payment = stripe_konbini(LAST)
    body = event_body("payment.succeeded", payment.reference)
    signature = sign(body, secret="whsec_sandbox_development")
    response = client.post(
        "/webhooks/sandbox",
        body,
        content_type="application/json",
        HTTP_RENEWALS_SIGNATURE=signature,
    )
    assert response.status_code == 404
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert Subscription.objects.get().renewal_date == date(2027, 3, 31)
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("amount", [13200.5, -13200, "13200", None, [1]])
def test_a_signed_stripe_event_with_a_bad_amount_is_400_and_recorded_nowhere(
    client,
    fake_stripe,
    amount,
):
    payment = stripe_konbini(LAST)
    body, signature = signed_event(fake_stripe, payment.reference, amount_received=amount)
    response = post(client, body, signature)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_event"
    payment.refresh_from_db()
    assert (payment.status, payment.received_amount) == ("pending", None)
    assert not WebhookEvent.objects.exists()


def test_a_stripe_event_id_over_the_column_is_400(client, fake_stripe):
    payment = stripe_konbini(LAST)
    event = json.loads(signed_event(fake_stripe, payment.reference)[0])
    event["id"] = "evt_" + "9" * 200
    body = json.dumps(event)
    ts = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{ts}.{body}", WEBHOOK_SECRET)
    response = post(client, body.encode(), f"t={ts},v1={signature}")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_event")
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    ("paid_on", "status"), [(LAST, "paid"), (LAST + timedelta(days=1), "payment_after_release")]
)
def test_stripe_konbini_money_after_the_last_renewable_day_is_kept_for_refund(
    client,
    fake_stripe,
    frozen_today,
    paid_on,
    status,
):
    payment = stripe_konbini(LAST)
    assert payment.expires_on == LAST
    frozen_today(paid_on)
    body, signature = signed_event(fake_stripe, payment.reference, amount_received=13200)
    assert post(client, body, signature).status_code == 200
    assert Order.objects.get().status == status
    if status == "paid":
        assert Subscription.objects.get().renewal_date == date(2028, 3, 31)
        return
    assert Subscription.objects.get().renewal_date == date(2027, 3, 31)
    assert Payment.objects.get().needs_reconciliation is True
    assert Email.objects.filter(kind="payment-not-applied").count() == 1
