"""Money reported in another currency than the payment's settles nothing (R10, #11).

The webhook compares the amount and the currency: 13200 EUR is not 13200 JPY. Such money is
recorded (customer funds, flagged, naming the payment), the payment flagged for staff, and the
delivery answered 200 so the gateway does not send it for ever; a re-sent event records nothing
twice. An open payment can still be paid in its own currency, and the wrong money stays listed.
"""

from datetime import date
from decimal import Decimal

import pytest

from renewals.checkout.models import Order
from renewals.core.models import AuditEvent
from renewals.notifications.models import Email
from renewals.payments import actions
from renewals.payments.gateways.sandbox import event_body, sign
from renewals.payments.models import CustomerFunds, Payment, WebhookEvent
from renewals.subscriptions.models import Subscription

from .helpers import TODAY, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db
SECRET = "whsec_sandbox_development"


def start(method):
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method=method)
    return actions.start_payment(order, method=method, user=order.placed_by, today=TODAY)


def deliver(client, kind, reference, amount=None, currency=""):
    body = event_body(kind, reference, amount, currency)
    return client.post(
        "/webhooks/sandbox",
        body,
        content_type="application/json",
        HTTP_RENEWALS_SIGNATURE=sign(body, secret=SECRET),
    )


def state(payment):
    payment.refresh_from_db()
    order = Order.objects.get(pk=payment.order_id)
    return payment.status, order.status, payment.received_amount, payment.needs_reconciliation


def test_a_konbini_payment_reported_in_euros_settles_nothing_and_is_flagged(client):
    payment = start("konbini")
    body = event_body("payment.succeeded", payment.reference, "13200", "EUR")
    signature = sign(body, secret=SECRET)
    headers = {"content_type": "application/json", "HTTP_RENEWALS_SIGNATURE": signature}
    first = client.post("/webhooks/sandbox", body, **headers)
    assert first.status_code == 200 and first.json()["duplicate"] is False
    assert state(payment) == ("pending", "pending_payment", None, True)
    assert Subscription.objects.get().renewal_date == date(2027, 3, 31)
    assert not Email.objects.filter(kind="order-confirmation").exists()
    funds = CustomerFunds.objects.get()
    assert (funds.status, funds.payment_id, funds.amount, funds.currency) == (
        "flagged",
        payment.pk,
        Decimal("13200"),
        "EUR",
    )
    assert funds.customer_id == payment.order.customer_id and "JPY" in funds.note
    # The gateway's retry (its answer was lost) is acknowledged and records nothing twice.
    again = client.post("/webhooks/sandbox", body, **headers)
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert CustomerFunds.objects.count() == 1 and WebhookEvent.objects.count() == 1
    wrong = AuditEvent.objects.filter(action="funds_received_wrong_currency")
    assert list(wrong.values_list("object_id", "data")) == [
        (str(payment.pk), {"amount": "13200.00", "currency": "EUR"})
    ]


@pytest.mark.parametrize("currency", ["JPY", "jpy", ""])
def test_the_payments_own_currency_pays_it(client, currency):
    payment = start("konbini")
    assert (
        deliver(client, "payment.succeeded", payment.reference, "13200", currency).json()["outcome"]
        == "applied"
    )
    assert state(payment) == ("succeeded", "paid", None, False)
    assert not CustomerFunds.objects.exists()


def test_a_transfer_in_another_currency_counts_for_nothing_and_stays_listed_once_paid(client):
    payment = start("bank_transfer")
    assert (
        deliver(client, "transfer.received", payment.reference, "13200", "USD").status_code == 200
    )
    assert state(payment) == ("pending", "pending_payment", None, True)
    # The customer then pays in yen: the order is paid, the dollars are still there to refund.
    assert deliver(client, "transfer.received", payment.reference, "13200").status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.received_amount) == ("succeeded", Decimal("13200"))
    assert Order.objects.get(pk=payment.order_id).status == "paid"
    funds = CustomerFunds.objects.get()
    assert (funds.status, funds.currency, funds.payment_id) == ("flagged", "USD", payment.pk)


def test_money_in_another_currency_after_expiry_is_kept_on_the_order_for_refund(client):
    payment = start("konbini")
    deliver(client, "payment.expired", payment.reference)
    assert deliver(client, "payment.succeeded", payment.reference, "132", "EUR").status_code == 200
    assert state(payment) == ("expired", "payment_after_release", None, True)
    assert CustomerFunds.objects.get().currency == "EUR"
    assert Subscription.objects.get().renewal_date == date(2027, 3, 31)


@pytest.mark.parametrize("currency", ["XYZ", "EURO", 978, ["EUR"]])
def test_an_unknown_currency_is_400_and_recorded_nowhere(client, currency):
    payment = start("konbini")
    response = deliver(client, "payment.succeeded", payment.reference, "13200", currency)
    assert response.status_code == 400
    assert state(payment) == ("pending", "pending_payment", None, False)
    assert not WebhookEvent.objects.exists() and not CustomerFunds.objects.exists()
    assert Payment.objects.get().status == "pending"
