"""Reactions to what the gateway says about a payment: answers, webhooks, returns (R9, R10, R19).

Each locks the payment, checks where it stands and moves it through `transitions.transition`;
repeated, late or out-of-order reports change nothing twice.
"""

import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from renewals.core import audit
from renewals.core.errors import NotFound

from .. import customers, gateways, rules
from ..gateways.base import GatewayResult
from ..models import CustomerFunds, Payment
from .transitions import flag, keep, locked, save_card, transition


def record_result(
    payment_id: int, result: GatewayResult, *, actor_label: str, today: date, user=None
) -> Payment:
    """Record a gateway's first definite answer about a created or confirming payment (idempotent).

    `today` is the business day the answer is recorded on (the renewal door's day, R19). An
    `unknown` answer (lost: time-out, connection, 5xx, rate limit) is never a failure: the
    payment becomes `confirming` and is looked up (payments.collecting, R10).
    """
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status not in ("created", "confirming"):
            return payment
        if result.outcome == rules.UNKNOWN:
            if payment.status == "created":
                transition(payment, "confirming", actor_label=actor_label, error=result.error)
            return payment
        if payment.status == "confirming" and result.reference.startswith("declined_"):
            result = GatewayResult(**{**result.__dict__, "reference": ""})
        payment.reference = result.reference or payment.reference
        payment.instructions = result.instructions
        payment.action_url = result.action_url
        payment.save(update_fields=["reference", "instructions", "action_url", "updated"])
        if result.saved_card and result.outcome == "succeeded":
            save_card(payment, result)
        if result.outcome == "pending" and payment.method == "bank_transfer":
            customers.remember_bank_account(payment.paid_order.customer_id, result.instructions)
        transition(
            payment,
            result.outcome,
            actor_label=actor_label,
            failure_code=result.failure_code,
            today=today,
        )
    return payment


def trusted_gateway(name: str) -> bool:
    """Tell whether a gateway's word about money counts here (R10).

    The sandbox simulates money: it is believed only while it is the configured gateway, so a
    payment left from a sandbox period can never be "paid" on a Stripe deployment (by its 3-D
    Secure page, the reconciler or a webhook).
    """
    return name != "sandbox" or settings.PAYMENT_GATEWAY == "sandbox"


def complete_action(reference: str, *, today: date) -> Payment:
    """Ask the gateway what became of a 3-D Secure challenge and record it (the customer's return).

    A challenge passed after the last renewable day renews nothing (R19): the door refuses and
    the money is kept on the order for staff to refund.
    """
    payment = Payment.objects.filter(reference=reference).first()
    if payment is None:
        raise NotFound("payment")
    if payment.status != "requires_action" or not trusted_gateway(payment.gateway):
        return payment
    from ..collecting import confirm_payment, idempotency_key  # they record through this module
    from ..ledger import call_gateway

    gateway = gateways.get_gateway(payment.gateway)
    result = call_gateway(
        payment.gateway,
        "retrieve_payment",
        lambda: gateway.retrieve_payment(reference),
        idempotency_key=idempotency_key(payment),
        payment=payment,
    )
    if result.outcome == rules.UNKNOWN:
        # The answer was lost: the customer may have passed the challenge and been charged.
        with transaction.atomic():
            current = locked(reference)
            if current is not None and current.status == "requires_action":
                transition(current, "confirming", actor_label="3ds_return", error=result.error)
        return confirm_payment(payment.pk, source="3ds_return", today=today)
    if result.outcome == "succeeded":
        with transaction.atomic():
            if result.saved_card:
                save_card(payment, result)
        payment_succeeded(reference, source="3ds_return", today=today)
    elif result.outcome == "failed":
        payment_failed(reference, failure_code=result.failure_code, source="3ds_return")
    return Payment.objects.get(pk=payment.pk)


def payment_succeeded(
    reference: str,
    *,
    amount=None,
    source: str,
    today: date,
    gateway: str | None = None,
    event_id: str = "",
) -> bool:
    """Record that a payment was collected; fulfil its order once. Return whether it changed.

    `today` is the business day the money is recorded on; `gateway`, when given, is the gateway
    whose endpoint reported it: a payment of another gateway is not touched. A success that
    arrives after the payment failed or expired (its term released), or that the renewal door
    refuses on `today` (R19), renews nothing: the money is kept on the order
    (`payment_after_release`) and the payment flagged for staff to refund. Money in another
    currency than the payment's pays nothing: it is recorded and flagged (`_wrong_currency`).
    """
    with transaction.atomic(savepoint=False):  # the event's transaction, if any (#15)
        payment = locked(reference, gateway)
        if payment is None:
            return False
        if amount is not None and amount.currency.code != payment.currency:
            # A payment succeeds once at the gateway, whichever events report it (a Checkout
            # session's and its PaymentIntent's): its money is one row, keyed by the payment.
            money_id = f"payment-{payment.pk}-{amount.currency.code}"
            return _wrong_currency(payment, amount, source=source, today=today, money_id=money_id)
        if amount is not None and Decimal(amount.amount) != Decimal(payment.amount):
            return _funds_received(payment, Decimal(amount.amount), source=source, today=today)
        if payment.status in rules.CLOSED_WITHOUT_MONEY:
            return keep(
                payment, source=source, why="money arrived after the payment closed", today=today
            )
        if payment.status == "partially_funded" and amount is not None:
            # The rest arrived (Stripe reports the total): nothing is left to reconcile.
            payment.received_amount = Decimal(amount.amount)
            payment.needs_reconciliation = False
            payment.save(update_fields=["received_amount", "needs_reconciliation", "updated"])
        return transition(payment, "succeeded", actor_label=source, today=today)


def transfer_received(
    reference: str,
    *,
    amount,
    source: str,
    today: date,
    cumulative: bool = False,
    gateway: str | None = None,
    event_id: str = "",
) -> bool:
    """Record a bank transfer: the exact amount pays the order; a short or excess one is flagged.

    Transfers add up (`amount` is one transfer) unless `cumulative`, when `amount` is the total
    received so far (Stripe reports a partially funded intent that way). A transfer in another
    currency than the payment's is recorded and flagged, and counts towards nothing.
    """
    value = Decimal(amount.amount) if hasattr(amount, "amount") else Decimal(amount)
    with transaction.atomic(savepoint=False):  # the event's transaction, if any (#15)
        payment = locked(reference, gateway)
        if payment is None:
            return False
        if hasattr(amount, "currency") and amount.currency.code != payment.currency:
            # Each transfer is its own money: keyed by the event that reports it.
            money_id = event_id or f"{source}:{uuid.uuid4().hex}"
            return _wrong_currency(payment, amount, source=source, today=today, money_id=money_id)
        if cumulative:
            already = Decimal(payment.received_amount or 0)
            if value <= already:
                return False
            value -= already
        return _funds_received(payment, value, source=source, today=today)


def _wrong_currency(payment: Payment, amount, *, source: str, today: date, money_id: str) -> bool:
    """Money reported in another currency than the payment's: it settles nothing (R10).

    Never added to `received_amount` (which is in the payment's currency) nor converted. It is
    recorded as funds for staff (`CustomerFunds`, flagged, naming the payment: it stays in that
    list even if the payment is later paid in its own currency), on the payment's audit trail,
    and the payment is flagged; an open payment stays open. On a payment that closed without
    money it is kept on the order, like any late money (R19).
    """
    code = amount.currency.code
    why = f"received {amount.amount} {code} on a payment of {payment.amount} {payment.currency}"
    order = payment.paid_order
    event_id = (rules.WRONG_CURRENCY + money_id)[:100]
    if CustomerFunds.objects.filter(gateway=payment.gateway, event_id=event_id).exists():
        return False  # this money is recorded and flagged already
    CustomerFunds.objects.create(
        gateway=payment.gateway,
        event_id=event_id,
        gateway_customer_id=order.customer.gateway_customer_id,
        customer=order.customer,
        amount=amount.amount,
        currency=code,
        status="flagged",
        payment=payment,
        note=f"Paid in the wrong currency: {why}. Refund it.",
    )
    audit.record(
        payment,
        action="funds_received_wrong_currency",
        label=source,
        amount=str(amount.amount),
        currency=code,
    )
    if payment.status in rules.CLOSED_WITHOUT_MONEY:
        return keep(payment, source=source, why=why, today=today)
    return flag(payment, source=source, why=why)


def _funds_received(payment: Payment, value: Decimal, *, source: str, today: date) -> bool:
    payment.received_amount = Decimal(payment.received_amount or 0) + value
    outcome = rules.transfer_outcome(
        expected=Decimal(payment.amount), received=payment.received_amount
    )
    paid = payment.status in rules.OPEN and outcome == "succeeded"
    if paid:  # the whole amount: nothing is left to reconcile (one UPDATE with the amount)
        payment.needs_reconciliation = False
    payment.save(update_fields=["received_amount", "needs_reconciliation", "updated"])
    audit.record(payment, action="funds_received", label=source, amount=str(value))
    if payment.status not in rules.OPEN:
        return keep(
            payment,
            source=source,
            why=f"received {value} on a {payment.status} payment",
            today=today,
        )
    if paid:
        return transition(payment, "succeeded", actor_label=source, today=today)
    changed = payment.status != "partially_funded"
    if changed:
        transition(payment, "partially_funded", actor_label=source)
    flag(payment, source=source, why=f"received {payment.received_amount} of {payment.amount}")
    return True


def payment_failed(
    reference: str, *, failure_code: str, source: str, gateway: str | None = None
) -> bool:
    """Record that a payment failed; a failure after a success or expiry changes nothing."""
    with transaction.atomic():
        payment = locked(reference, gateway)
        if payment is None or payment.status not in rules.OPEN:
            return False
        return transition(payment, "failed", actor_label=source, failure_code=failure_code)


def payment_expired(reference: str, *, source: str, gateway: str | None = None) -> bool:
    """Record that a payment's deadline passed: the order expires and its terms are released."""
    with transaction.atomic():
        payment = locked(reference, gateway)
        if payment is None or payment.status not in rules.OPEN - {"created"}:
            return False
        return transition(payment, "expired", actor_label=source)


def expire_overdue_payments(today: date) -> int:
    """Expire every open payment whose deadline is before `today` (the daily run, R9, R16).

    A payment still `created` past its deadline never got the gateway's answer (the process
    stopped mid-call): it fails with `no_gateway_answer`, so its order releases the terms. A
    `confirming` one is never failed by a date — the customer may have been charged: it is left
    to the reconciler's lookups and flagged for staff (R10).
    """
    for payment in Payment.objects.filter(
        status="confirming", expires_on__lt=today, needs_reconciliation=False
    ):
        flag(payment, source="daily", why="outcome still unknown after the payment deadline")
    rows = list(
        Payment.objects.filter(
            status__in=["created", "requires_action", "pending", "partially_funded"],
            expires_on__lt=today,
        ).values_list("reference", "status")
    )
    changed = 0
    for reference, status in rows:
        if status == "created":
            changed += payment_failed(reference, failure_code="no_gateway_answer", source="daily")
        else:
            changed += payment_expired(reference, source="daily")
    return changed
