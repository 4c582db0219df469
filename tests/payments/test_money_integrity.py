"""Issue #11 (R10, R19): forged events, late money and refusals leave money and terms right.

Every attack here must fail with nothing paid or moved; money the renewal door refuses is kept
on the order (`payment_after_release`), flagged for staff and told to the customer in words.
Runs on SQLite and, with DATABASE_URL, on PostgreSQL.
"""

import importlib
import json
import time
from datetime import date, timedelta

import pytest
from django.db import IntegrityError
from django.test import override_settings
from django.urls import Resolver404, clear_url_caches, resolve

from renewals.checkout.models import Order
from renewals.core.errors import DomainError
from renewals.notifications.models import Email
from renewals.payments import actions
from renewals.payments.gateways.sandbox import SandboxGateway, event_body, sign
from renewals.payments.models import Payment, WebhookEvent
from renewals.payments.recovery import reconcile_stuck_payments
from renewals.subscriptions.models import Subscription
from tests.factories import UserFactory

from .helpers import TODAY, eur_subscription, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db
SECRET = "whsec_sandbox_development"
D = date(2027, 3, 31)  # the helpers' subscriptions: annual, G = 45
LAST = date(2027, 5, 14)  # last renewable day, D + G − 1
AFTER = LAST + timedelta(days=1)  # cancelled


def post(client, body: bytes, *, secret=SECRET):
    return client.post(
        "/webhooks/sandbox",
        body,
        content_type="application/json",
        HTTP_RENEWALS_SIGNATURE=sign(body, secret=secret),
    )


def raw_event(reference, *, event_id="evt_1", amount=None, kind="payment.succeeded") -> bytes:
    event = {
        "id": event_id,
        "type": kind,
        "created": "2027-03-01T00:00:00+00:00",
        "data": {"payment_reference": reference, "amount": amount},
    }
    return json.dumps(event).encode()


def konbini(today=TODAY, *, language="ja"):
    sub = jpy_subscriptions(user=UserFactory(language=language))[0]
    order = order_for([sub], method="konbini", today=today)
    return actions.start_payment(order, method="konbini", user=order.placed_by, today=today)


def state(payment):
    payment.refresh_from_db()
    order = Order.objects.get(pk=payment.order_id)
    sub = Subscription.objects.get(pk=order.lines.get().subscription_id)
    return payment.status, order.status, sub.renewal_date


# -- 1. forged payments ------------------------------------------------------------------------


def test_the_sandbox_endpoint_is_404_on_a_stripe_deployment_and_pays_nothing(client, settings):
    payment = konbini()
    settings.PAYMENT_GATEWAY = "stripe"
    body = event_body("payment.succeeded", payment.reference)
    response = post(client, body)
    assert response.status_code == 404
    assert client.get("/webhooks/sandbox").status_code == 404  # no sign of it, whatever the method
    assert state(payment) == ("pending", "pending_payment", D)
    assert not WebhookEvent.objects.exists()


def test_the_sandbox_url_is_not_even_routed_when_the_process_starts_with_stripe():
    import renewals.urls

    try:
        with override_settings(PAYMENT_GATEWAY="stripe"):
            importlib.reload(renewals.urls)
            clear_url_caches()
            with pytest.raises(Resolver404):
                resolve("/webhooks/sandbox")
            assert resolve("/webhooks/stripe")
    finally:
        importlib.reload(renewals.urls)
        clear_url_caches()
    assert resolve("/webhooks/sandbox")


def test_the_sandbox_command_refuses_too_on_a_stripe_deployment(settings):
    from renewals.payments.webhooks import receive_webhook

    payment = konbini()
    settings.PAYMENT_GATEWAY = "stripe"
    body = event_body("payment.succeeded", payment.reference)
    status, answer = receive_webhook(
        "sandbox", body, SandboxGateway().signed_headers(body), today=TODAY
    )
    assert (status, answer["error"]["code"]) == (404, "not_found")
    assert state(payment)[0] == "pending"


def test_a_sandbox_event_never_pays_a_payment_of_another_gateway(client):
    # A Stripe payment whose reference looks like a sandbox one (or a sandbox event guessed for
    # it): the sandbox endpoint does not know it.
    payment = konbini()
    Payment.objects.filter(pk=payment.pk).update(gateway="stripe")
    response = post(client, event_body("payment.succeeded", payment.reference))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "unknown_payment")
    assert state(payment) == ("pending", "pending_payment", D)
    assert not WebhookEvent.objects.exists()


def test_an_invoice_payment_cannot_be_paid_by_a_webhook(client):
    payment = konbini()
    Payment.objects.filter(pk=payment.pk).update(gateway="invoice")
    assert post(client, event_body("payment.succeeded", payment.reference)).status_code == 404


@pytest.mark.parametrize(
    ("event_id", "reference_suffix"),
    [
        ("evt_" + "x" * 97, ""),  # 101 characters: over the column
        ("evt_\x00", ""),
        ("", ""),
        ("evt_ok", "\x00"),
        ("evt_ok", "y" * 100),
    ],
)
def test_event_ids_and_references_that_do_not_fit_are_400_and_stored_nowhere(
    client, event_id, reference_suffix
):
    payment = konbini()
    body = raw_event(payment.reference + reference_suffix, event_id=event_id)
    response = post(client, body)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_event")
    assert not WebhookEvent.objects.exists()
    assert state(payment)[0] == "pending"


def test_an_event_id_of_exactly_100_characters_is_accepted(client):
    payment = konbini()
    response = post(client, raw_event(payment.reference, event_id="e" * 100))
    assert response.status_code == 200
    assert state(payment)[:2] == ("succeeded", "paid")


@pytest.mark.parametrize(
    "amount",
    [
        "-13200",
        "13200.5",
        "13200.01",
        "abc",
        "NaN",
        "Infinity",
        "1e400",
        13200.0,
        -1,
        True,
        [],
        "0",
    ],
)
def test_negative_fractional_or_non_numeric_amounts_are_400_and_recorded_nowhere(client, amount):
    payment = konbini()  # ¥13,200 (12,000 + 10 %)
    for kind in ("payment.succeeded", "transfer.received"):
        body = raw_event(payment.reference, event_id=f"evt_{kind}", amount=amount, kind=kind)
        response = post(client, body)
        assert response.status_code == 400, (kind, amount)
        assert response.json()["error"]["code"] in ("invalid_signature", "invalid_event")
    payment.refresh_from_db()
    assert (payment.status, payment.received_amount, payment.needs_reconciliation) == (
        "pending",
        None,
        False,
    )
    assert not WebhookEvent.objects.exists()


def test_a_cent_amount_is_fine_for_a_currency_with_cents(client, frozen_today):
    frozen_today(TODAY)
    sub = eur_subscription()
    order = order_for([sub], method="card")
    payment = actions.start_payment(
        order, method="card", user=order.placed_by, card_token="4000000000003220", today=TODAY
    )
    body = raw_event(payment.reference, amount=str(order.total))
    assert "." in str(order.total)
    assert post(client, body).status_code == 200
    assert state(payment)[:2] == ("succeeded", "paid")


# -- 3. late money ------------------------------------------------------------------------------


@pytest.mark.parametrize(("paid_on", "renewed"), [(LAST, True), (AFTER, False)])
def test_konbini_money_after_the_last_renewable_day_renews_nothing_before_the_daily_run(
    client, frozen_today, paid_on, renewed
):
    # Voucher issued on the last renewable day: its deadline is capped to that day (R9).
    payment = konbini(today=LAST)
    assert payment.expires_on == LAST
    frozen_today(paid_on)  # the daily run has not expired it yet
    response = post(client, event_body("payment.succeeded", payment.reference))
    assert response.status_code == 200
    if renewed:
        assert state(payment) == ("succeeded", "paid", date(2028, 3, 31))
        return
    assert state(payment) == ("succeeded", "payment_after_release", D)
    payment.refresh_from_db()
    assert payment.needs_reconciliation is True
    order = Order.objects.get(pk=payment.order_id)
    assert order.failure_code == "cancelled"
    assert order.lines.get().holds_term is False
    email = Email.objects.get(kind="payment-not-applied")
    assert email.language == "ja" and "返金" in email.text
    assert not Email.objects.filter(kind="order-confirmation").exists()
    # Delivered again: still one email, still nothing renewed, never a 500.
    again = post(client, event_body("payment.succeeded", payment.reference))
    assert again.status_code == 200
    assert Email.objects.filter(kind="payment-not-applied").count() == 1


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "cancelled subscription can never be renewed"),
        ("fr", "rembours"),
        ("ja", "解約"),
    ],
)
def test_the_customer_is_told_in_their_language(client, frozen_today, language, words):
    payment = konbini(today=LAST, language=language)
    frozen_today(AFTER)
    post(client, event_body("payment.succeeded", payment.reference))
    email = Email.objects.get(kind="payment-not-applied")
    assert words in email.text and words in email.html
    assert email.headers["X-Renewals-Order"] == Order.objects.get().number


def test_a_transfer_received_after_the_last_renewable_day_is_kept_for_refund(client, frozen_today):
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="bank_transfer", today=LAST)
    payment = actions.start_payment(order, method="bank_transfer", user=order.placed_by, today=LAST)
    frozen_today(AFTER)
    _kind, body = SandboxGateway().customer_pays(payment.reference)
    assert post(client, body).status_code == 200
    assert state(payment) == ("succeeded", "payment_after_release", D)


@pytest.mark.parametrize("started", [LAST - timedelta(days=3), LAST])
def test_a_3ds_challenge_never_outlives_the_last_renewable_day(started):
    sub = eur_subscription()
    order = order_for([sub], method="card", today=started)
    payment = actions.start_payment(
        order, method="card", user=order.placed_by, card_token="4000000000003220", today=started
    )
    assert payment.status == "requires_action"
    assert payment.expires_on == min(started + timedelta(days=1), LAST)


def test_a_3ds_challenge_passed_the_day_after_renews_nothing_and_is_kept():
    sub = eur_subscription()
    order = order_for([sub], method="card", today=LAST)
    payment = actions.start_payment(
        order, method="card", user=order.placed_by, card_token="4000000000003220", today=LAST
    )
    SandboxGateway().complete_challenge(payment.reference, passed=True)
    actions.complete_action(payment.reference, today=AFTER)
    assert state(payment) == ("succeeded", "payment_after_release", D)
    assert Payment.objects.get().needs_reconciliation is True


def test_the_crash_reconciler_finding_money_after_the_last_day_renews_nothing():
    sub = eur_subscription()
    order = order_for([sub], method="card", today=LAST)
    payment = actions.start_payment(
        order, method="card", user=order.placed_by, card_token="4000000000003220", today=LAST
    )
    SandboxGateway().complete_challenge(payment.reference, passed=True)
    counts = reconcile_stuck_payments(
        created_before=payment.created + timedelta(seconds=1), today=AFTER
    )
    assert counts["completed"] == 1
    assert state(payment) == ("succeeded", "payment_after_release", D)


def test_staff_cannot_settle_after_cancellation_and_refund_closes_the_order():
    staff = UserFactory(is_staff=True, is_superuser=True)
    payment = konbini(today=LAST)
    actions.transfer_received  # noqa: B018 (konbini: a short amount flags it like a transfer)
    Payment.objects.filter(pk=payment.pk).update(status="partially_funded")
    with pytest.raises(DomainError) as refused:
        actions.settle_payment(payment.pk, actor=staff, note="bank fee", today=AFTER)
    assert refused.value.code == "renewal_refused"
    assert state(payment) == ("partially_funded", "pending_payment", D)  # rolled back whole
    assert actions.refund_payment(payment.pk, actor=staff, note="given back") is True
    assert state(payment) == ("refunded", "failed", D)


def test_kept_money_is_refunded_by_staff_and_the_order_says_so(client, frozen_today):
    staff = UserFactory(is_staff=True, is_superuser=True)
    payment = konbini(today=LAST)
    frozen_today(AFTER)
    post(client, event_body("payment.succeeded", payment.reference))
    client.force_login(staff)
    listing = client.get("/admin/payments/payment/?reconcile=yes")
    assert payment.reference in listing.content.decode()
    assert "to be refunded" in listing.content.decode()
    assert actions.refund_payment(payment.pk, actor=staff, note="refund R-1 via bank") is True
    assert state(payment) == ("refunded", "refunded", D)
    payment.refresh_from_db()
    assert payment.needs_reconciliation is False


def test_the_order_page_tells_the_customer_the_money_will_be_refunded(client, frozen_today):
    payment = konbini(today=LAST, language="en")
    frozen_today(AFTER)
    post(client, event_body("payment.succeeded", payment.reference))
    order = Order.objects.get()
    client.force_login(order.placed_by)
    page = client.get(f"/billing/orders/{order.number}/").content.decode()
    assert "It will be refunded in full" in page


# -- 2. a term moved under a pending payment: never a 500 -------------------------------------


def test_a_payment_for_a_term_already_renewed_elsewhere_is_kept_never_a_500(client):
    payment = konbini()
    order = Order.objects.get(pk=payment.order_id)
    sub = Subscription.objects.get(pk=order.lines.get().subscription_id)
    # Whatever moved D (the staff, an old import): the order's term is no longer the next one.
    Subscription.objects.filter(pk=sub.pk).update(
        renewal_date=date(2028, 3, 31), lapse_date=date(2028, 3, 31)
    )
    response = post(client, event_body("payment.succeeded", payment.reference))
    assert response.status_code == 200
    assert state(payment) == ("succeeded", "payment_after_release", date(2028, 3, 31))
    assert Order.objects.get(pk=order.pk).failure_code == "already_renewed"


# -- automatic orders' idempotency ---------------------------------------------------------------


def test_two_automatic_orders_cannot_share_an_idempotency_key():
    sub = eur_subscription()
    Order.objects.create(
        number="R-2027-900001",
        customer=sub.customer,
        currency="EUR",
        purchase_method="online",
        payment_method="card",
        status="failed",
        placed_by=None,
        automatic=True,
        subtotal=1,
        tax=0,
        total=1,
        tax_rate=0,
        business_date=TODAY,
        idempotency_key="auto-SUB-1-2027-03-31-0",
    )
    with pytest.raises(IntegrityError):
        Order.objects.create(
            number="R-2027-900002",
            customer=sub.customer,
            currency="EUR",
            purchase_method="online",
            payment_method="card",
            status="failed",
            placed_by=None,
            automatic=True,
            subtotal=1,
            tax=0,
            total=1,
            tax_rate=0,
            business_date=TODAY,
            idempotency_key="auto-SUB-1-2027-03-31-0",
        )


def test_the_event_signature_still_comes_first():
    body = raw_event("sbx_x", event_id="evt_\x00")
    from renewals.payments.webhooks import receive_webhook

    status, answer = receive_webhook(
        "sandbox",
        body,
        {"Renewals-Signature": f"t={int(time.time())},v1=00"},
        today=TODAY,
    )
    assert (status, answer["error"]["code"]) == (400, "invalid_signature")


def test_a_sandbox_challenge_left_from_a_sandbox_period_pays_nothing_on_stripe(client, settings):
    sub = eur_subscription()
    order = order_for([sub], method="card")
    payment = actions.start_payment(
        order, method="card", user=order.placed_by, card_token="4000000000003220", today=TODAY
    )
    settings.PAYMENT_GATEWAY = "stripe"  # the vendor switched gateways
    client.force_login(order.placed_by)
    page = f"/sandbox/3ds/{payment.reference}/"
    assert client.get(page).status_code == 404
    assert client.post(page, {"answer": "complete"}).status_code == 404
    SandboxGateway().complete_challenge(payment.reference, passed=True)  # even if simulated
    actions.complete_action(payment.reference, today=TODAY)
    counts = reconcile_stuck_payments(
        created_before=payment.created + timedelta(seconds=1), today=TODAY
    )
    assert counts["unknown"] == 1
    assert state(payment) == ("requires_action", "requires_action", D)
