"""Starting a payment: check the method, create the Payment row, collect it (R9, R10).

The Payment row is committed before the gateway is called (with no transaction open); the
gateway's answer is recorded through the state machine of `transitions`.
"""

import uuid
from datetime import date

from django.conf import settings
from django.db import transaction

from renewals.accounts.models import Card
from renewals.billing.models import Invoice
from renewals.checkout.cart import invoice_customers
from renewals.checkout.models import Order
from renewals.checkout.pricing import payment_methods_for_group
from renewals.core import audit
from renewals.core.errors import DomainError
from renewals.core.money import money
from renewals.subscriptions import rules as subscription_rules
from renewals.subscriptions.models import Subscription

from .. import customers, gateways, rules
from ..cards import active_cards
from ..gateways.base import PaymentRequest
from ..models import Payment
from .transitions import order_purchaser, transition

METHODS = ("card", "konbini", "bank_transfer", "invoice")


def start_payment(
    order: Order,
    *,
    method: str,
    user,
    card_token: str | None = None,
    card_id=None,
    save_card: bool = False,
    off_session: bool = False,
    today: date,
    return_url: str = "",
) -> Payment:
    """Create the payment of an order and collect it by `method`; return the Payment.

    Idempotent: an order has one payment, and starting it again returns that payment. The
    Payment row is committed before the gateway is called (with no transaction open), then the
    gateway's answer is recorded through the state machine, which moves the order.
    """
    existing = Payment.objects.filter(order=order).first()
    if existing:
        return existing
    _check_method(order, method)
    if method == "card":
        card_token = _card_token(card_token, card_id, user=user, order=order)
    gateway_name = "invoice" if method == "invoice" else settings.PAYMENT_GATEWAY
    expires_on = _deadline(order, method, today)
    email = getattr(order_purchaser(order), "email", "")
    gateway_customer = ""
    if method != "invoice" and customers.needs_customer(method, card_token):
        # Before the payment exists: a customer record moves no money, so if the gateway cannot
        # answer, the checkout is refused with nothing charged (gateway_unavailable).
        gateway_customer = customers.gateway_customer_for(
            gateways.get_gateway(gateway_name), order.customer, email=email
        )
    with transaction.atomic():
        payment, created = Payment.objects.get_or_create(
            order=order,
            defaults={
                "gateway": gateway_name,
                "method": method,
                "reference": f"new_{uuid.uuid4().hex}",
                "amount": order.total,
                "currency": order.currency,
                "expires_on": expires_on,
            },
        )
        if created:
            audit.record(payment, action="payment_created", actor=user, method=method)
    if not created:
        return payment
    if method == "invoice":
        return _collect_by_invoice(payment, user=user, today=today)
    request = PaymentRequest(
        reference_hint=order.number,
        amount=money(order.total, order.currency),
        method=method,
        idempotency_key=f"renewals-order-{order.number}",
        customer_email=email,
        card_token=card_token,
        save_card=save_card,
        off_session=off_session,
        expires_on=expires_on if method != "card" else None,
        return_url=return_url,
        cancel_url=return_url,
        gateway_customer_id=gateway_customer,
        customer_name=order.customer.name,
        csn=order.customer.csn,
    )
    from ..collecting import collect  # collecting records through this module's state machine

    # No transaction is open: the gateway call, its ledger row, then the answer (R10).
    return collect(payment, request, user=user, today=today)


def _check_method(order: Order, method: str) -> None:
    """Refuse a method the order may not use, deciding with the cart's own rule (R9)."""
    if method not in METHODS:
        raise DomainError("invalid_payment_method")
    allowed = payment_methods_for_group(
        currency=order.currency,
        purchase_method=order.purchase_method,
        total=money(order.total, order.currency),
        # Only an invoice needs the customer lookup; keep it off the card path.
        invoice_customer=method == "invoice" and invoice_allowed(order),
    )
    if method in allowed:
        return
    if method in ("konbini", "bank_transfer") and order.currency != "JPY":
        variant = "yen_only"
    elif method == "konbini":
        variant = "konbini_amount"
    else:
        variant = "invoice_customers"
    raise DomainError("method_not_allowed", variant=variant)


def invoice_allowed(order: Order) -> bool:
    """Tell whether an order's customer may pay on invoice (R9)."""
    return order.purchase_method == "invoice" or order.customer_id in invoice_customers(
        [order.customer_id]
    )


def _card_token(card_token, card_id, *, user, order) -> str | None:
    if card_id not in (None, ""):
        card = saved_card(user or order_purchaser(order), card_id)
        if card is None:
            raise DomainError("card_not_found")
        return card.token
    # None: a new card, typed on the gateway's own payment page (requires_action + its url).
    return card_token or None


def saved_card(user, card_id) -> Card | None:
    """Return the user's saved, not removed card of this id, or None (ids are ASCII digits)."""
    text = str(card_id)
    if not (text.isascii() and text.isdigit()):  # "²" is a digit to isdigit(), not to int()
        return None
    return active_cards(user).filter(pk=int(text)).first()


def _deadline(order: Order, method: str, today: date) -> date | None:
    if method == "konbini":
        days = rules.konbini_days(settings.KONBINI_DEADLINE_DAYS)
    elif method == "bank_transfer":
        days = settings.BANK_TRANSFER_DEADLINE_DAYS
    elif method == "card":
        # An unanswered 3-D Secure challenge must not hold the term for ever (R5 payment_pending),
        # nor outlive the last renewable day (R19): capped like the other methods.
        days = rules.CHALLENGE_DAYS
    else:
        return None
    closes = [
        subscription_rules.window_closes(sub.lapse_date, sub.term)
        for sub in Subscription.objects.filter(order_lines__order=order).only("lapse_date", "term")
    ]
    return rules.payment_deadline(today=today, days=days, last_renewable_days=closes)


def _collect_by_invoice(payment: Payment, *, user, today: date) -> Payment:
    # R9: the order is fulfilled at once and becomes `invoiced`; its invoice (issued by the
    # fulfilment, R20), not the payment, tracks collection.
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        transition(
            payment, "succeeded", actor_label=getattr(user, "email", "") or "system", today=today
        )
        number = Invoice.objects.filter(order_id=payment.order_id).values_list("number", flat=True)
        if number:
            payment.reference = f"inv_{number[0]}"
            payment.save(update_fields=["reference", "updated"])
    return payment
