"""The one door of `Payment.status`: a checked move, audited, that moves the order (R9, R19).

`transition` checks the move against `rules.TRANSITIONS`, saves, writes an audit event and
calls the matching order transition of checkout (paid → fulfilment, exactly once).
"""

from datetime import date
from functools import partial

from renewals.accounts.models import Card
from renewals.billing import actions as billing
from renewals.checkout import orders
from renewals.checkout.emails import order_path
from renewals.checkout.models import KEPT_STATUSES, Order
from renewals.core import audit
from renewals.core.formatting import long_date
from renewals.core.money import format_money, money
from renewals.events import outbox as events
from renewals.notifications.outbox import queue_email
from renewals.subscriptions.actions import set_payment_method
from renewals.subscriptions.models import Subscription

from .. import rules
from ..gateways.base import GatewayResult
from ..models import Payment


def locked(reference: str, gateway: str | None = None) -> Payment | None:
    payments = Payment.objects.select_for_update().filter(reference=reference)
    if gateway is not None:
        # An event applies only to a payment of the gateway whose endpoint received it.
        payments = payments.filter(gateway=gateway)
    return payments.first()


def keep(payment: Payment, *, source: str, why: str, today: date) -> bool:
    """Money on a payment that closed without it: flag it, and keep it on the order (R19).

    For an invoice payment the order is not touched: staff settle the money against the
    invoice (admin *Mark paid*) or refund it.
    """
    flag(payment, source=source, why=why)
    if payment.order_id:
        orders.keep_payment(payment.order_id, reason="released", today=today, actor_label=source)
    return True


def flag(payment: Payment, *, source: str, why: str) -> bool:
    if not payment.needs_reconciliation:
        payment.needs_reconciliation = True
        payment.save(update_fields=["needs_reconciliation", "updated"])
    audit.record(payment, action="flagged_for_reconciliation", label=source, why=why)
    return True


def transition(
    payment: Payment,
    new: str,
    *,
    actor_label: str,
    failure_code: str = "",
    today: date | None = None,
    **data,
) -> bool:
    """Move a locked payment to `new` if allowed; save, audit and move its order. Return changed.

    A move to `succeeded` needs `today`, the day the money is recorded: the order's fulfilment
    passes it to the renewal door, which may refuse (R19); the payment is then flagged.
    """
    if new == "succeeded" and today is None:
        raise ValueError("recording money needs the business day it is recorded on")
    if payment.status == new:
        return False
    if not rules.can_transition(payment.status, new):
        audit.record(
            payment,
            action="transition_refused",
            label=actor_label,
            current=payment.status,
            requested=new,
        )
        return False
    previous = payment.status
    payment.status = new
    if new == "failed":
        payment.failure_code = failure_code or "failed"
    payment.save(update_fields=["status", "failure_code", "updated"])
    audit.record(
        payment,
        action=f"payment_{new}",
        label=actor_label,
        previous=previous,
        failure_code=payment.failure_code,
        **data,
    )
    if payment.invoice_id:
        _invoice_payment_moved(payment, new, actor_label=actor_label, today=today)
        return True
    order_id = payment.order_id
    if new == "succeeded":
        # R20: the order's invoice is issued inside fulfilment, only once the door renewed.
        issue = partial(billing.invoice_fulfilled_order, today=today)
        if not orders.order_paid(
            order_id, today=today, actor_label=actor_label, on_fulfilled=issue, payment=payment
        ):
            if Order.objects.filter(pk=order_id, status__in=KEPT_STATUSES).exists():
                flag(payment, source=actor_label, why="the renewal door refused the payment")
    elif new == "requires_action":
        orders.order_requires_action(order_id)
    elif new == "confirming":
        orders.order_confirming(order_id)
    elif new == "pending":
        orders.order_awaiting_payment(order_id)
        queue_payment_email(payment, "payment-instructions")
    elif new == "failed":
        orders.order_failed(order_id, failure_code=payment.failure_code)
    elif new == "expired":
        orders.order_expired(order_id)
        queue_payment_email(payment, "payment-expired")
    elif new == "refunded" and previous in ("pending", "partially_funded"):
        orders.order_failed(order_id, failure_code="refunded")
    if new == "refunded":
        orders.order_refunded(order_id, actor_label=actor_label)
    events.emit_payment_state(order_id, new)
    return True


def _invoice_payment_moved(payment: Payment, new: str, *, actor_label: str, today) -> None:
    """What a move of an invoice payment does: paid → the invoice is paid (R9); else emails."""
    if new == "succeeded":
        invoice = payment.invoice
        if not billing.invoice_paid(invoice, actor=None, today=today, label=actor_label):
            # Paid twice (e.g. a bank transfer staff recorded first): the excess goes back.
            flag(payment, source=actor_label, why="the invoice was already paid")
            return
        invoice.refresh_from_db(fields=["refund_due"])
        if invoice.refund_due:
            # #11: money for subscriptions cancelled before it arrived; the customer is told.
            flag(payment, source=actor_label, why=f"refund {invoice.refund_due}: cancelled")
    elif new == "pending":
        queue_payment_email(payment, "payment-instructions")
    elif new == "expired":
        queue_payment_email(payment, "payment-expired")
    events.emit_payment_state(payment.invoice.order_id, new)  # payment.pending / .expired (R22)


def save_card(payment: Payment, result: GatewayResult) -> None:
    order = payment.paid_order
    user = order_purchaser(order)
    saved = result.saved_card
    card, _created = Card.objects.get_or_create(
        user=user,
        gateway=payment.gateway,
        token=saved.token,
        defaults={
            "brand": saved.brand,
            "last4": saved.last4,
            "exp_month": saved.exp_month,
            "exp_year": saved.exp_year,
        },
    )
    if card.removed:
        card.removed = None
        card.save(update_fields=["removed"])
    # R9: a saved card becomes the recurring payment method of the subscriptions it paid for.
    subs = Subscription.objects.filter(order_lines__order=order, purchaser=user)
    set_payment_method(
        subs.values_list("pk", flat=True),
        payment_method="card",
        card=card,
        action="card_assigned",
        actor=user,
        order=order.number,
    )


def order_purchaser(order: Order):
    if order.placed_by_id:
        return order.placed_by
    line = order.lines.select_related("subscription__purchaser").first()
    return line.subscription.purchaser if line else None


def queue_payment_email(payment: Payment, kind: str) -> None:
    order = payment.paid_order
    user = order_purchaser(order)
    if user is None:
        return
    language = user.language or "en"
    ids = list(order.lines.values_list("subscription_id", flat=True))
    number, path, key = order.number, order_path(order.number), f"{kind}:{order.number}"
    if payment.invoice_id:  # paying an invoice: its number, its page, one email per attempt
        number = payment.invoice.number
        path, key = f"/billing/invoices/{number}/", f"{kind}:{payment.pk}:{number}"
    context = {
        "order_number": number,
        "total": format_money(money(payment.amount, payment.currency), language),
        "method": payment.method,
        "instructions": payment.instructions or {},
        "expires_on": long_date(payment.expires_on, language) if payment.expires_on else "",
        "subscription_ids": ids,
        "order_path": path,
        "name": user.get_short_name(),
        "invoice": bool(payment.invoice_id),
    }
    queue_email(
        kind=kind,
        to=user.email,
        language=language,
        context=context,
        dedupe_key=key,
        headers={
            "X-Renewals-Order": order.number,
            "X-Renewals-Subscriptions": ",".join(ids),
        },
    )
