"""Funds on a customer's gateway balance (R10): applied to the matching open order, or flagged.

Stripe reconciles a JP bank transfer to a PaymentIntent itself when it can (automatic
reconciliation); what it cannot stays on the Stripe Customer's cash balance. Every movement of
that balance is one `customer_cash_balance_transaction.created` event with its own id
(`ccsbtxn_…`). Renewals reads two kinds (docs/payments.md):

- `funded` — one arrival, its own amount and currency (`funds_received`). Recorded once by the
  transaction's id (`CustomerFunds.event_id`), whatever event carries it. If the customer has
  exactly one open bank-transfer payment whose remaining amount is that sum and no other funds
  row is being applied to it, the gateway is asked — after commit, no transaction open — to apply the
  balance to it (`applying`); the payment then succeeds through the state machine. Otherwise
  the row is flagged for staff.
- `applied_to_payment` — money moved from the balance to a PaymentIntent, by Stripe's own
  reconciliation or our call (`funds_applied`). It settles the row it came from: the one being
  applied to that payment, else a flagged row of that customer, currency and amount. One that
  arrives before its `funded` event finds nothing to settle and is answered 404: Stripe sends
  it again, by then the arrival is recorded.

`cash_balance.funds_available` reports the whole remaining balance, not what is new: it is not
read (acknowledged as ignored).

Staff close a flagged row once they dealt with the money (`resolve_funds`, a note required).
"""

import logging
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F

from renewals.accounts.models import Customer
from renewals.core import audit, clock
from renewals.core.errors import DomainError
from renewals.core.money import money

from . import actions, gateways
from .gateways.base import GatewayUnavailable, WebhookNotice
from .ledger import call_gateway
from .models import CustomerFunds, Payment
from .rules import WRONG_CURRENCY

log = logging.getLogger(__name__)

RETRY_LATER = "retry_later"  # the webhook answers 404 and stores nothing: the gateway resends


def funds_received(notice: WebhookNotice, *, source: str, today: date) -> str:
    """Record one arrival on a customer's balance; schedule applying it or flag it. Return what."""
    if notice.amount is None or not notice.gateway_customer_id or not notice.funds_id:
        return "no_change"
    gateway_name = source.split(":")[-1]
    if CustomerFunds.objects.filter(gateway=gateway_name, event_id=notice.funds_id).exists():
        return "no_change"  # the same arrival, carried by another event
    customer = Customer.objects.filter(gateway_customer_id=notice.gateway_customer_id).first()
    value = Decimal(notice.amount.amount)
    currency = notice.amount.currency.code
    match = _matching_payment(customer, value, currency, gateway_name) if customer else None
    try:
        with transaction.atomic():
            row = CustomerFunds.objects.create(
                gateway=gateway_name,
                event_id=notice.funds_id,
                gateway_customer_id=notice.gateway_customer_id,
                customer=customer,
                amount=value,
                currency=currency,
                status="applying" if match else "flagged",
                payment=match,
                note="" if match else _why(customer),
            )
    except IntegrityError:  # recorded by a concurrent delivery
        return "no_change"
    audit.record(
        row,
        action=f"customer_funds_{row.status}",
        label=source,
        amount=str(value),
        currency=currency,
    )
    if match:
        transaction.on_commit(lambda: apply_funds(row.pk, today=today))
        return "applying"
    return "flagged"


def _matching_payment(
    customer: Customer, value: Decimal, currency: str, gateway_name: str
) -> Payment | None:
    open_ones = [
        p
        for p in Payment.objects.filter(
            order__customer=customer,
            gateway=gateway_name,
            method="bank_transfer",
            currency=currency,
            status__in=["pending", "partially_funded"],
        ).exclude(customer_funds__status="applying")
        if Decimal(p.amount) - Decimal(p.received_amount or 0) == value
    ]
    return open_ones[0] if len(open_ones) == 1 else None


def _why(customer) -> str:
    if customer is None:
        return "No customer has this gateway customer id."
    return (
        "No single open bank-transfer payment of this customer is owed exactly this amount."
        " Stripe may still apply it to one: check the customer's cash balance before refunding."
    )


def funds_applied(notice: WebhookNotice, *, source: str, today: date) -> str:
    """Settle the funds row that money moved from the balance to a payment came from."""
    if notice.amount is None or not notice.payment_reference:
        return "no_change"
    gateway_name = source.split(":")[-1]
    payment = Payment.objects.filter(
        reference=notice.payment_reference, gateway=gateway_name
    ).first()
    if payment is None:
        return "no_change"  # not a payment of ours: nothing of ours moved
    value, currency = Decimal(notice.amount.amount), notice.amount.currency.code
    rows = CustomerFunds.objects.filter(
        gateway=gateway_name, gateway_customer_id=notice.gateway_customer_id, currency=currency
    )
    if rows.filter(payment=payment, status="applied", amount=value).exists():
        return "no_change"  # our own call's movement, already recorded
    flagged = (
        rows.filter(status="flagged")
        .exclude(
            event_id__startswith=WRONG_CURRENCY  # card money in a foreign currency: not on a balance
        )
        .annotate(left=F("amount") - F("applied_amount"))
    )
    exact = flagged.filter(left=value)
    row = (
        rows.filter(payment=payment, status="applying", amount=value).first()
        or exact.filter(payment=None).order_by("pk").first()
        # Flagged after our apply call to this or another payment was refused: Stripe moved
        # the money itself, so the row is settled by this movement, not left for staff.
        or exact.filter(payment=payment).order_by("pk").first()
        or exact.order_by("pk").first()
    )
    if row is None:
        part = flagged.filter(payment=None, left__gt=value).order_by("pk").first()
        if part is None:
            return RETRY_LATER  # its `funded` event has not come yet
        return _applied_in_part(part, value, payment, source)
    note = f"Applied by the gateway to payment {payment.reference}."
    changed = CustomerFunds.objects.filter(
        pk=row.pk, status=row.status, applied_amount=row.applied_amount
    ).update(status="applied", payment=payment, note=note, applied_amount=F("amount"))
    if changed:
        audit.record(row, action="customer_funds_applied", label=source, note=note)
    return "applied" if changed else "no_change"


def _applied_in_part(part: CustomerFunds, value: Decimal, payment: Payment, source: str) -> str:
    """Count a part of a flagged arrival the gateway moved to a payment; the rest stays flagged.

    Each movement is its own webhook event, stored once, so a part is never counted twice; the
    update is conditional on the amount applied so far, so two concurrent parts both count.
    """
    applied = part.applied_amount + value
    left = part.amount - applied
    note = (
        f"Stripe applied {applied} {part.currency} of it to payments (last {value} to"
        f" {payment.reference}); {left} {part.currency} is left on the customer's balance."
    )
    changed = CustomerFunds.objects.filter(
        pk=part.pk, status="flagged", applied_amount=part.applied_amount
    ).update(applied_amount=applied, note=note)
    if not changed:
        return RETRY_LATER  # another part was counted meanwhile: the gateway resends this one
    audit.record(
        part, action="customer_funds_partly_applied", label=source, note=note, amount=str(value)
    )
    return "no_change"


def apply_funds(funds_id: int, *, today: date) -> str:
    """Ask the gateway to apply a customer's balance to the matched payment; record the answer.

    A refused or lost answer is settled from what the gateway says of the payment now: paid
    (Stripe applied it itself, or our call did and its answer was lost) → applied, unless
    another funds row already is that payment's money; no answer → left `applying` for the
    reconciler; anything else → flagged for staff.
    """
    row = CustomerFunds.objects.select_related("payment").get(pk=funds_id)
    if row.status != "applying" or row.payment is None:
        return row.status
    gateway = gateways.get_gateway(row.gateway)
    apply = getattr(gateway, "apply_customer_balance", None)
    result = None
    if apply is not None:
        key = f"renewals-funds-{row.gateway}-{row.event_id}"
        try:
            result = call_gateway(
                row.gateway,
                "apply_customer_balance",
                lambda: apply(
                    row.payment.reference,
                    amount=money(row.amount, row.currency),
                    idempotency_key=key,
                ),
                idempotency_key=key,
                payment=row.payment,
            )
        except GatewayUnavailable:
            return "applying"  # the ledger has the error; the reconciler calls again
    if result is not None and result.outcome == "succeeded":
        status, note = "applied", ""
    else:
        status, note = _settled_by_payment(row, gateway, result)
        if status == "applying":
            return status
    if status == "applied":
        actions.payment_succeeded(
            row.payment.reference, source=f"customer_balance:{row.gateway}", today=today
        )
    # Its `applied_to_payment` event may have settled the row meanwhile: recorded once.
    if CustomerFunds.objects.filter(pk=row.pk, status="applying").update(status=status, note=note):
        audit.record(row, action=f"customer_funds_{status}", label="gateway", note=note)
    return status


def _settled_by_payment(row: CustomerFunds, gateway, result) -> tuple[str, str]:
    got = getattr(result, "outcome", "no such call")
    now = call_gateway(
        row.gateway,
        "retrieve_payment",
        lambda: gateway.retrieve_payment(row.payment.reference),
        payment=row.payment,
    )
    if now.outcome == "succeeded":
        with transaction.atomic():
            Payment.objects.select_for_update().filter(pk=row.payment_id).first()
            others = (
                CustomerFunds.objects.filter(payment_id=row.payment_id, status="applied")
                .exclude(pk=row.pk)
                .values_list("amount", flat=True)
            )
            # Funds applied before (a part Stripe applied) and this row may add up to the
            # payment; more than that and this money is not what paid it.
            taken = sum(others, Decimal(0)) + row.amount > Decimal(row.payment.amount)
        if not taken:
            return "applied", f"Applying the balance got {got}; the payment is paid."
        return "flagged", (
            f"Applying the balance got {got}; the payment was paid with other funds: this money"
            " is still on the customer's balance."
        )
    if now.outcome == "unknown" or got == "unknown":
        return "applying", ""
    return "flagged", f"Applying the balance got {got}: check it."


def resolve_funds(funds_id: int, *, actor, note: str) -> bool:
    """Close a flagged funds row (staff), with a note; audited. Return whether it changed.

    Resolving a resolved row changes nothing (the first note stands). A row being applied or
    applied to a payment is the gateway's, not staff's: refused.
    """
    note = (note or "").strip()
    if not note:
        raise DomainError("note_required")
    with transaction.atomic():
        row = CustomerFunds.objects.select_for_update().get(pk=funds_id)
        if row.status == "resolved":
            return False
        if row.status != "flagged":
            raise DomainError("not_resolvable", state=row.get_status_display().lower())
        row.status, row.resolved_by, row.resolved_at = "resolved", actor, clock.now()
        row.resolution_note = note
        row.save(update_fields=["status", "resolved_by", "resolved_at", "resolution_note"])
        audit.record(
            row,
            action="customer_funds_resolved",
            actor=actor,
            note=note,
            amount=str(row.amount),
            currency=row.currency,
        )
    return True
