"""Automatic renewal charges and their retries (R12), and auto-renewal invoices (R9).

Each attempt is claimed as a ChargeAttempt row (unique per subscription, term and attempt
number) in its own transaction before anything else happens, so a re-run, a second worker or a
redelivered task never charges a term twice. The order and the payment are then created by the
checkout and payments actions, which call the gateway with no transaction open and an
idempotency key derived from the order — itself created once per attempt.
"""

import logging
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from renewals.checkout.offers import renewal_offers
from renewals.checkout.orders import create_order, order_failed
from renewals.core import audit
from renewals.core.errors import DomainError
from renewals.core.money import money
from renewals.payments import actions as payments
from renewals.subscriptions.models import Subscription

from . import schedule
from .digests import queue_digest, subscription_line
from .models import ChargeAttempt

log = logging.getLogger(__name__)


def retry_days() -> tuple[int, ...]:
    """Return the configured retry offsets after D (settings.AUTO_RENEW_RETRY_DAYS, R12)."""
    return tuple(sorted(int(d) for d in settings.AUTO_RENEW_RETRY_DAYS))


def claim_attempt(sub: Subscription, attempt: int, *, today: date) -> ChargeAttempt | None:
    """Claim one charge attempt for the subscription's next term; None if already claimed."""
    try:
        with transaction.atomic():
            return ChargeAttempt.objects.create(
                subscription=sub, term_start=sub.renewal_date, attempt=attempt, business_date=today
            )
    except IntegrityError:
        return None


def charge(sub: Subscription, attempt: ChargeAttempt, *, today: date) -> ChargeAttempt:
    """Create the automatic order of a claimed attempt and collect it off-session (R12).

    Returns the attempt with its final status: succeeded (renewed, receipt sent by the order's
    fulfilment), failed, pending (the gateway answers later) or skipped (not renewable now,
    e.g. a payment the customer started is pending).
    """
    offer = renewal_offers([sub], user=None, today=today, automatic=True)[sub.pk]
    if not offer.eligible:
        return _finish(attempt, "skipped", ",".join(offer.reasons))
    method = "invoice" if sub.purchase_method == "invoice" else "card"
    try:
        order = create_order(
            customer=sub.customer,
            currency=sub.currency,
            purchase_method=sub.purchase_method,
            payment_method=method,
            offers=[offer],
            placed_by=None,
            automatic=True,
            business_date=today,
            idempotency_key=attempt.idempotency_key,
        )
    except DomainError as exc:
        return _finish(attempt, "skipped", exc.code)
    ChargeAttempt.objects.filter(pk=attempt.pk).update(order=order)
    attempt.order = order
    try:
        payments.start_payment(
            order,
            method=method,
            user=sub.purchaser,
            card_id=sub.card_id if method == "card" else None,
            off_session=True,
            today=today,
        )
    except DomainError as exc:  # e.g. the saved card was removed: the order cannot be paid
        log.warning("automatic charge of %s refused: %s", sub.pk, exc.message)
        order_failed(order.pk, failure_code=exc.code)
    return settle(attempt)


def settle(attempt: ChargeAttempt) -> ChargeAttempt:
    """Record the outcome of an attempt from its order's status (also used to resume)."""
    order = attempt.order
    if order is None:
        return attempt
    order.refresh_from_db(fields=["status", "failure_code"])
    if order.status == "paid":
        return _finish(attempt, "succeeded", "")
    if order.status in ("failed", "expired", "payment_after_release", "refunded"):
        # payment_after_release: the renewal door refused the money (R19); staff refund it.
        code = order.failure_code or getattr(getattr(order, "payment", None), "failure_code", "")
        return _finish(attempt, "failed", code or order.status)
    return _finish(attempt, "pending", "")


def _finish(attempt: ChargeAttempt, status: str, failure_code: str) -> ChargeAttempt:
    attempt.status = status
    attempt.failure_code = failure_code[:60]
    ChargeAttempt.objects.filter(pk=attempt.pk).update(
        status=status, failure_code=attempt.failure_code
    )
    audit.record(
        "lifecycle.chargeattempt",
        attempt.pk,
        action=f"auto_renewal_{status}",
        subscription=attempt.subscription_id,
        term_start=attempt.term_start.isoformat(),
        attempt=attempt.attempt,
        failure_code=attempt.failure_code,
    )
    return attempt


def resume_unfinished(sub_ids: list[str]) -> list[ChargeAttempt]:
    """Finish what a crashed run left: settle claimed attempts, return unnotified failures (R16).

    An attempt claimed without an order never reached the gateway: it stays claimed (so the term
    is never charged twice) for staff to look at. A claimed attempt whose order exists is settled
    from the order's status; a pending one is settled when its payment's answer has arrived.
    """
    unfinished = list(
        ChargeAttempt.objects.filter(subscription_id__in=sub_ids)
        .filter(Q(status__in=["claimed", "pending"]) | Q(status="failed", notified=False))
        .exclude(order=None)
        .select_related("order")
    )
    settled = [settle(a) if a.status != "failed" else a for a in unfinished]
    return [a for a in settled if a.status == "failed"]


def email_failures(subs: dict[str, Subscription], failed: list[ChargeAttempt], *, today: date):
    """Queue one `auto-renewal-failed` email per purchaser listing the failed charges (R12)."""
    by_purchaser: dict[int, list[ChargeAttempt]] = {}
    for attempt in failed:
        by_purchaser.setdefault(subs[attempt.subscription_id].purchaser_id, []).append(attempt)
    days = retry_days()
    for attempts in by_purchaser.values():
        lines, next_days, codes = [], [], set()
        for a in attempts:
            sub = subs[a.subscription_id]
            order = a.order
            amount = money(order.total, order.currency) if order else None
            lines.append(subscription_line(sub, amount=amount))
            schedule_days = schedule.charge_days(a.term_start, days)
            if a.attempt + 1 < len(schedule_days):
                next_days.append(schedule_days[a.attempt + 1])
            codes.add(a.failure_code)
        with transaction.atomic():
            ChargeAttempt.objects.filter(pk__in=[a.pk for a in attempts]).update(notified=True)
            queue_digest(
                "auto-renewal-failed",
                purchaser=subs[attempts[0].subscription_id].purchaser,
                today=today,
                lines=lines,
                extra={
                    "next_attempt": min(next_days) if next_days else None,
                    "reason": ", ".join(sorted(c for c in codes if c)),
                },
            )
