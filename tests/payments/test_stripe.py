"""The Stripe gateway against RECORDED API responses (no network) and signed webhooks (R10)."""

import json
import os
import time
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest
import stripe

from renewals.checkout.models import Order
from renewals.core.money import money
from renewals.payments import actions
from renewals.payments.gateways import get_gateway
from renewals.payments.gateways.base import PaymentRequest, WebhookSignatureError
from renewals.payments.gateways.stripe import StripeGateway
from renewals.payments.models import Payment
from renewals.subscriptions.models import Subscription

from .helpers import TODAY, eur_subscription, jpy_subscriptions, order_for

FIXTURES = Path(__file__).parent / "stripe_fixtures"
WEBHOOK_SECRET = "whsec_test_recorded"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class RecordedStripe(stripe.HTTPClient):
    """Serve recorded responses in order and remember every request the SDK made."""

    name = "recorded"

    def __init__(self, *responses):
        super().__init__()
        self.responses = list(responses)
        self.requests = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.requests.append(
            {
                "method": method,
                "url": url,
                "idempotency_key": dict(headers or {}).get("Idempotency-Key"),
                "body": unquote(post_data or ""),
            }
        )
        name, status = self.responses.pop(0)
        return json.dumps(fixture(name)), status, {"Request-Id": "req_recorded"}

    def request_stream(self, *args, **kwargs):
        raise NotImplementedError

    def close(self):
        pass


@pytest.fixture
def use_stripe(settings, monkeypatch):
    """Make the configured gateway Stripe, answering with the given recorded responses."""
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET

    def install(*responses):
        http = RecordedStripe(*responses)
        gateway = StripeGateway(api_key="sk_test_recorded", http_client=http)
        monkeypatch.setattr("renewals.payments.gateways.get_gateway", lambda name=None: gateway)
        return http

    return install


def request(method="card", **kwargs):
    values = {
        "reference_hint": "R-2027-000001",
        "amount": money("6804.00", "EUR") if method == "card" else money(13200, "JPY"),
        "method": method,
        "idempotency_key": "renewals-order-R-2027-000001",
        "customer_email": "buyer@example.com",
    }
    return PaymentRequest(**{**values, **kwargs})


def test_card_payment_intent_is_confirmed_with_an_idempotency_key():
    http = RecordedStripe(("pi_card_succeeded", 200))
    result = StripeGateway(api_key="sk_test_x", http_client=http).create_payment(
        request(card_token="pm_card_visa", return_url="http://127.0.0.1:8000/back")
    )
    assert (result.outcome, result.reference) == ("succeeded", "pi_3QabcCardOk000001")
    sent = http.requests[0]
    assert sent["url"] == "https://api.stripe.com/v1/payment_intents"
    assert sent["idempotency_key"] == "renewals-order-R-2027-000001"
    assert "amount=680400" in sent["body"] and "currency=eur" in sent["body"]
    assert "confirm=True" in sent["body"] or "confirm=true" in sent["body"]
    assert "return_url=http://127.0.0.1:8000/back" in sent["body"]


def test_3ds_card_returns_the_redirect_url():
    http = RecordedStripe(("pi_card_requires_action", 200))
    result = StripeGateway(api_key="sk_test_x", http_client=http).create_payment(
        request(card_token="pm_card_authenticationRequired")
    )
    assert result.outcome == "requires_action"
    assert result.action_url.startswith("https://hooks.stripe.com/3d_secure_2/hosted")


def test_declined_card_is_a_failed_result_with_the_decline_code():
    http = RecordedStripe(("error_card_declined", 402))
    result = StripeGateway(api_key="sk_test_x", http_client=http).create_payment(
        request(card_token="pm_card_chargeDeclinedInsufficientFunds")
    )
    assert (result.outcome, result.failure_code, result.reference) == (
        "failed",
        "insufficient_funds",
        "pi_3QabcDeclined0001",
    )


def test_off_session_saved_card_is_charged_through_its_customer():
    http = RecordedStripe(("pi_card_succeeded", 200))
    StripeGateway(api_key="sk_test_x", http_client=http).create_payment(
        request(card_token="cus_QabcCustomer01:pm_1QabcVisa0000001", off_session=True)
    )
    body = http.requests[0]["body"]
    assert "customer=cus_QabcCustomer01" in body
    assert "payment_method=pm_1QabcVisa0000001" in body
    assert "off_session=True" in body or "off_session=true" in body
    assert "return_url" not in body


def test_konbini_voucher_comes_from_konbini_display_details():
    http = RecordedStripe(("pi_konbini", 200))
    result = StripeGateway(api_key="sk_test_x", http_client=http).create_payment(
        request("konbini", expires_on=date(2027, 3, 4))
    )
    voucher = result.instructions["konbini"]
    assert result.outcome == "pending"
    assert (voucher["payment_code"], voucher["confirmation_number"]) == ("123456", "55555555555")
    assert voucher["expires_at"] == "2027-03-04"
    assert "payment_method_types[0]=konbini" in http.requests[0]["body"]
    # The deadline day ends at 23:59:59 in Japan (2027-03-04T14:59:59Z).
    assert "payment_method_options[konbini][expires_at]=1804172399" in http.requests[0]["body"]


def test_bank_transfer_uses_customer_balance_jp_bank_transfer():
    http = RecordedStripe(("customer", 200), ("pi_bank_transfer", 200))
    result = StripeGateway(api_key="sk_test_x", http_client=http).create_payment(
        request("bank_transfer", expires_on=date(2027, 3, 8))
    )
    details = result.instructions["bank_transfer"]
    assert result.outcome == "pending"
    assert (details["bank_name"], details["branch_code"], details["account_number"]) == (
        "三井住友銀行",
        "950",
        "1234567",
    )
    assert details["expires_at"] == "2027-03-08"
    customer_call, intent_call = http.requests
    assert customer_call["url"].endswith("/v1/customers")
    assert customer_call["idempotency_key"] == "renewals-order-R-2027-000001-customer"
    assert "payment_method_types[0]=customer_balance" in intent_call["body"]
    assert (
        "payment_method_options[customer_balance][bank_transfer][type]=jp_bank_transfer"
        in intent_call["body"]
    )


# -- through start_payment and the webhooks ------------------------------------------------------


def signed(
    name: str, reference: str, *, secret=WEBHOOK_SECRET, timestamp=None
) -> tuple[bytes, str]:
    body = json.dumps(fixture(name)).replace("PI_ID", reference).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    signature = stripe.WebhookSignature._compute_signature(f"{ts}.{body.decode()}", secret)
    return body, f"t={ts},v1={signature}"


def post(client, body, signature):
    return client.post(
        "/webhooks/stripe", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


@pytest.mark.django_db
def test_stripe_konbini_paid_by_webhook_renews_once(client, use_stripe):
    use_stripe(("pi_konbini", 200))
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini")
    payment = actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    assert (payment.gateway, payment.status, payment.reference) == (
        "stripe",
        "pending",
        "pi_3QabcKonbini00001",
    )
    body, signature = signed("evt_pi_succeeded", payment.reference)
    for _ in range(3):
        assert post(client, body, signature).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert Order.objects.get().status == "paid"
    assert Subscription.objects.get().renewal_date == date(2028, 3, 31)


@pytest.mark.django_db
def test_stripe_konbini_voucher_failure_is_an_expiry(client, use_stripe):
    use_stripe(("pi_konbini", 200))
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini")
    payment = actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    assert (
        post(client, *signed("evt_pi_payment_failed_konbini", payment.reference)).status_code == 200
    )
    payment.refresh_from_db()
    assert (payment.status, Order.objects.get().status) == ("expired", "expired")


@pytest.mark.django_db
def test_stripe_partially_funded_transfer_is_flagged_then_paid_when_complete(client, use_stripe):
    use_stripe(("customer", 200), ("pi_bank_transfer", 200))
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="bank_transfer")
    payment = actions.start_payment(
        order, method="bank_transfer", user=order.placed_by, today=TODAY
    )
    post(client, *signed("evt_pi_partially_funded", payment.reference))
    payment.refresh_from_db()
    assert (payment.status, str(payment.received_amount), payment.needs_reconciliation) == (
        "partially_funded",
        "13000.000",
        True,
    )
    post(client, *signed("evt_pi_succeeded", payment.reference))
    payment.refresh_from_db()
    assert (payment.status, payment.needs_reconciliation) == ("succeeded", False)
    assert Order.objects.get().status == "paid"


@pytest.mark.django_db
def test_stripe_3ds_return_records_success_and_saves_the_card(use_stripe):
    http = use_stripe(("pi_card_requires_action", 200), ("pi_card_succeeded_after_3ds", 200))
    sub = eur_subscription(payment_method=None)
    order = order_for([sub])
    payment = actions.start_payment(
        order,
        method="card",
        user=order.placed_by,
        card_token="pm_1Qabc3ds00000001",
        today=TODAY,
        return_url="/billing/orders/x/",
    )
    assert payment.status == "requires_action"
    actions.complete_action(payment.reference)
    payment.refresh_from_db()
    sub.refresh_from_db()
    assert payment.status == "succeeded"
    assert sub.card.token == "cus_QabcCustomer01:pm_1Qabc3ds00000001"
    assert (sub.card.last4, sub.card.gateway) == ("3220", "stripe")
    assert http.requests[1]["url"].endswith(
        "/v1/payment_intents/pi_3Qabc3dsChallenge1?expand[0]=payment_method"
    )


@pytest.mark.django_db
def test_stripe_card_failure_event_fails_an_open_payment(client, use_stripe):
    use_stripe(("pi_card_requires_action", 200))
    sub = eur_subscription()
    order = order_for([sub])
    payment = actions.start_payment(
        order, method="card", user=order.placed_by, card_token="pm_x", today=TODAY
    )
    post(client, *signed("evt_pi_payment_failed_card", payment.reference))
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "authentication_required")


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["wrong_secret", "stale", "unsigned"])
def test_stripe_webhook_signature_is_verified(client, settings, case):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    secret = "whsec_other" if case == "wrong_secret" else WEBHOOK_SECRET
    timestamp = int(time.time()) - 301 if case == "stale" else None
    body, signature = signed("evt_pi_succeeded", "pi_x", secret=secret, timestamp=timestamp)
    response = post(client, body, "" if case == "unsigned" else signature)
    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_parse_webhook_raises_on_tampered_body(settings):
    body, signature = signed("evt_pi_succeeded", "pi_x")
    with pytest.raises(WebhookSignatureError):
        StripeGateway(api_key="sk_test_x", webhook_secret=WEBHOOK_SECRET).parse_webhook(
            body.replace(b"13200", b"99999"), {"Stripe-Signature": signature}
        )


@pytest.mark.skipif(
    not os.environ.get("STRIPE_API_KEY", "").startswith("sk_test_"),
    reason="live Stripe test: set STRIPE_API_KEY=sk_test_… (test mode only)",
)
def test_live_stripe_test_mode_card_payment():
    result = get_gateway("stripe").create_payment(
        request(
            card_token="pm_card_visa",
            idempotency_key=f"renewals-live-test-{int(time.time())}",
            return_url="http://127.0.0.1:8000/",
        )
    )
    assert result.outcome == "succeeded" and result.reference.startswith("pi_")
