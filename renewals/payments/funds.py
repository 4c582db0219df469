"""Funds on a customer's gateway balance (R10): applied to the matching open order, or flagged.

Stripe reconciles a JP bank transfer to its PaymentIntent by the transfer's reference. Money
sent without it (or with a wrong one) stays on the Stripe Customer's cash balance and Stripe
reports `cash_balance.funds_available`. Renewals records it (`CustomerFunds`, once per event),
and if the customer has exactly one open bank-transfer payment whose remaining amount is that
sum, asks the gateway — after commit, no transaction open — to apply the balance to it; the
payment then succeeds through the state machine. Anything else is flagged for staff.
"""

import logging
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction

from renewals.accounts.models import Customer
from renewals.core import audit

from . import actions, gateways
from .gateways.base import WebhookNotice
from .ledger import call_gateway
from .models import CustomerFunds, Payment

log = logging.getLogger(__name__)


def funds_received(notice: WebhookNotice, *, source: str, today: date) -> str:
    """Record money on a customer's balance; schedule applying it or flag it. Return what."""
    if notice.amount is None or not notice.gateway_customer_id:
        return "no_change"
    gateway_name = source.split(":")[-1]
    customer = Customer.objects.filter(gateway_customer_id=notice.gateway_customer_id).first()
    value = Decimal(notice.amount.amount)
    currency = notice.amount.currency.code
    match = _matching_payment(customer, value, currency) if customer else None
    try:
        with transaction.atomic():
            row = CustomerFunds.objects.create(
                gateway=gateway_name,
                event_id=notice.event_id,
                gateway_customer_id=notice.gateway_customer_id,
                customer=customer,
                amount=value,
                currency=currency,
                status="applying" if match else "flagged",
                payment=match,
                note="" if match else _why(customer),
            )
    except IntegrityError:
        return "no_change"
    audit.record(row, action=f"customer_funds_{row.status}", label=source, amount=str(value))
    if match:
        transaction.on_commit(lambda: apply_funds(row.pk, today=today))
        return "applying"
    return "flagged"


def _matching_payment(customer: Customer, value: Decimal, currency: str) -> Payment | None:
    open_ones = [
        p
        for p in Payment.objects.filter(
            order__customer=customer,
            method="bank_transfer",
            currency=currency,
            status__in=["pending", "partially_funded"],
        )
        if Decimal(p.amount) - Decimal(p.received_amount or 0) == value
    ]
    return open_ones[0] if len(open_ones) == 1 else None


def _why(customer) -> str:
    if customer is None:
        return "No customer has this gateway customer id."
    return "No single open bank-transfer payment of this customer is owed exactly this amount."


def apply_funds(funds_id: int, *, today: date) -> str:
    """Ask the gateway to apply a customer's balance to the matched payment; record the answer."""
    row = CustomerFunds.objects.select_related("payment").get(pk=funds_id)
    if row.status != "applying" or row.payment is None:
        return row.status
    gateway = gateways.get_gateway(row.gateway)
    apply = getattr(gateway, "apply_customer_balance", None)
    result = None
    if apply is not None:
        from renewals.core.money import money

        key = f"renewals-funds-{row.gateway}-{row.event_id}"
        result = call_gateway(
            row.gateway,
            "apply_customer_balance",
            lambda: apply(
                row.payment.reference, amount=money(row.amount, row.currency), idempotency_key=key
            ),
            idempotency_key=key,
            payment=row.payment,
        )
    if result is not None and result.outcome == "succeeded":
        actions.payment_succeeded(
            row.payment.reference, source=f"customer_balance:{row.gateway}", today=today
        )
        status, note = "applied", ""
    else:
        status = "flagged"
        note = f"Applying the balance got {getattr(result, 'outcome', 'no such call')}: check it."
    CustomerFunds.objects.filter(pk=row.pk, status="applying").update(status=status, note=note)
    audit.record(row, action=f"customer_funds_{status}", label="gateway", note=note)
    return status
