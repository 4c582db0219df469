"""Matching a gateway event to its payment when the payment does not carry the event's id (R10).

A payment whose first answer was lost still has its placeholder reference (`new_…`), and a
Stripe Checkout payment is known by its session (`cs_…`) while the PaymentIntent's events name
`pi_…`. Both carry what Renewals stored at the gateway — the order number and the idempotency
key — in their metadata, so the event is matched by those: only when both agree with one
payment. A placeholder reference then becomes the gateway's id.
"""

from dataclasses import replace

from django.db import transaction

from .gateways.base import WebhookNotice
from .models import Payment

UNMATCHED_TYPES = ("ignored", "customer.funds_received", "customer.funds_applied")
INVOICE_PAYMENT_KEY = "renewals-invoice-payment-"  # actions.invoices.invoice_payment_key


def match_notice(notice: WebhookNotice, *, gateway_name: str) -> tuple[WebhookNotice, str | None]:
    """Return `notice` naming the reference of its payment of `gateway_name`, found by metadata
    if need be, and the number of that payment's order, None when no payment matches (one query
    when the reference is known). The order number goes into the webhook's log lines (#20).

    Only a payment of the gateway whose endpoint received the event is ever found.
    """
    if notice.type in UNMATCHED_TYPES or not notice.payment_reference:
        return notice, None
    found = (
        Payment.objects.filter(reference=notice.payment_reference, gateway=gateway_name)
        .values_list("order__number", "invoice__order__number")
        .first()
    )
    if found is not None:
        # A payment of an invoice (R9) has no order of its own: its invoice's order is named.
        return notice, found[0] or found[1]
    order = str(notice.metadata.get("order", ""))
    key = str(notice.metadata.get("idempotency_key", ""))
    invoice_payment = key.removeprefix(INVOICE_PAYMENT_KEY)
    if invoice_payment != key and invoice_payment.isascii() and invoice_payment.isdigit():
        # Paying an invoice (R9): the metadata name the invoice and that payment's own key.
        payments = Payment.objects.filter(pk=int(invoice_payment), invoice__number=order)
    elif order and key == f"renewals-order-{order}":
        payments = Payment.objects.filter(order__number=order)
    else:
        return notice, None
    with transaction.atomic():
        payment = payments.select_for_update().filter(gateway=gateway_name).first()
        if payment is None:
            return notice, None
        if payment.reference.startswith("new_"):
            payment.reference = notice.payment_reference
            payment.save(update_fields=["reference", "updated"])
    return replace(notice, payment_reference=payment.reference), order
