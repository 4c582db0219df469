"""Orders: creation and the only state transitions of Order.status (R4, R7, R9, R12).

Each transition is idempotent, locks the order row, writes an audit event and returns whether it
changed anything. Fulfilment (`order_paid`) renews the subscriptions exactly once, however many
times a webhook, a 3-D Secure return or a reconciler reports the same payment.
"""

from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, prefetch_related_objects

from renewals.accounts.models import Customer
from renewals.catalog.models import TaxRate
from renewals.core import audit, clock
from renewals.core.errors import DomainError
from renewals.core.money import money
from renewals.events import outbox as events
from renewals.subscriptions.actions import RenewalRefused, renew_subscriptions

from . import emails
from .models import (
    FULFILLED_STATUSES,
    KEPT_STATUSES,
    OPEN_STATUSES,
    CartLine,
    Order,
    OrderLine,
    OrderLineChange,
)
from .numbering import next_order_number
from .offers import Offer
from .pricing import TaxDecision, order_totals, tax_decision


def order_tax(customer: Customer):
    """Return the tax decision (rate, reverse charge) for a customer's orders (R6)."""
    rates = dict(TaxRate.objects.filter(country=customer.country).values_list("country", "rate"))
    return tax_decision(
        customer_country=customer.country,
        vat_id_validated=customer.vat_id_validated,
        seller_country=settings.SELLER["country"],
        rates=rates,
    )


@transaction.atomic
def create_order(
    *,
    customer: Customer,
    currency: str,
    purchase_method: str,
    payment_method: str,
    offers: list[Offer],
    placed_by,
    automatic: bool,
    business_date: date,
    idempotency_key: str = "",
    request_hash: str = "",
    purchase_order: str = "",
    tax: TaxDecision | None = None,
) -> Order:
    """Create an order pending payment whose lines hold their terms (R4, R5, R7).

    The partial unique constraint on OrderLine(subscription, term_start) makes a second open or
    paid order for the same term impossible: that refusal is DomainError "payment_pending" (409)
    and nothing is created. `tax` is the customer's `order_tax`, when the caller has it already.

    No savepoint of its own inside: a refused insert raises out of this function's atomic block,
    which takes back everything it wrote (its savepoint when nested, else the transaction).
    """
    if not offers:
        raise DomainError("empty_order")
    for offer in offers:
        sub = offer.subscription
        if (sub.customer_id, sub.currency, sub.purchase_method) != (
            customer.pk,
            currency,
            purchase_method,
        ):
            raise DomainError("mixed_order")
        if not offer.eligible or offer.price is None:
            raise DomainError(
                "not_eligible",
                variant="subscription",
                id=sub.pk,
                details=[{"id": sub.pk, "reasons": list(offer.reasons)}],
            )
    decision = tax or order_tax(customer)
    totals = order_totals([o.price for o in offers], currency, decision.rate)
    try:
        order = Order.objects.create(
            number=next_order_number(business_date.year),
            customer=customer,
            currency=currency,
            purchase_method=purchase_method,
            payment_method=payment_method,
            status="pending_payment",
            placed_by=placed_by,
            automatic=automatic,
            subtotal=totals.subtotal.amount,
            tax=totals.tax.amount,
            total=totals.total.amount,
            tax_rate=decision.rate,
            reverse_charge=decision.reverse_charge,
            business_date=business_date,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            purchase_order=purchase_order,
        )
    except IntegrityError:
        raise DomainError("duplicate_request") from None
    lines = [
        OrderLine(
            order=order,
            subscription=o.subscription,
            # R21: what the order buys for the next term (its term is read from the dates).
            seats=o.seats,
            unit_price=o.unit_price.amount,
            price_kind=o.price_kind,
            amount=o.price.amount,
            term_start=o.next_term[0],
            term_end=o.next_term[1],
        )
        for o in offers
    ]
    try:
        OrderLine.objects.bulk_create(lines)
    except IntegrityError:
        raise DomainError("payment_pending") from None
    # R21: the lines that change seats or term keep what the subscription had until then.
    changes = [
        OrderLineChange(
            line=line, previous_seats=o.subscription.seats, previous_term=o.subscription.term
        )
        for line, o in zip(lines, offers, strict=True)
        if o.changed
    ]
    if changes:
        OrderLineChange.objects.bulk_create(changes)
    audit.record(
        order,
        action="order_created",
        actor=placed_by,
        label="" if placed_by else "system",
        total=str(order.total),
        currency=currency,
        payment_method=payment_method,
        automatic=automatic,
        subscriptions=[o.subscription.pk for o in offers],
    )
    return order


def _locked(order_id) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def _remove_cart_lines(order: Order) -> int:
    """Remove the cart lines of the order's subscriptions for the term it pays (R7)."""
    deleted, _detail = CartLine.objects.filter(
        subscription_id__in=order.lines.values("subscription_id")
    ).delete()
    return deleted


@transaction.atomic(savepoint=False)  # joins the payment's transaction (#15)
def order_paid(
    order_id, *, today: date, actor_label: str = "system", on_fulfilled=None, payment=None
) -> bool:
    """Mark an order paid and fulfil it: renew every line's term once (R4), email once (R15).

    An order on net terms (payment method `invoice`, R9) is fulfilled the same way but becomes
    `invoiced`, not `paid`, and gets no payment confirmation: its invoice tells the customer
    what is due (`order_invoice_paid` makes it `paid` later). `on_fulfilled(order, lines)`, when
    given, runs in the same transaction once the door has renewed the terms and the status is
    saved, before the emails — billing issues the order's tax invoice there (R20), so money the
    door refuses never gets one.

    `today` is the business day the money is recorded on: the renewal door
    (`subscriptions.actions.renew_subscriptions`) refuses what R3/R19 forbid on that day. Removes
    the renewed subscriptions from carts and queues one `order-confirmation` (or, for an
    automatic order, `auto-renewal-receipt`) per purchaser after commit. Money the door refuses,
    or reported for an order that already failed or expired, renews nothing: the order keeps it
    as `payment_after_release` for staff to refund (see `keep_payment`). Returns whether the
    order became paid (or invoiced). `payment`, when given, is the order's payment as just saved
    (the payments door's, locked): `order.paid` is shaped with it instead of reading it (#15).
    """
    # Its customer and placer come with it (the invoice and the door's audit need them); only
    # the order's row is locked.
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("customer", "placed_by")
        .get(pk=order_id)
    )
    if order.status in FULFILLED_STATUSES:
        return False
    if payment is not None and payment.order_id == order.pk:
        Order.payment.related.set_cached_value(order, payment)
    if order.status not in OPEN_STATUSES:
        # Its terms were released and may be renewed by another order since: money that
        # arrives now is refunded by staff (payments), never used to renew (R4).
        _keep(order, reason="released", actor_label=actor_label, today=today)
        return False
    # Lock the cart lines before renew_subscriptions locks the subscriptions: the order that
    # place_order takes. The other order deadlocked a tab checking out the same group while
    # this one was fulfilled (tests/reliability/test_concurrent_checkouts.py).
    subscription_ids = order.lines.values("subscription_id")
    list(
        CartLine.objects.select_for_update()
        .filter(subscription_id__in=subscription_ids)
        .order_by("added", "id")
        .values_list("pk")
    )
    # Prefetched onto the order: the `order.paid` shape takes them from memory (#15).
    related = ("subscription__purchaser", "subscription__offering", "change")
    prefetch_related_objects(
        [order], Prefetch("lines", queryset=OrderLine.objects.select_related(*related))
    )
    lines = list(order.lines.all())
    try:
        renew_subscriptions(
            [(line.subscription_id, line.term_start) for line in lines],
            changes={
                line.subscription_id: (line.seats, line.term) for line in lines if line.changed
            },
            today=today,
            order_number=order.number,
            source="auto_renewal" if order.automatic else "order",
            actor=order.placed_by,
        )
    except RenewalRefused as refused:
        _keep(
            order,
            reason=refused.code,
            actor_label=actor_label,
            today=today,
            subscription=refused.subscription_id,
        )
        return False
    previous = order.status
    invoiced = order.payment_method == "invoice"
    order.status = "invoiced" if invoiced else "paid"
    order.paid_at = None if invoiced else clock.now()
    order.failure_code = ""
    order.save(update_fields=["status", "paid_at", "failure_code"])
    _remove_cart_lines(order)
    audit.record(order, action=f"order_{order.status}", label=actor_label, previous=previous)
    if on_fulfilled is not None:
        on_fulfilled(order, lines)
    if not invoiced:  # an invoiced order's event is billing's order.invoiced
        events.emit("order.paid", [order], today=today)
        emails.queue_order_emails(order, lines)
    return True


@transaction.atomic
def order_invoice_paid(order_id, *, actor_label: str = "system") -> bool:
    """Mark an invoiced order paid once its invoice is paid (R9); confirm it by email (R15).

    Its terms were renewed when it was invoiced: nothing is renewed again. Returns changed.
    """
    order = _locked(order_id)
    if order.status != "invoiced":
        return False
    order.status = "paid"
    order.paid_at = clock.now()
    order.save(update_fields=["status", "paid_at"])
    audit.record(order, action="order_paid", label=actor_label, previous="invoiced")
    events.emit("order.paid", [order])
    lines = list(order.lines.select_related("subscription__purchaser", "subscription__offering"))
    emails.queue_order_emails(order, lines)
    return True


@transaction.atomic
def keep_payment(order_id, *, reason: str, today: date, actor_label: str = "system") -> bool:
    """Keep money that cannot renew on the order, for staff to refund (R19); return changed.

    For money that arrives on an order whose terms were released (it failed or expired) or was
    refunded: the order becomes `payment_after_release`, the customer is told in words.
    """
    order = _locked(order_id)
    if order.status == "paid":
        return False
    return _keep(order, reason=reason, actor_label=actor_label, today=today)


def _keep(order: Order, *, reason: str, actor_label: str, today: date, **data) -> bool:
    previous = order.status
    if previous in OPEN_STATUSES:
        # The order no longer holds its terms: the customer may renew again while R3 allows.
        OrderLine.objects.filter(order=order).update(holds_term=False)
    audit.record(
        order,
        action="payment_after_release",
        label=actor_label,
        previous=previous,
        reason=reason,
        **data,
    )
    if previous == "payment_after_release":
        return False
    order.status = "payment_after_release"
    order.failure_code = reason[:40]
    order.save(update_fields=["status", "failure_code"])
    emails.queue_payment_kept_email(order, reason=reason, today=today)
    return True


@transaction.atomic
def order_refunded(order_id, *, actor_label: str) -> bool:
    """Close an order whose kept money (`payment_after_release`) was given back (R19)."""
    order = _locked(order_id)
    if order.status not in KEPT_STATUSES:
        return False
    order.status = "refunded"
    order.save(update_fields=["status"])
    audit.record(order, action="order_refunded", label=actor_label)
    return True


@transaction.atomic
def order_requires_action(order_id) -> bool:
    """Mark an open order as waiting for the customer's 3-D Secure challenge (R9)."""
    order = _locked(order_id)
    if order.status not in ("pending_payment", "confirming"):
        return False
    order.status = "requires_action"
    order.save(update_fields=["status"])
    audit.record(order, action="order_requires_action", label="gateway")
    return True


@transaction.atomic
def order_confirming(order_id) -> bool:
    """Mark an open order as confirming: its gateway's answer was lost, it is being looked up.

    The order keeps holding its terms (R5 payment_pending): the customer may have been charged,
    so the group cannot be paid again until the gateway says what happened (R10).
    """
    order = _locked(order_id)
    if order.status not in ("pending_payment", "requires_action"):
        return False
    previous = order.status
    order.status = "confirming"
    order.save(update_fields=["status"])
    audit.record(order, action="order_confirming", label="gateway", previous=previous)
    return True


@transaction.atomic
def order_awaiting_payment(order_id) -> bool:
    """Mark an order as waiting for an asynchronous payment (konbini, transfer) (R9).

    Its lines leave the cart: the order now holds them until paid or expired.
    """
    order = _locked(order_id)
    if order.status not in OPEN_STATUSES:
        return False
    changed = order.status != "pending_payment"
    if changed:
        order.status = "pending_payment"
        order.save(update_fields=["status"])
    removed = _remove_cart_lines(order)
    if changed or removed:
        audit.record(order, action="order_awaiting_payment", label="gateway")
    return bool(changed or removed)


def _release(order_id, status: str, action: str, **fields) -> bool:
    order = _locked(order_id)
    if order.status not in OPEN_STATUSES:
        return False
    order.status = status
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", *fields])
    # The terms become free again: the subscription can be renewed while its window lasts (R9).
    OrderLine.objects.filter(order=order).update(holds_term=False)
    audit.record(order, action=action, label="gateway", **fields)
    if status == "failed":
        events.emit("order.failed", [order])
    return True


@transaction.atomic
def order_failed(order_id, *, failure_code: str) -> bool:
    """Mark an open order failed (declined card, failed challenge) and release its terms.

    The cart lines stay, so the customer can try again with another card.
    """
    return _release(order_id, "failed", "order_failed", failure_code=failure_code or "failed")


@transaction.atomic
def order_expired(order_id) -> bool:
    """Mark an open order expired (payment deadline passed, R9) and release its terms."""
    return _release(order_id, "expired", "order_expired")


def orders_visible_to(user):
    """Return the orders `user` may see (R5 scoping, issue #14).

    An order belongs to its customer: it is visible to the person who placed it, to the admins
    of its customer, and to the purchaser of one of its subscriptions while that subscription
    is still at the order's customer (automatic orders have no placer). A subscription moved to
    another customer takes none of the old customer's orders along to its new purchaser.
    """
    if not getattr(user, "is_authenticated", False):
        return Order.objects.none()
    admin_of = user.memberships.filter(role="admin").values("customer_id")
    purchases_at_its_customer = OrderLine.objects.filter(
        order=OuterRef("pk"),
        subscription__purchaser_id=user.pk,
        subscription__customer_id=OuterRef("customer_id"),
    )
    return Order.objects.filter(
        Q(placed_by_id=user.pk) | Q(customer_id__in=admin_of) | Exists(purchases_at_its_customer)
    )


def order_money(order: Order):
    """Return (subtotal, tax, total) of an order as Money."""
    return (
        money(order.subtotal, order.currency),
        money(order.tax, order.currency),
        money(order.total, order.currency),
    )
