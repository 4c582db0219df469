"""The JSON shapes of interfaces.md §2, built from domain values.

Shared by the interfaces that show them: the API, the CLI (`renewals show`) and the events outbox
(renewals.events.shapes). It reads the domain apps only, so every interface depends on it and it on
none of them (import-linter contracts in pyproject.toml).
"""

from datetime import UTC, date
from typing import NamedTuple

from django.core.serializers.json import DjangoJSONEncoder

from renewals.checkout.models import Order
from renewals.checkout.offers import Decision, Offer, max_seats
from renewals.core.money import money, money_json
from renewals.subscriptions import periods
from renewals.subscriptions.models import Subscription


class TermRow(NamedTuple):
    """One term of a subscription as its JSON lists it (`terms`)."""

    start: date
    end: date
    order_number: str
    seats: int | None = None

    @property
    def term(self) -> str | None:
        """The term of this row, read from its dates (R21), as Term.term."""
        try:
            return periods.term_of(self.start, self.end)
        except ValueError:
            return None


def _date(value):
    return value.isoformat() if value else None


def scheduled_change_json(sub: Subscription) -> dict | None:
    """Return the change scheduled for the subscription's next term (R21), or None.

    A change set against another D (moved by an import) is not for the next term: None.
    """
    change = sub.next_term_change
    if change is None:
        return None
    return {"renewal_date": _date(sub.renewal_date), "seats": change[0], "term": change[1]}


def subscription_json(sub: Subscription, offer: Offer, terms=None) -> dict:
    """Return one subscription as the API shows it to the user the offer was made for.

    Expects `customer`, `offering`, `purchaser`, `partner` and `card` to be loaded (select_related)
    and, when `terms` is None, `terms` prefetched.
    """
    terms = list(sub.terms.all()) if terms is None else terms
    return _subscription_json(sub, offer, terms, renewal_json(offer.decision))


def subscription_list_json(subs, offers: dict[str, Offer], terms: dict[str, list]) -> list[dict]:
    """Return subscriptions as `subscription_json` does, with their offers and terms by id.

    The `renewal` object is built once per `Decision` (the offers of equal facts share one,
    `renewal_offers`) and shared by those rows' dicts: the result is read-only (#15).
    """
    renewals: dict[int, dict] = {}
    results = []
    for sub in subs:
        offer = offers[sub.pk]
        # Keyed by identity: every decision is held by `offers` for the whole loop.
        renewal = renewals.get(id(offer.decision))
        if renewal is None:
            renewal = renewals[id(offer.decision)] = renewal_json(offer.decision)
        results.append(_subscription_json(sub, offer, terms[sub.pk], renewal))
    return results


def renewal_json(decision: Decision) -> dict:
    """Return the `renewal` object of a subscription's JSON: what renewing it means (R5, R6)."""
    elig = decision.eligibility
    return {
        "eligible": elig.eligible,
        "reasons": list(elig.reasons),
        "window_opens": _date(elig.window_opens),
        "window_closes": _date(elig.window_closes),
        "unit_price": money_json(decision.unit_price),
        "price": money_json(decision.price),
        "price_kind": decision.price_kind,
        # R21: what the next term is priced for (a scheduled change applied).
        "seats": decision.seats,
        "term": decision.term,
        "next_term": {"start": _date(decision.next_term[0]), "end": _date(decision.next_term[1])},
    }


def _subscription_json(sub, offer: Offer, terms, renewal: dict) -> dict:
    card = sub.card if sub.payment_method == "card" else None
    return {
        "id": sub.pk,
        "csn": sub.customer.csn,
        "customer_name": sub.customer.name,
        "product": {"code": sub.offering.code, "name": sub.offering.name},
        "term": sub.term,
        "seats": sub.seats,
        "currency": sub.currency,
        "start_date": _date(sub.start_date),
        "renewal_date": _date(sub.renewal_date),
        "stage": offer.stage,
        "access": offer.access,
        "auto_renew": sub.auto_renew,
        "purchase_method": sub.purchase_method,
        "payment_method": (
            {"type": sub.payment_method, "last4": card.last4 if card else None}
            if sub.payment_method
            else None
        ),
        "purchaser": sub.purchaser.email,
        "partner": (
            {"name": sub.partner.name, "email": sub.partner.email, "phone": sub.partner.phone}
            if sub.partner_id
            else None
        ),
        "trial": sub.trial,
        "renewal": renewal,
        "scheduled_change": scheduled_change_json(sub),
        "terms": [
            {
                "start": _date(t.start),
                "end": _date(t.end),
                "order": t.order_number or None,
                "seats": t.seats,
                "term": t.term,
            }
            for t in terms
        ],
    }


def _timestamp(value) -> str:
    """Return an aware datetime as ISO 8601 in UTC to the millisecond: 2026-11-26T03:10:00.123Z."""
    return DjangoJSONEncoder().default(value.astimezone(UTC))


def _money(amount, currency: str) -> dict:
    return money_json(money(amount, currency))


def line_json(
    *,
    subscription_id,
    offering,
    seats,
    term,
    unit_price,
    price_kind,
    amount,
    term_start,
    term_end,
    previous: tuple[int, str] | None = None,
) -> dict:
    """Return one renewal line as the cart and orders show it (interfaces.md §2).

    `seats` and `term` are those of the term bought; `previous` the subscription's when the
    line changes them (R21), else None.
    """
    return {
        "subscription_id": subscription_id,
        "product": {"code": offering.code, "name": offering.name},
        "seats": seats,
        "term": term,
        "unit_price": money_json(unit_price),
        "price_kind": price_kind,
        "amount": money_json(amount),
        "next_term": {"start": _date(term_start), "end": _date(term_end)},
        "previous": (
            {"seats": previous[0], "term": previous[1]}
            if previous is not None and previous != (seats, term)
            else None
        ),
    }


def _instructions(payment) -> dict | None:
    data = payment.instructions
    if not data:
        return None
    if isinstance(data, dict) and set(data) & {"konbini", "bank_transfer"}:
        return data
    return {payment.method: data}


def payment_json(payment) -> dict | None:
    """Return an order's payment: method, status, reference, instructions, 3-D Secure URL."""
    if payment is None:
        return None
    return {
        "method": payment.method,
        "status": payment.status,
        "reference": payment.reference,
        "failure_code": payment.failure_code or None,
        "instructions": _instructions(payment),
        "action_url": payment.action_url or None,
    }


def invoice_json(invoice, pdf_url: str | None = None) -> dict | None:
    """Return an order's invoice (R9): number, due date, status and where its PDF is."""
    if invoice is None:
        return None
    return {
        "number": invoice.number,
        "due_date": _date(invoice.due_date),
        "status": invoice.state,  # paid | unpaid | overdue (unpaid past its due date)
        "pdf_url": pdf_url,
        "language": invoice.language,
    }


def invoice_detail_json(invoice, *, pdf_url: str | None, payment=None) -> dict:
    """Return an invoice as `GET /invoices/{number}` shows it (R9, R20).

    Expects `order` and `customer` loaded. `payment` is its payment under way, if any (a konbini
    slip, a 3-D Secure challenge, an outcome being confirmed).
    """
    currency = invoice.currency
    return {
        **invoice_json(invoice, pdf_url),
        "order": invoice.order.number,
        "csn": invoice.customer.csn,
        "issued_on": _date(invoice.issued_on),
        "paid_on": _date(invoice.paid_on) if invoice.paid_on else None,
        "currency": currency,
        "subtotal": _money(invoice.subtotal, currency),
        "tax": _money(invoice.tax, currency),
        "total": _money(invoice.total, currency),
        "purchase_order": invoice.purchase_order or None,
        "payment": payment_json(payment),
    }


def credit_note_json(credit, pdf_url: str) -> dict:
    """Return a credit note as orders list it (R20): number, amount, PDF."""
    return {
        "number": credit.number,
        "amount": _money(credit.total, credit.currency),
        "pdf_url": pdf_url,
    }


def order_json(
    order: Order, *, payment=None, invoice=None, invoice_pdf_url=None, credit_notes=()
) -> dict:
    """Return one order as the API shows it.

    Expects `customer` loaded and `lines` prefetched with their subscription's offering.
    """
    currency = order.currency
    return {
        "number": order.number,
        "status": order.status,
        "csn": order.customer.csn,
        "currency": currency,
        "purchase_method": order.purchase_method,
        "created": _timestamp(order.created),
        "lines": [
            line_json(
                subscription_id=line.subscription_id,
                offering=line.subscription.offering,
                seats=line.seats,
                term=line.term,
                unit_price=money(line.unit_price, currency),
                price_kind=line.price_kind,
                amount=money(line.amount, currency),
                term_start=line.term_start,
                term_end=line.term_end,
                previous=line.previous,
            )
            for line in order.lines.all()
        ],
        "subtotal": _money(order.subtotal, currency),
        "tax": _money(order.tax, currency),
        "total": _money(order.total, currency),
        "payment": payment_json(payment),
        "invoice": invoice_json(invoice, invoice_pdf_url),
        "purchase_order": order.purchase_order or None,
        "credit_notes": list(credit_notes),
    }


def cart_item_json(item) -> dict:
    """Return one cart line (a checkout.cart.CartItem) priced as it would be paid today.

    With what it may be changed to (R21): seats from 1 to `max_seats`, the terms sold.
    """
    offer, sub = item.offer, item.subscription
    return {
        **line_json(
            subscription_id=sub.pk,
            offering=sub.offering,
            seats=offer.seats,
            term=offer.term,
            unit_price=offer.unit_price,
            price_kind=offer.price_kind,
            amount=offer.price,
            term_start=offer.next_term[0],
            term_end=offer.next_term[1],
            previous=(sub.seats, sub.term),
        ),
        "choices": {"max_seats": max_seats(sub.offering), "terms": list(offer.sold_terms)},
    }


def cart_json(groups) -> dict:
    """Return the cart (checkout.cart.cart_groups) as the API shows it.

    Lines that cannot be renewed now stay in the cart; they are listed per group under
    `blocked` with their R5 reasons and are not part of the group's totals.
    """
    return {
        "groups": [
            {
                "key": g.key,
                "csn": g.csn,
                "currency": g.currency,
                "purchase_method": g.purchase_method,
                "lines": [cart_item_json(i) for i in g.lines],
                "blocked": [
                    {"subscription_id": i.subscription.pk, "reasons": list(i.offer.reasons)}
                    for i in g.blocked
                ],
                "subtotal": money_json(g.subtotal),
                "tax": money_json(g.tax),
                "total": money_json(g.total),
                "payment_methods": list(g.payment_methods),
            }
            for g in groups
        ],
        "count": sum(g.count for g in groups),
    }
