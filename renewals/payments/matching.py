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

UNMATCHED_TYPES = ("ignored", "customer.funds_received")


def match_notice(notice: WebhookNotice, *, gateway_name: str) -> WebhookNotice:
    """Return `notice` naming the reference of its payment, found by metadata if need be."""
    if notice.type in UNMATCHED_TYPES or not notice.payment_reference:
        return notice
    if Payment.objects.filter(reference=notice.payment_reference).exists():
        return notice
    order = str(notice.metadata.get("order", ""))
    key = str(notice.metadata.get("idempotency_key", ""))
    if not order or key != f"renewals-order-{order}":
        return notice
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(order__number=order, gateway=gateway_name)
            .first()
        )
        if payment is None:
            return notice
        if payment.reference.startswith("new_"):
            payment.reference = notice.payment_reference
            payment.save(update_fields=["reference", "updated"])
    return replace(notice, payment_reference=payment.reference)
