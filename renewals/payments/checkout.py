"""Checking out one cart group (R6, R7, R9, R10): re-validate under locks, create, then pay.

The order is created in one short transaction that locks the user's cart lines and the
subscriptions; the payment is started after it commits (payments.actions.start_payment calls
the gateway with no transaction open). An idempotency key per user makes a double submit, a
refresh or a client retry return the first order without a second charge.
"""

import hashlib
import json
import re
from datetime import date

from django.conf import settings
from django.db import transaction

from renewals.checkout.cart import cart_items, invoice_customers
from renewals.checkout.cart_actions import refresh_cart_lines
from renewals.checkout.grouping import parse_group_key
from renewals.checkout.models import CartLine, Order
from renewals.checkout.orders import create_order, order_failed, order_tax
from renewals.checkout.pricing import order_totals, payment_methods_for_group
from renewals.core.errors import DomainError, NotFound
from renewals.core.money import Money, money_json
from renewals.subscriptions.models import Subscription

from .actions import METHODS, saved_card, start_payment
from .gateways.sandbox import test_card_or_refuse
from .models import Payment

DEFAULT_RETURN_URL = "/billing/orders/{order}/?return=1"


def request_hash(group_key: str, payment: dict, expected_total: Money | None) -> str:
    """Return a stable digest of a checkout request, to recognise a reused idempotency key.

    No card number enters it (R10): a card number is reduced to its last four digits, which
    tell the sandbox's test cards apart and identify nobody's card.
    """
    payment = dict(payment) if isinstance(payment, dict) else {"invalid": str(type(payment))}
    if "card_number" in payment:
        digits = re.sub(r"[\s-]", "", str(payment.pop("card_number") or ""))
        payment["card_last4"] = digits[-4:]
    body = {
        "group": group_key,
        "payment": payment,
        "expected_total": money_json(expected_total),
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _parse_payment(payment, *, user) -> dict:
    """Validate the payment part of a checkout before anything is written; return start_payment kwargs."""
    if not isinstance(payment, dict) or payment.get("method") not in METHODS:
        raise DomainError("invalid_payment_method")
    method = payment["method"]
    if method != "card":
        return {"method": method}
    card_id = payment.get("payment_method_id")
    if card_id not in (None, ""):
        card = saved_card(user, card_id)
        if card is None:
            raise DomainError("card_not_found")
        return {"method": "card", "card_id": card.pk}
    save = bool(payment.get("save"))
    if payment.get("card_number") in (None, ""):
        # A new card: typed on the gateway's own payment page, never sent here (R10).
        return {"method": "card", "card_token": None, "save_card": save}
    # Only the sandbox takes a number, and only one of its published test numbers (R10).
    if settings.PAYMENT_GATEWAY != "sandbox":
        raise _not_accepted()
    try:
        number = test_card_or_refuse(str(payment["card_number"]))
    except DomainError:
        raise _not_accepted() from None
    return {"method": "card", "card_token": number, "save_card": save}


def invoice_payment_kwargs(payment, *, user) -> dict:
    """Validate how an invoice is to be paid (as at checkout, not `invoice`); pay_invoice kwargs."""
    if isinstance(payment, dict) and payment.get("method") == "invoice":
        raise DomainError("method_not_allowed", variant="invoice")
    return _parse_payment(payment, user=user)


def _not_accepted() -> DomainError:
    return DomainError("card_number_not_accepted")


def _existing(user, idempotency_key: str, digest: str) -> Order | None:
    order = Order.objects.filter(placed_by=user, idempotency_key=idempotency_key).first()
    if order is not None and order.request_hash != digest:
        raise DomainError("idempotency_mismatch")
    return order


def _price_changed(items, totals, expected_total) -> bool:
    if expected_total is not None:
        return expected_total != totals.total
    return any(item.price_changed for item in items)


def place_order(
    *,
    user,
    group_key: str,
    payment: dict,
    idempotency_key: str,
    expected_total: Money | None,
    today: date,
    return_url: str = "",
    purchase_order: str = "",
) -> tuple[Order, bool]:
    """Check out one cart group: one order, one payment (R7); return (order, created).

    `purchase_order` is the customer's own purchase-order number, printed on the invoice (R20).

    Refusals change nothing: unknown group (404), ineligible lines, a method the group may not
    use, a price different from the one the user saw ("price_changed" 409, the cart lines then
    store the new prices), a renewal already being paid ("payment_pending" 409).
    `return_url` may contain "{order}", replaced by the order number; by default the gateway's
    payment page sends the customer back to the order's page, which records the outcome.
    """
    return_url = return_url or DEFAULT_RETURN_URL
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200:
        raise DomainError("idempotency_key_required")
    purchase_order = clean_purchase_order(purchase_order)
    digest = request_hash(group_key, payment, expected_total)
    if purchase_order:  # only then: the digests of checkouts without one stay as they were
        digest = hashlib.sha256(f"{digest}|po:{purchase_order}".encode()).hexdigest()
    existing = _existing(user, key, digest)
    if existing is None:
        kwargs = _parse_payment(payment, user=user)
        order, created = _create(
            user,
            group_key,
            kwargs["method"],
            key,
            digest,
            expected_total,
            today,
            purchase_order=purchase_order,
        )
    else:
        order, created = existing, False
        kwargs = _parse_payment(payment, user=user)
    if not Payment.objects.filter(order=order).exists():
        # The 3-D Secure return address names the order, known only now: "{order}" in it.
        back = return_url.replace("{order}", order.number)
        try:
            start_payment(order, user=user, today=today, return_url=back, **kwargs)
        except DomainError:
            # A payment that could not even start must not hold the terms (R5 payment_pending).
            order_failed(order.pk, failure_code="payment_not_started")
            raise
    order.refresh_from_db()
    return order, created


PURCHASE_ORDER_MAX = 60  # Order.purchase_order


def clean_purchase_order(value) -> str:
    """Return a purchase-order number as printed on the invoice, or refuse it (R20)."""
    text = str(value or "").strip()
    if len(text) > PURCHASE_ORDER_MAX or not text.isprintable():
        raise DomainError("invalid_purchase_order", max=PURCHASE_ORDER_MAX)
    return text


def _create(
    user, group_key, method, key, digest, expected_total, today, *, purchase_order=""
) -> tuple[Order, bool]:
    parsed = parse_group_key(group_key) if "\x00" not in str(group_key) else None
    if parsed is None:
        raise NotFound("cart_group")
    csn, currency, purchase_method = parsed
    refused = None
    with transaction.atomic():
        # Lock the user's cart, then the subscriptions (in id order): two tabs checking out the
        # same group run one after the other, and the second sees the first one's order.
        list(CartLine.objects.select_for_update().filter(user=user).values_list("pk"))
        existing = _existing(user, key, digest)
        if existing is not None:
            return existing, False
        lines = list(
            CartLine.objects.filter(
                user=user,
                subscription__in=Subscription.objects.visible_to(user).values("pk"),
                subscription__customer__csn=csn,
                subscription__currency=currency,
                subscription__purchase_method=purchase_method,
            )
            .select_related("chosen")
            .order_by("added", "id")
        )
        if not lines:
            raise NotFound("cart_empty")
        # One query locks the subscriptions (their rows only, in id order) and reads them.
        subs = {
            s.pk: s
            for s in Subscription.objects.select_for_update(of=("self",))
            .filter(pk__in={line.subscription_id for line in lines})
            .select_related("customer", "offering", "purchaser", "partner")
            .order_by("pk")
        }
        for line in lines:
            line.subscription = subs[line.subscription_id]
        items = cart_items(lines, user=user, today=today)
        # Lines that cannot be renewed any more are shown apart in the cart and left out of the
        # group's total (R5, R7); the order pays the others. Nothing payable left: refuse.
        blocked = [i for i in items if not i.eligible]
        items = [i for i in items if i.eligible]
        if not items:
            pending = any("payment_pending" in i.offer.reasons for i in blocked)
            raise DomainError(
                "payment_pending" if pending else "not_eligible",
                details=[
                    {"id": i.subscription.pk, "reasons": list(i.offer.reasons)} for i in blocked
                ],
            )
        customer = items[0].subscription.customer
        decision = order_tax(customer)
        totals = order_totals([i.offer.price for i in items], currency, decision.rate)
        allowed = payment_methods_for_group(
            currency=currency,
            purchase_method=purchase_method,
            total=totals.total,
            invoice_customer=customer.pk in invoice_customers([customer.pk]),
        )
        if method not in allowed:
            raise DomainError(
                "method_not_allowed",
                details=[{"allowed": allowed}],
            )
        if _price_changed(items, totals, expected_total):
            refused = DomainError(
                "price_changed",
                details=[
                    {
                        "id": i.subscription.pk,
                        "unit_price": money_json(i.offer.unit_price),
                        "price": money_json(i.offer.price),
                        "price_kind": i.offer.price_kind,
                        "next_term": {
                            "start": i.offer.next_term[0].isoformat(),
                            "end": i.offer.next_term[1].isoformat(),
                        },
                    }
                    for i in items
                ]
                + [{"total": money_json(totals.total)}],
            )
        else:
            order = create_order(
                customer=customer,
                currency=currency,
                purchase_method=purchase_method,
                payment_method=method,
                offers=[i.offer for i in items],
                placed_by=user,
                automatic=False,
                business_date=today,
                idempotency_key=key,
                request_hash=digest,
                purchase_order=purchase_order,
                tax=decision,
            )
            return order, True
    # R6: the refused checkout leaves the cart showing the new prices.
    refresh_cart_lines(user=user, offers=[i.offer for i in items])
    raise refused
