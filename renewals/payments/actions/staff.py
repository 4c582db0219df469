"""Staff reconciliation of flagged payments (R18): settle as paid, or refund."""

from datetime import date

from django.db import transaction

from renewals.billing import actions as billing
from renewals.checkout.models import KEPT_STATUSES, Order
from renewals.core import audit
from renewals.core.errors import DomainError

from .. import rules
from ..models import Payment
from .transitions import transition


def settle_payment(payment_id: int, *, actor, note: str, today: date) -> bool:
    """Accept a flagged payment as paid (staff): the order is fulfilled. A note is required.

    Goes through the renewal door on `today`: when it refuses (the subscription was cancelled
    meanwhile, its term renewed or moved, R19) nothing changes and the refusal says to refund.
    """
    _require_note(note)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status not in ("pending", "partially_funded"):
            raise DomainError(
                "not_settleable",
                state=payment.status,
            )
        _note(payment, note, actor)
        payment.needs_reconciliation = False
        payment.save(update_fields=["needs_reconciliation", "reconciliation_note", "updated"])
        transition(payment, "succeeded", actor_label=actor.email, note=note, today=today)
        if payment.invoice_id:
            return True  # the invoice is recorded paid (billing.invoice_paid, R9)
        order = Order.objects.only("status", "failure_code").get(pk=payment.order_id)
        if order.status != "paid":
            # Rolls the whole settlement back: the payment stays as it was, still flagged.
            raise DomainError(
                "renewal_refused",
                reason=order.failure_code or order.status,
            )
        return True


def refund_payment(payment_id: int, *, actor, note: str, today: date | None = None) -> bool:
    """Close a flagged payment as refunded (staff); an open order fails and releases its terms."""
    _require_note(note)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        _note(payment, note, actor)
        payment.needs_reconciliation = False
        payment.save(update_fields=["needs_reconciliation", "reconciliation_note", "updated"])
        if payment.invoice_id and payment.status == "succeeded" and payment.invoice.refund_due:
            # Money for subscriptions cancelled before it arrived (#11): refunded with a credit
            # note referring to the invoice (R20).
            if today is None:
                raise ValueError("a refund with a credit note needs the business day")
            billing.refund_invoice(payment.invoice, actor=actor, today=today, note=note)
            audit.record(payment, action="refund_due_refunded", actor=actor, note=note)
            return True
        kept = Order.objects.filter(pk=payment.order_id, status__in=KEPT_STATUSES).exists()
        if payment.status == "succeeded" and not kept:
            # Only the excess of an overpaid, fulfilled order goes back; the renewal stands.
            audit.record(payment, action="excess_refunded", actor=actor, note=note)
            return True
        if not rules.can_transition(payment.status, "refunded"):
            raise DomainError("not_refundable", state=payment.status)
        return transition(payment, "refunded", actor_label=actor.email, note=note)


def _require_note(note: str) -> None:
    if not (note or "").strip():
        raise DomainError("note_required")


def _note(payment: Payment, note: str, actor) -> None:
    line = f"{actor.email}: {note.strip()}"
    payment.reconciliation_note = "\n".join(filter(None, [payment.reconciliation_note, line]))
