"""The writes of payments: one state machine for every method (R9, R10).

Every change of `Payment.status` goes through `_transition`, which checks the move against
`rules.TRANSITIONS`, saves, writes an audit event and calls the matching order transition of
checkout (paid → fulfilment, exactly once). Calls to the gateway never run inside a transaction
this module opened: claim (transaction) → call the gateway → record the result (transaction).
"""

import logging
import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from renewals.accounts.models import Card
from renewals.billing import actions as billing
from renewals.checkout import orders
from renewals.checkout.cart import invoice_customers
from renewals.checkout.emails import order_path
from renewals.checkout.models import KEPT_STATUSES, Order
from renewals.checkout.pricing import payment_methods_for_group
from renewals.core import audit
from renewals.core.errors import DomainError, NotFound
from renewals.core.formatting import long_date
from renewals.core.money import format_money, money
from renewals.notifications.outbox import queue_email
from renewals.subscriptions import rules as subscription_rules
from renewals.subscriptions.models import Subscription

from . import customers, gateways, rules
from .cards import active_cards
from .gateways.base import GatewayResult, PaymentRequest
from .models import Payment

log = logging.getLogger(__name__)

METHODS = ("card", "konbini", "bank_transfer", "invoice")


# -- starting a payment ------------------------------------------------------------------------


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
    email = getattr(_purchaser(order), "email", "")
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
    from .collecting import collect  # collecting records through this module's state machine

    # No transaction is open: the gateway call, its ledger row, then the answer (R10).
    return collect(payment, request, user=user, today=today)


def _check_method(order: Order, method: str) -> None:
    """Refuse a method the order may not use, deciding with the cart's own rule (R9)."""
    if method not in METHODS:
        raise DomainError(f"Unknown payment method {method!r}.", code="invalid_payment_method")
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
        message = "Konbini and bank transfer payments are available in Japanese yen only."
    elif method == "konbini":
        message = "Konbini payments must be between ¥120 and ¥300,000 per order."
    else:
        message = "Paying by invoice is only available to customers who already pay by invoice."
    raise DomainError(message, code="method_not_allowed")


def invoice_allowed(order: Order) -> bool:
    """Tell whether an order's customer may pay on invoice (R9)."""
    return order.purchase_method == "invoice" or order.customer_id in invoice_customers(
        [order.customer_id]
    )


def _card_token(card_token, card_id, *, user, order) -> str | None:
    if card_id not in (None, ""):
        card = saved_card(user or _purchaser(order), card_id)
        if card is None:
            raise DomainError("This saved card was not found.", code="card_not_found")
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
    # R9: the order is fulfilled at once; the invoice, not the payment, tracks collection.
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        invoice = billing.issue_invoice(payment.order, today=today, actor=user)
        payment.reference = f"inv_{invoice.number}"
        payment.save(update_fields=["reference", "updated"])
        _transition(
            payment, "succeeded", actor_label=getattr(user, "email", "") or "system", today=today
        )
    return payment


# -- recording the gateway's answers -------------------------------------------------------------


def record_result(
    payment_id: int, result: GatewayResult, *, actor_label: str, today: date, user=None
) -> Payment:
    """Record a gateway's first definite answer about a created or confirming payment (idempotent).

    `today` is the business day the answer is recorded on (the renewal door's day, R19). An
    `unknown` answer (lost: time-out, connection, 5xx, rate limit) is never a failure: the
    payment becomes `confirming` and is looked up (payments.collecting, R10).
    """
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status not in ("created", "confirming"):
            return payment
        if result.outcome == rules.UNKNOWN:
            if payment.status == "created":
                _transition(payment, "confirming", actor_label=actor_label, error=result.error)
            return payment
        if payment.status == "confirming" and result.reference.startswith("declined_"):
            result = GatewayResult(**{**result.__dict__, "reference": ""})
        payment.reference = result.reference or payment.reference
        payment.instructions = result.instructions
        payment.action_url = result.action_url
        payment.save(update_fields=["reference", "instructions", "action_url", "updated"])
        if result.saved_card and result.outcome == "succeeded":
            _save_card(payment, result)
        if result.outcome == "pending" and payment.method == "bank_transfer":
            customers.remember_bank_account(payment.order.customer_id, result.instructions)
        _transition(
            payment,
            result.outcome,
            actor_label=actor_label,
            failure_code=result.failure_code,
            today=today,
        )
    return payment


def trusted_gateway(name: str) -> bool:
    """Tell whether a gateway's word about money counts here (R10).

    The sandbox simulates money: it is believed only while it is the configured gateway, so a
    payment left from a sandbox period can never be "paid" on a Stripe deployment (by its 3-D
    Secure page, the reconciler or a webhook).
    """
    return name != "sandbox" or settings.PAYMENT_GATEWAY == "sandbox"


def complete_action(reference: str, *, today: date) -> Payment:
    """Ask the gateway what became of a 3-D Secure challenge and record it (the customer's return).

    A challenge passed after the last renewable day renews nothing (R19): the door refuses and
    the money is kept on the order for staff to refund.
    """
    payment = Payment.objects.filter(reference=reference).first()
    if payment is None:
        raise NotFound("This payment was not found.")
    if payment.status != "requires_action" or not trusted_gateway(payment.gateway):
        return payment
    from .collecting import confirm_payment, idempotency_key  # they record through this module
    from .ledger import call_gateway

    gateway = gateways.get_gateway(payment.gateway)
    result = call_gateway(
        payment.gateway,
        "retrieve_payment",
        lambda: gateway.retrieve_payment(reference),
        idempotency_key=idempotency_key(payment),
        payment=payment,
    )
    if result.outcome == rules.UNKNOWN:
        # The answer was lost: the customer may have passed the challenge and been charged.
        with transaction.atomic():
            locked = _locked(reference)
            if locked is not None and locked.status == "requires_action":
                _transition(locked, "confirming", actor_label="3ds_return", error=result.error)
        return confirm_payment(payment.pk, source="3ds_return", today=today)
    if result.outcome == "succeeded":
        with transaction.atomic():
            if result.saved_card:
                _save_card(payment, result)
        payment_succeeded(reference, source="3ds_return", today=today)
    elif result.outcome == "failed":
        payment_failed(reference, failure_code=result.failure_code, source="3ds_return")
    return Payment.objects.get(pk=payment.pk)


def payment_succeeded(
    reference: str, *, amount=None, source: str, today: date, gateway: str | None = None
) -> bool:
    """Record that a payment was collected; fulfil its order once. Return whether it changed.

    `today` is the business day the money is recorded on; `gateway`, when given, is the gateway
    whose endpoint reported it: a payment of another gateway is not touched. A success that
    arrives after the payment failed or expired (its term released), or that the renewal door
    refuses on `today` (R19), renews nothing: the money is kept on the order
    (`payment_after_release`) and the payment flagged for staff to refund.
    """
    with transaction.atomic():
        payment = _locked(reference, gateway)
        if payment is None:
            return False
        if amount is not None and Decimal(amount.amount) != Decimal(payment.amount):
            return _funds_received(payment, Decimal(amount.amount), source=source, today=today)
        if payment.status in rules.CLOSED_WITHOUT_MONEY:
            return _keep(
                payment, source=source, why="money arrived after the payment closed", today=today
            )
        if payment.status == "partially_funded" and amount is not None:
            # The rest arrived (Stripe reports the total): nothing is left to reconcile.
            payment.received_amount = Decimal(amount.amount)
            payment.needs_reconciliation = False
            payment.save(update_fields=["received_amount", "needs_reconciliation", "updated"])
        return _transition(payment, "succeeded", actor_label=source, today=today)


def transfer_received(
    reference: str,
    *,
    amount,
    source: str,
    today: date,
    cumulative: bool = False,
    gateway: str | None = None,
) -> bool:
    """Record a bank transfer: the exact amount pays the order; a short or excess one is flagged.

    Transfers add up (`amount` is one transfer) unless `cumulative`, when `amount` is the total
    received so far (Stripe reports a partially funded intent that way).
    """
    value = Decimal(amount.amount) if hasattr(amount, "amount") else Decimal(amount)
    with transaction.atomic():
        payment = _locked(reference, gateway)
        if payment is None:
            return False
        if cumulative:
            already = Decimal(payment.received_amount or 0)
            if value <= already:
                return False
            value -= already
        return _funds_received(payment, value, source=source, today=today)


def _funds_received(payment: Payment, value: Decimal, *, source: str, today: date) -> bool:
    payment.received_amount = Decimal(payment.received_amount or 0) + value
    payment.save(update_fields=["received_amount", "updated"])
    audit.record(payment, action="funds_received", label=source, amount=str(value))
    if payment.status not in rules.OPEN:
        return _keep(
            payment,
            source=source,
            why=f"received {value} on a {payment.status} payment",
            today=today,
        )
    outcome = rules.transfer_outcome(
        expected=Decimal(payment.amount), received=payment.received_amount
    )
    if outcome == "succeeded":
        payment.needs_reconciliation = False
        payment.save(update_fields=["needs_reconciliation", "updated"])
        return _transition(payment, "succeeded", actor_label=source, today=today)
    changed = payment.status != "partially_funded"
    if changed:
        _transition(payment, "partially_funded", actor_label=source)
    _flag(payment, source=source, why=f"received {payment.received_amount} of {payment.amount}")
    return True


def payment_failed(
    reference: str, *, failure_code: str, source: str, gateway: str | None = None
) -> bool:
    """Record that a payment failed; a failure after a success or expiry changes nothing."""
    with transaction.atomic():
        payment = _locked(reference, gateway)
        if payment is None or payment.status not in rules.OPEN:
            return False
        return _transition(payment, "failed", actor_label=source, failure_code=failure_code)


def payment_expired(reference: str, *, source: str, gateway: str | None = None) -> bool:
    """Record that a payment's deadline passed: the order expires and its terms are released."""
    with transaction.atomic():
        payment = _locked(reference, gateway)
        if payment is None or payment.status not in rules.OPEN - {"created"}:
            return False
        return _transition(payment, "expired", actor_label=source)


def expire_overdue_payments(today: date) -> int:
    """Expire every open payment whose deadline is before `today` (the daily run, R9, R16).

    A payment still `created` past its deadline never got the gateway's answer (the process
    stopped mid-call): it fails with `no_gateway_answer`, so its order releases the terms. A
    `confirming` one is never failed by a date — the customer may have been charged: it is left
    to the reconciler's lookups and flagged for staff (R10).
    """
    for payment in Payment.objects.filter(
        status="confirming", expires_on__lt=today, needs_reconciliation=False
    ):
        _flag(payment, source="daily", why="outcome still unknown after the payment deadline")
    rows = list(
        Payment.objects.filter(
            status__in=["created", "requires_action", "pending", "partially_funded"],
            expires_on__lt=today,
        ).values_list("reference", "status")
    )
    changed = 0
    for reference, status in rows:
        if status == "created":
            changed += payment_failed(reference, failure_code="no_gateway_answer", source="daily")
        else:
            changed += payment_expired(reference, source="daily")
    return changed


# -- staff reconciliation (R18) ------------------------------------------------------------------


def settle_payment(payment_id: int, *, actor, note: str, today: date) -> bool:
    """Accept a flagged payment as paid (staff): the order is fulfilled. A note is required.

    Goes through the renewal door on `today`: when it refuses (the subscription was cancelled
    meanwhile, its term renewed or moved, R19) nothing changes and the refusal says to refund.
    """
    _require_note(note)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status not in ("pending", "partially_funded"):
            raise DomainError(
                f"A {payment.status} payment cannot be settled: only a pending or partially "
                "funded one can. Money that arrived after a payment failed or expired is refunded.",
                code="not_settleable",
            )
        _note(payment, note, actor)
        payment.needs_reconciliation = False
        payment.save(update_fields=["needs_reconciliation", "reconciliation_note", "updated"])
        _transition(payment, "succeeded", actor_label=actor.email, note=note, today=today)
        order = Order.objects.only("status", "failure_code").get(pk=payment.order_id)
        if order.status != "paid":
            # Rolls the whole settlement back: the payment stays as it was, still flagged.
            raise DomainError(
                "This payment can no longer renew its subscriptions "
                f"({order.failure_code or order.status}): refund it instead.",
                code="renewal_refused",
            )
        return True


def refund_payment(payment_id: int, *, actor, note: str) -> bool:
    """Close a flagged payment as refunded (staff); an open order fails and releases its terms."""
    _require_note(note)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        _note(payment, note, actor)
        payment.needs_reconciliation = False
        payment.save(update_fields=["needs_reconciliation", "reconciliation_note", "updated"])
        kept = Order.objects.filter(pk=payment.order_id, status__in=KEPT_STATUSES).exists()
        if payment.status == "succeeded" and not kept:
            # Only the excess of an overpaid, fulfilled order goes back; the renewal stands.
            audit.record(payment, action="excess_refunded", actor=actor, note=note)
            return True
        if not rules.can_transition(payment.status, "refunded"):
            raise DomainError(
                f"A {payment.status} payment cannot be refunded.", code="not_refundable"
            )
        return _transition(payment, "refunded", actor_label=actor.email, note=note)


def _require_note(note: str) -> None:
    if not (note or "").strip():
        raise DomainError("Write a note saying why.", code="note_required")


def _note(payment: Payment, note: str, actor) -> None:
    line = f"{actor.email}: {note.strip()}"
    payment.reconciliation_note = "\n".join(filter(None, [payment.reconciliation_note, line]))


# -- the one door -----------------------------------------------------------------------------------


def _locked(reference: str, gateway: str | None = None) -> Payment | None:
    payments = Payment.objects.select_for_update().filter(reference=reference)
    if gateway is not None:
        # An event applies only to a payment of the gateway whose endpoint received it.
        payments = payments.filter(gateway=gateway)
    return payments.first()


def _keep(payment: Payment, *, source: str, why: str, today: date) -> bool:
    """Money on a payment that closed without it: flag it, and keep it on the order (R19)."""
    _flag(payment, source=source, why=why)
    orders.keep_payment(payment.order_id, reason="released", today=today, actor_label=source)
    return True


def _flag(payment: Payment, *, source: str, why: str) -> bool:
    if not payment.needs_reconciliation:
        payment.needs_reconciliation = True
        payment.save(update_fields=["needs_reconciliation", "updated"])
    audit.record(payment, action="flagged_for_reconciliation", label=source, why=why)
    return True


def _transition(
    payment: Payment,
    new: str,
    *,
    actor_label: str,
    failure_code: str = "",
    today: date | None = None,
    **data,
) -> bool:
    """Move a locked payment to `new` if allowed; save, audit and move its order. Return changed.

    A move to `succeeded` needs `today`, the day the money is recorded: the order's fulfilment
    passes it to the renewal door, which may refuse (R19); the payment is then flagged.
    """
    if new == "succeeded" and today is None:
        raise ValueError("recording money needs the business day it is recorded on")
    if payment.status == new:
        return False
    if not rules.can_transition(payment.status, new):
        audit.record(
            payment,
            action="transition_refused",
            label=actor_label,
            current=payment.status,
            requested=new,
        )
        return False
    previous = payment.status
    payment.status = new
    if new == "failed":
        payment.failure_code = failure_code or "failed"
    payment.save(update_fields=["status", "failure_code", "updated"])
    audit.record(
        payment,
        action=f"payment_{new}",
        label=actor_label,
        previous=previous,
        failure_code=payment.failure_code,
        **data,
    )
    order_id = payment.order_id
    if new == "succeeded":
        if not orders.order_paid(order_id, today=today, actor_label=actor_label):
            if Order.objects.filter(pk=order_id, status__in=KEPT_STATUSES).exists():
                _flag(payment, source=actor_label, why="the renewal door refused the payment")
    elif new == "requires_action":
        orders.order_requires_action(order_id)
    elif new == "confirming":
        orders.order_confirming(order_id)
    elif new == "pending":
        orders.order_awaiting_payment(order_id)
        _email(payment, "payment-instructions")
    elif new == "failed":
        orders.order_failed(order_id, failure_code=payment.failure_code)
    elif new == "expired":
        orders.order_expired(order_id)
        _email(payment, "payment-expired")
    elif new == "refunded" and previous in ("pending", "partially_funded"):
        orders.order_failed(order_id, failure_code="refunded")
    if new == "refunded":
        orders.order_refunded(order_id, actor_label=actor_label)
    return True


def _save_card(payment: Payment, result: GatewayResult) -> None:
    order = payment.order
    user = _purchaser(order)
    saved = result.saved_card
    card, _created = Card.objects.get_or_create(
        user=user,
        gateway=payment.gateway,
        token=saved.token,
        defaults={
            "brand": saved.brand,
            "last4": saved.last4,
            "exp_month": saved.exp_month,
            "exp_year": saved.exp_year,
        },
    )
    if card.removed:
        card.removed = None
        card.save(update_fields=["removed"])
    # R9: a saved card becomes the recurring payment method of the subscriptions it paid for.
    subs = list(Subscription.objects.filter(order_lines__order=order, purchaser=user))
    Subscription.objects.filter(pk__in=[s.pk for s in subs]).update(
        payment_method="card", card=card
    )
    audit.record_many(subs, action="card_assigned", actor=user, card=card.pk, order=order.number)


def _purchaser(order: Order):
    if order.placed_by_id:
        return order.placed_by
    line = order.lines.select_related("subscription__purchaser").first()
    return line.subscription.purchaser if line else None


def _email(payment: Payment, kind: str) -> None:
    order = payment.order
    user = _purchaser(order)
    if user is None:
        return
    language = user.language or "en"
    ids = list(order.lines.values_list("subscription_id", flat=True))
    context = {
        "order_number": order.number,
        "total": format_money(money(order.total, order.currency), language),
        "method": payment.method,
        "instructions": payment.instructions or {},
        "expires_on": long_date(payment.expires_on, language) if payment.expires_on else "",
        "subscription_ids": ids,
        "order_path": order_path(order.number),
    }
    queue_email(
        kind=kind,
        to=user.email,
        language=language,
        context=context,
        dedupe_key=f"{kind}:{order.number}",
        headers={
            "X-Renewals-Order": order.number,
            "X-Renewals-Subscriptions": ",".join(ids),
        },
    )
