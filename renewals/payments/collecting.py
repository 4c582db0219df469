"""Calling the gateway about a payment, and settling the ones whose answer was lost (R10).

A gateway call can time out after it succeeded. Its outcome is then `unknown`, never `failed`:
the payment becomes `confirming` (its order too, holding its terms so the group cannot be paid
again), is looked up at once — by its reference when the gateway gave one, else by the
idempotency key it was created with — and, while still unknown, again by the customer's
"check again", the reconciler and the daily run. The first definite answer settles it once,
through the same state machine as every other answer.
"""

from datetime import date, timedelta

from renewals.core import clock

from . import actions, gateways, rules
from .gateways.base import GatewayResult, PaymentRequest
from .ledger import call_gateway
from .models import GatewayCall, Payment

NEW_REFERENCE = "new_"  # a payment's placeholder reference until the gateway names it
LOOKUP_EVERY = timedelta(seconds=3)  # a customer's "check again" asks the gateway at most so often


def idempotency_key(payment: Payment) -> str:
    """The key every call starting this payment carries (one per order or invoice payment, R10)."""
    if payment.invoice_id:
        return f"renewals-invoice-payment-{payment.pk}"
    return f"renewals-order-{payment.order.number}"


def collect(payment: Payment, request: PaymentRequest, *, user, today: date) -> Payment:
    """Start collecting a created payment at its gateway; record the answer; look up a lost one."""
    gateway = gateways.get_gateway(payment.gateway)
    result = call_gateway(
        payment.gateway,
        "create_payment",
        lambda: gateway.create_payment(request),
        idempotency_key=request.idempotency_key,
        payment=payment,
    )
    payment = actions.record_result(
        payment.pk, result, actor_label=f"gateway:{payment.gateway}", user=user, today=today
    )
    if payment.status == "confirming" and request.method == "card" and not request.card_token:
        # Making a payment page moves no money: asking again with the same idempotency key is
        # the lookup — the gateway answers with the page it made, or makes it now (R10).
        result = call_gateway(
            payment.gateway,
            "create_payment",
            lambda: gateway.create_payment(request),
            idempotency_key=request.idempotency_key,
            payment=payment,
        )
        return actions.record_result(
            payment.pk, result, actor_label=f"lookup:{payment.gateway}", today=today
        )
    if payment.status == "confirming":
        payment = confirm_payment(payment.pk, source="checkout", today=today)
    return payment


def look_up(payment: Payment) -> GatewayResult | None:
    """Ask the gateway what became of a payment (one ledger row); None: it shows none."""
    gateway = gateways.get_gateway(payment.gateway)
    key = idempotency_key(payment)
    if payment.reference.startswith(NEW_REFERENCE):
        return call_gateway(
            payment.gateway,
            "find_payment",
            lambda: gateway.find_payment(key),
            idempotency_key=key,
            payment=payment,
        )
    return call_gateway(
        payment.gateway,
        "retrieve_payment",
        lambda: gateway.retrieve_payment(payment.reference),
        idempotency_key=key,
        payment=payment,
    )


def confirm_payment(
    payment_id: int,
    *,
    source: str,
    today: date,
    throttle: bool = False,
    lag_over: bool = False,
) -> Payment:
    """Look a confirming payment up at its gateway and settle it from the answer (R10).

    A lost answer, or "not found yet" from a lookup that lags (Stripe's search), leaves it
    confirming. "Not found" from a lookup that does not lag proves the call never reached the
    gateway: the payment fails with `no_gateway_answer` and its terms are released. With
    `throttle`, a payment asked about in the last few seconds is not asked again.
    """
    payment = Payment.objects.select_related("order").get(pk=payment_id)
    if payment.status not in ("confirming", "created"):
        return payment
    if throttle and _asked_recently(payment):
        return payment
    result = look_up(payment)
    gateway = gateways.get_gateway(payment.gateway)
    decision = rules.after_lookup(
        payment.status,
        None if result is None else result.outcome,
        lookup_may_lag=getattr(gateway, "find_may_lag", False) and not lag_over,
    )
    if decision is None:
        return payment
    if result is None:
        actions.payment_failed(payment.reference, failure_code="no_gateway_answer", source=source)
    else:
        actions.record_result(
            payment.pk, result, actor_label=f"{source}:{payment.gateway}", today=today
        )
    return Payment.objects.get(pk=payment.pk)


def _asked_recently(payment: Payment) -> bool:
    since = clock.now() - LOOKUP_EVERY
    return GatewayCall.objects.filter(payment=payment, created__gte=since).exists()


def return_from_gateway(payment_id: int, *, source: str, today: date) -> Payment:
    """The customer came back from the gateway's page (3-D Secure, Checkout): record it.

    A lost answer makes the payment confirming, looked up at once; never a failure.
    """
    payment = Payment.objects.select_related("order").get(pk=payment_id)
    if payment.status == "confirming":
        return confirm_payment(payment.pk, source=source, today=today, throttle=True)
    if payment.status != "requires_action":
        return payment
    return actions.complete_action(payment.reference, today=today)


def confirming_payments(*, created_before):
    """The payments whose outcome is unknown, for the reconciler (oldest first)."""
    return (
        Payment.objects.filter(status="confirming", created__lt=created_before)
        .exclude(gateway="invoice")
        .select_related("order")
        .order_by("pk")
    )
