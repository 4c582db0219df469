"""The order emails (R8, R13, R15): plain context dicts for the outbox, formatted per language."""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import prefetch_related_objects
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from renewals.catalog.models import TERMS
from renewals.core.formatting import long_date
from renewals.core.money import format_money, money
from renewals.notifications.outbox import queue_email

from .pricing import REVERSE_CHARGE_NOTE, tax_percent

# Marked here so that the legal note of pricing.REVERSE_CHARGE_NOTE is translated (R6).
gettext_noop(
    "Reverse charge: VAT to be accounted for by the recipient (Art. 196, Directive 2006/112/EC)."
)

PRICE_KIND_LABELS = {
    "renewal": gettext_noop("Special renewal price"),
    "list": gettext_noop("List price"),
}
PAYMENT_METHOD_LABELS = {
    "card": gettext_noop("Card"),
    "konbini": gettext_noop("Konbini"),
    "bank_transfer": gettext_noop("Bank transfer"),
    "invoice": gettext_noop("Invoice"),
}


def order_path(number: str) -> str:
    """Return the portal path of an order's page (interfaces.md stable URLs)."""
    return f"/billing/orders/{number}/"


def reverse_charge_note() -> str:
    """Return the reverse-charge legal note in the active language (R6)."""
    return gettext(REVERSE_CHARGE_NOTE)


TERM_NAMES = dict(TERMS)


def _line_terms(line) -> dict:
    """Return the term and seats a line bought and, when it changed them (R21), the previous."""
    seats, term = line.previous
    changed = (seats, term) != (line.seats, line.term)
    return {
        "term": str(TERM_NAMES.get(line.term, line.term)),
        "changed": changed,
        "previous_seats": seats if changed else None,
        "previous_term": str(TERM_NAMES.get(term, term)) if changed else "",
    }


def order_email_context(order, lines, language: str) -> dict:
    """Build the context of an order email in `language`: every amount and date preformatted.

    Each line says the term and seats it bought, and what it changed at this renewal (R21);
    the lines' changes are read in one query when the caller did not load them.
    """
    currency = order.currency
    lines = list(lines)
    prefetch_related_objects(lines, "change")

    def fmt(amount):
        return format_money(money(amount, currency), language)

    with translation.override(language):
        return {
            "number": order.number,
            "customer_name": order.customer.name,
            "csn": order.customer.csn,
            "placed_on": long_date(order.business_date, language),
            "payment_method": gettext(PAYMENT_METHOD_LABELS.get(order.payment_method, "Card")),
            "lines": [
                {
                    "subscription_id": line.subscription_id,
                    "product": line.subscription.offering.name,
                    "seats": line.seats,
                    "unit_price": fmt(line.unit_price),
                    "price_kind": gettext(PRICE_KIND_LABELS[line.price_kind]),
                    "amount": fmt(line.amount),
                    "term_start": long_date(line.term_start, language),
                    "term_end": long_date(line.term_end, language),
                    **_line_terms(line),
                }
                for line in lines
            ],
            "subtotal": fmt(order.subtotal),
            "tax": fmt(order.tax),
            "tax_rate": tax_percent(order.tax_rate) + " %",
            "total": fmt(order.total),
            "reverse_charge_note": reverse_charge_note() if order.reverse_charge else "",
            "order_path": order_path(order.number),
            **_invoice_links(order),
        }


def _invoice_links(order) -> dict:
    """Return the order's tax invoice number and PDF path, if it has one yet (R20)."""
    try:
        number = order.invoice.number  # billing's, reached through the relation (layers)
    except ObjectDoesNotExist:
        return {"invoice_number": "", "invoice_pdf_path": ""}
    return {"invoice_number": number, "invoice_pdf_path": f"/billing/invoices/{number}.pdf"}


def queue_order_emails(order, lines) -> list:
    """Queue ONE confirmation per order and purchaser (R8): a receipt for automatic orders (R12).

    The dedupe key `order-confirmation:<number>` (or `auto-renewal-receipt:<number>`) makes a
    repeated fulfilment report harmless. In the rare automatic order whose subscriptions have
    several purchasers, each one gets the email listing their own subscriptions.
    """
    kind = "auto-renewal-receipt" if order.automatic else "order-confirmation"
    by_purchaser: dict = {}
    for line in lines:
        by_purchaser.setdefault(line.subscription.purchaser_id, []).append(line)
    purchasers = {line.subscription.purchaser_id: line.subscription.purchaser for line in lines}
    queued = []
    for index, (purchaser_id, own_lines) in enumerate(sorted(by_purchaser.items())):
        user = purchasers[purchaser_id]
        key = f"{kind}:{order.number}" + (f":{purchaser_id}" if index else "")
        context = order_email_context(order, own_lines, user.language)
        context["name"] = user.get_short_name()  # the greeting
        queued.append(
            queue_email(
                kind=kind,
                to=user.email,
                language=user.language,
                context=context,
                dedupe_key=key,
                headers={
                    "X-Renewals-Order": order.number,
                    "X-Renewals-Subscriptions": ",".join(
                        line.subscription_id for line in own_lines
                    ),
                },
            )
        )
    return queued


# R19: why money kept on an order renewed nothing, in words for the customer.
KEPT_REASONS = {
    "cancelled": gettext_noop(
        "The subscription was already cancelled on the day the payment was recorded, and a "
        "cancelled subscription can never be renewed."
    ),
    "already_renewed": gettext_noop(
        "The term this payment was for had already been renewed, so it cannot be paid twice."
    ),
    "not_next_term": gettext_noop(
        "The renewal date of the subscription changed since the order was placed, so the term "
        "this payment was for is no longer the next one."
    ),
    "trial": gettext_noop("A trial subscription cannot be renewed."),
    "released": gettext_noop(
        "The payment arrived after the order had expired or failed, when its renewal had "
        "already been released."
    ),
    "missing": gettext_noop("A subscription of this order no longer exists."),
}


def queue_payment_kept_email(order, *, reason: str, today) -> object | None:
    """Tell the purchaser that their payment renewed nothing and will be refunded (R19).

    One per order (dedupe key `payment-not-applied:<number>`), in the purchaser's language.
    """
    lines = list(order.lines.select_related("subscription__purchaser", "subscription__offering"))
    user = order.placed_by or (lines[0].subscription.purchaser if lines else None)
    if user is None:
        return None
    language = user.language or "en"
    context = order_email_context(order, lines, language)
    with translation.override(language):
        context["reason"] = gettext(KEPT_REASONS.get(reason, KEPT_REASONS["released"]))
    context["recorded_on"] = long_date(today, language)
    context["name"] = user.get_short_name()
    context["subscription_ids"] = [line.subscription_id for line in lines]
    return queue_email(
        kind="payment-not-applied",
        to=user.email,
        language=language,
        context=context,
        dedupe_key=f"payment-not-applied:{order.number}",
        headers={
            "X-Renewals-Order": order.number,
            "X-Renewals-Subscriptions": ",".join(context["subscription_ids"]),
        },
    )
