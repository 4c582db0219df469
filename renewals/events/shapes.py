"""The API shapes events carry (interfaces.md §2), plugged into the outbox at start-up.

It reads the domain apps and renewals.shapes (the §2 shapes the API shows too), never an
interface package (import-linter), so that the outbox, which domain doors call, depends on core only. Each shaper takes objects (or their ids) and returns,
in the same order, their JSON as the API shows it, in a fixed number of queries.
"""

import json
from datetime import date

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from django.urls import NoReverseMatch, reverse

from renewals.billing.models import CreditNote, Invoice
from renewals.checkout.models import Order, OrderLine
from renewals.checkout.offers import (
    active_prices,
    offer_for,
    renewal_change,
    sold_terms,
)
from renewals.core import clock
from renewals.core.money import money, money_json
from renewals.rows import load_page
from renewals.shapes import invoice_json, order_json, subscription_json
from renewals.subscriptions.models import Subscription

from .outbox import Shaped, register_shaper


def _pk(obj):
    return getattr(obj, "pk", obj)


def subscriptions_shaped(objects, today: date | None) -> list[Shaped]:
    """Shape subscriptions as their purchaser sees them through the API on `today`."""
    today = today or clock.today()
    ids = [_pk(o) for o in objects]
    # One read of the rows with their related rows joined and their open-order facts as
    # columns (values, no model instances, #15), then their terms.
    subs, terms, (pending, _failed) = load_page(Subscription.objects.filter(pk__any=ids))
    prices = active_prices(subs)
    by_id = {}
    for sub in subs:
        # R21: the next term as it would be bought (a scheduled change applied).
        seats, term = renewal_change(sub)
        offer = offer_for(
            sub,
            user=sub.purchaser,
            today=today,
            price=prices.get((sub.offering_id, term, sub.currency)),
            pending=sub.pk in pending,
            seats=seats,
            term=term,
            sold=sold_terms(prices, sub.offering_id, sub.currency),
        )
        by_id[sub.pk] = Shaped(
            data=subscription_json(sub, offer, terms[sub.pk]),
            subscription_ids=(sub.pk,),
            customer_ids=(sub.customer_id,),
        )
    return [by_id[i] for i in ids]


def _related(obj, name):
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


def _pdf_url(document, view: str = "portal:invoice_pdf") -> str | None:
    try:
        path = reverse(view, args=[document.number])
    except NoReverseMatch:
        return None
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def orders_shaped(objects, today: date | None) -> list[Shaped]:
    """Shape orders (with their payment and invoice) as the API shows them.

    An Order given with its `lines` prefetched (fulfilment's own, just saved) is shaped from
    memory: only its payment and invoice are read, in one query with the order's row (#15).
    """
    ids = [_pk(o) for o in objects]
    given = {
        o.pk: o
        for o in objects
        if isinstance(o, Order) and "lines" in getattr(o, "_prefetched_objects_cache", {})
    }
    by_id = {}
    # Its payment and invoice too, when fulfilment holds them (`order_paid`'s payment, the
    # invoice billing just issued for it): nothing is read (#15).
    held = [o for o in given.values() if _holds_payment_and_invoice(o)]
    for order in held:
        by_id[order.pk] = _order_shaped(order, order)
    read = [pk for pk in given if pk not in by_id]
    if read:
        for row in Order.objects.filter(pk__in=read).select_related("payment", "invoice"):
            by_id[row.pk] = _order_shaped(given[row.pk], row)
    rest = [i for i in ids if i not in given]
    if rest:
        lines = OrderLine.objects.select_related("subscription__offering", "change").order_by("pk")
        orders = (
            Order.objects.filter(pk__in=rest)
            .select_related("customer", "payment", "invoice")
            .prefetch_related(Prefetch("lines", queryset=lines))
        )
        for order in orders:
            by_id[order.pk] = _order_shaped(order, order)
    return [by_id[i] for i in ids]


def _holds_payment_and_invoice(order) -> bool:
    """Tell whether an order holds its payment and invoice as their rows read back would be.

    The payment's instructions must read back as they are (a JSON column: a tuple or a
    non-text key would not).
    """
    if not (Order.payment.is_cached(order) and Order.invoice.is_cached(order)):
        return False
    payment = _related(order, "payment")
    if payment is None or not payment.instructions:
        return True
    encoder = type(payment)._meta.get_field("instructions").encoder
    return json.loads(json.dumps(payment.instructions, cls=encoder)) == payment.instructions


def _order_shaped(order, related) -> Shaped:
    """One order's shape; `related` is the row its payment and invoice were read with."""
    invoice = _related(related, "invoice")
    return Shaped(
        data=order_json(
            order,
            payment=_related(related, "payment"),
            invoice=invoice,
            invoice_pdf_url=_pdf_url(invoice) if invoice else None,
        ),
        subscription_ids=tuple(line.subscription_id for line in order.lines.all()),
        customer_ids=(order.customer_id,),
    )


def invoices_shaped(objects, today: date | None) -> list[Shaped]:
    """Shape invoices: the API's invoice with its order, customer, total and subscriptions."""
    ids = [_pk(o) for o in objects]
    invoices = Invoice.objects.filter(pk__in=ids).select_related("order", "customer")
    by_id = {}
    for invoice in invoices:
        sub_ids = tuple(line["subscription_id"] for line in invoice.lines)
        by_id[invoice.pk] = Shaped(
            data={
                **invoice_json(invoice, _pdf_url(invoice)),
                "order": invoice.order.number,
                "csn": invoice.customer.csn,
                "currency": invoice.currency,
                "total": money_json(money(invoice.total, invoice.currency)),
                "issued_on": invoice.issued_on.isoformat(),
                "paid_on": invoice.paid_on.isoformat() if invoice.paid_on else None,
                "subscription_ids": list(sub_ids),
            },
            subscription_ids=sub_ids,
            customer_ids=(invoice.customer_id,),
        )
    return [by_id[i] for i in ids]


def credit_notes_shaped(objects, today: date | None) -> list[Shaped]:
    """Shape credit notes (R20): number, the invoice and order they refer to, amounts, PDF."""
    ids = [_pk(o) for o in objects]
    credits = CreditNote.objects.filter(pk__in=ids).select_related(
        "invoice__order", "invoice__customer"
    )
    by_id = {}
    for credit in credits:
        invoice = credit.invoice
        sub_ids = tuple(line["subscription_id"] for line in invoice.lines)
        by_id[credit.pk] = Shaped(
            data={
                "number": credit.number,
                "invoice": invoice.number,
                "order": invoice.order.number,
                "csn": invoice.customer.csn,
                "currency": credit.currency,
                "subtotal": money_json(money(credit.subtotal, credit.currency)),
                "tax": money_json(money(credit.tax, credit.currency)),
                "total": money_json(money(credit.total, credit.currency)),
                "issued_on": credit.issued_on.isoformat(),
                "reason": credit.reason,
                "pdf_url": _pdf_url(credit, "portal:credit_note_pdf"),
                "subscription_ids": list(sub_ids),
            },
            subscription_ids=sub_ids,
            customer_ids=(invoice.customer_id,),
        )
    return [by_id[i] for i in ids]


def register_all() -> None:
    """Register the shapers of every kind of object events carry."""
    register_shaper("subscription", subscriptions_shaped)
    register_shaper("order", orders_shaped)
    register_shaper("invoice", invoices_shaped)
    register_shaper("credit_note", credit_notes_shaped)
