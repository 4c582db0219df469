"""Paying an invoice on net terms online (R9): card, or konbini / bank transfer for JPY.

The same code as a checkout's payment: a Payment row committed before the gateway is called,
`collecting.collect` for the call and its lost answers, and the state machine of `transitions`
for every answer — whose `succeeded` records the invoice paid (`billing.actions.invoice_paid`),
restoring lapsed subscriptions at once. An invoice has at most one payment under way
(`one_open_payment_per_invoice`); a client's Idempotency-Key returns the first attempt.
"""

import uuid
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction

from renewals.billing.models import Invoice
from renewals.checkout.pricing import payment_methods_for_group
from renewals.core import audit
from renewals.core.errors import DomainError
from renewals.core.money import money

from .. import customers, gateways, rules
from ..gateways.base import PaymentRequest
from ..models import Payment
from .starting import _card_token, _deadline
from .transitions import order_purchaser


def invoice_payment_methods(invoice: Invoice) -> list[str]:
    """Return how an invoice may be paid online: card; konbini, bank transfer for JPY (R9)."""
    return payment_methods_for_group(
        currency=invoice.currency,
        purchase_method="online",
        total=money(invoice.total, invoice.currency),
        invoice_customer=False,
    )


def open_invoice_payment(invoice: Invoice) -> Payment | None:
    """Return the invoice's payment under way (waiting at the konbini, a challenge…), if any."""
    return Payment.objects.filter(invoice=invoice, status__in=rules.OPEN).first()


def pay_invoice(
    invoice: Invoice,
    *,
    method: str,
    user,
    idempotency_key: str = "",
    card_token: str | None = None,
    card_id=None,
    save_card: bool = False,
    today: date,
    return_url: str = "",
) -> Payment:
    """Start paying an unpaid invoice online; return the Payment (R9).

    Repeating a request with the same `idempotency_key` returns its first payment. Refused with
    nothing written: a paid invoice (`invoice_paid`), a method the invoice may not use
    (`method_not_allowed`), another payment already under way (`payment_pending`, 409).
    """
    key = (idempotency_key or "").strip()
    if key:
        existing = Payment.objects.filter(invoice=invoice, idempotency_key=key).first()
        if existing is not None:
            return existing
    invoice.refresh_from_db(fields=["status"])
    if invoice.status == "paid":
        raise DomainError("invoice_paid")
    if method not in invoice_payment_methods(invoice):
        raise DomainError("method_not_allowed", variant="invoice")
    if open_invoice_payment(invoice) is not None:
        raise DomainError("payment_pending", variant="invoice")
    order = invoice.order
    if method == "card":
        card_token = _card_token(card_token, card_id, user=user, order=order)
    gateway_name = settings.PAYMENT_GATEWAY
    expires_on = _deadline(order, method, today)
    email = getattr(user or order_purchaser(order), "email", "")
    gateway_customer = ""
    if customers.needs_customer(method, card_token):
        gateway_customer = customers.gateway_customer_for(
            gateways.get_gateway(gateway_name), invoice.customer, email=email
        )
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                invoice=invoice,
                idempotency_key=key,
                gateway=gateway_name,
                method=method,
                reference=f"new_{uuid.uuid4().hex}",
                amount=invoice.total,
                currency=invoice.currency,
                expires_on=expires_on,
            )
            audit.record(
                payment,
                action="payment_created",
                actor=user,
                method=method,
                invoice=invoice.number,
            )
    except IntegrityError:
        # Another request started one first (one_open_payment_per_invoice, or the same key).
        if key:
            existing = Payment.objects.filter(invoice=invoice, idempotency_key=key).first()
            if existing is not None:
                return existing
        raise DomainError("payment_pending", variant="invoice") from None
    request = PaymentRequest(
        reference_hint=invoice.number,
        amount=money(invoice.total, invoice.currency),
        method=method,
        idempotency_key=invoice_payment_key(payment),
        customer_email=email,
        card_token=card_token,
        save_card=save_card,
        off_session=False,
        expires_on=expires_on if method != "card" else None,
        return_url=return_url,
        cancel_url=return_url,
        gateway_customer_id=gateway_customer,
        customer_name=invoice.customer.name,
        csn=invoice.customer.csn,
    )
    from ..collecting import collect

    # No transaction is open: the gateway call, its ledger row, then the answer (R10).
    return collect(payment, request, user=user, today=today)


def invoice_payment_key(payment: Payment) -> str:
    """The gateway idempotency key of one invoice payment (one per payment, R10)."""
    return f"renewals-invoice-payment-{payment.pk}"
