"""Automatic renewal charges and their retries (R12), and auto-renewal invoices (R9).

The charges due on a day are grouped by purchaser, customer (CSN), currency, purchase method
and card (`group_of`): each group is one order with one line per subscription, paid by one
gateway charge. An invoice auto-renewal stays one order per subscription (R9). Each
subscription's attempt is claimed as a ChargeAttempt row (unique per subscription, term and
attempt number) before anything else happens, all the group's in one transaction, so a re-run,
a second worker or a redelivered task never charges a term twice. The claimed rows carry the
group's order key (`order_key`: the sorted subscription, term and attempt number of its
members); the order is created once per key (a unique constraint on automatic orders), and the
payments action calls the gateway with no transaction open and an idempotency key derived from
that order.
"""

import hashlib
import logging
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from renewals.checkout.models import OPEN_STATUSES, Order, OrderLine
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


def group_of(sub: Subscription) -> tuple:
    """Return what a due charge shares with the others of its order (R12; R9: one per invoice)."""
    if sub.purchase_method == "invoice":
        return ("invoice", sub.pk)
    return ("card", sub.purchaser_id, sub.customer_id, sub.currency, sub.purchase_method,
            sub.card_id or 0)  # fmt: skip


def order_key(members) -> str:
    """Return the automatic order's idempotency key of (subscription id, term start, attempt).

    The same members give the same key (a re-run of the day finds the order it made); a group
    that changed (a subscription renewed by hand drops out of a retry) gets another.
    """
    text = "|".join(sorted(f"{s}:{t.isoformat()}:{n}" for s, t, n in members))
    return f"auto-renew:{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def claim_attempt(
    sub: Subscription, attempt: int, *, today: date, key: str = ""
) -> ChargeAttempt | None:
    """Claim one charge attempt for the subscription's next term; None if already claimed."""
    try:
        with transaction.atomic():
            return ChargeAttempt.objects.create(
                subscription=sub,
                term_start=sub.renewal_date,
                attempt=attempt,
                business_date=today,
                order_key=key,
            )
    except IntegrityError:
        return None


def claim_group(due: list[tuple[Subscription, int]], *, today: date) -> list[ChargeAttempt]:
    """Claim the attempts of one group in one transaction; return those this run claimed.

    When another run claimed some of them first (two runs at once), the rest are claimed one
    by one and form the group, under the key of what was claimed.
    """
    key = order_key((s.pk, s.renewal_date, n) for s, n in due)
    rows = [
        ChargeAttempt(
            subscription=s, term_start=s.renewal_date, attempt=n, business_date=today, order_key=key
        )
        for s, n in due
    ]
    try:
        with transaction.atomic():
            return ChargeAttempt.objects.bulk_create(rows)
    except IntegrityError:
        pass
    claimed = [a for s, n in due if (a := claim_attempt(s, n, today=today)) is not None]
    _rekey(claimed)
    return claimed


def charge_due(due: list[tuple[Subscription, int]], *, today: date) -> list[ChargeAttempt]:
    """Claim and charge the due automatic renewals `(subscription, attempt number)` (R12).

    One order and one gateway charge per group (`group_of`). Returns every attempt this run
    claimed, with its final status: succeeded (renewed, one receipt per order sent by its
    fulfilment), failed, pending (the gateway answers later) or skipped (not renewable now,
    e.g. a payment the customer started is pending).
    """
    groups: dict[tuple, list[tuple[Subscription, int]]] = {}
    for sub, n in due:
        groups.setdefault(group_of(sub), []).append((sub, n))
    claimed = [(g, claim_group(members, today=today)) for g, members in groups.items()]
    subs = {s.pk: s for s, _n in due}
    offers = renewal_offers(
        [subs[a.subscription_id] for _g, attempts in claimed for a in attempts],
        user=None,
        today=today,
        automatic=True,
    )
    done: list[ChargeAttempt] = []
    for _g, attempts in claimed:
        ready = [a for a in attempts if offers[a.subscription_id].eligible]
        for a in attempts:
            if not offers[a.subscription_id].eligible:
                done += _finish([a], "skipped", ",".join(offers[a.subscription_id].reasons))
        if ready:
            done += charge([subs[a.subscription_id] for a in ready], ready, offers, today=today)
    return done


def charge(subs: list[Subscription], attempts: list[ChargeAttempt], offers, *, today: date):
    """Create one automatic order for a group's claimed attempts and collect it off-session."""
    lead = subs[0]
    method = "invoice" if lead.purchase_method == "invoice" else "card"
    try:
        order = create_order(
            customer=lead.customer,
            currency=lead.currency,
            purchase_method=lead.purchase_method,
            payment_method=method,
            offers=[offers[s.pk] for s in subs],
            placed_by=None,
            automatic=True,
            business_date=today,
            idempotency_key=attempts[0].order_key,
        )
    except DomainError as exc:
        held = _held_elsewhere(subs) if exc.code == "payment_pending" else set()
        if not held or len(held) == len(subs):
            return _finish(attempts, "skipped", exc.code)
        # Another order took some members' terms after the offers were read (the customer
        # paid by hand meanwhile): those are skipped, the rest of the group is charged now.
        skipped = _finish([a for a in attempts if a.subscription_id in held], "skipped", exc.code)
        rest = [a for a in attempts if a.subscription_id not in held]
        _rekey(rest)
        return skipped + charge([s for s in subs if s.pk not in held], rest, offers, today=today)
    ChargeAttempt.objects.filter(pk__in=[a.pk for a in attempts]).update(order=order)
    for a in attempts:
        a.order = order
    pay(order, lead, today=today)
    return settle(attempts)


def _held_elsewhere(subs: list[Subscription]) -> set[str]:
    """Return the subscriptions whose next term an open or paid order line already holds."""
    terms = {s.pk: s.renewal_date for s in subs}
    lines = OrderLine.objects.filter(subscription_id__in=list(terms), holds_term=True)
    return {
        sub_id
        for sub_id, start in lines.values_list("subscription_id", "term_start")
        if terms[sub_id] == start
    }


def _rekey(attempts: list[ChargeAttempt]) -> None:
    """Give the attempts left of a group the order key of their members (`order_key`)."""
    key = order_key((a.subscription_id, a.term_start, a.attempt) for a in attempts)
    ChargeAttempt.objects.filter(pk__in=[a.pk for a in attempts]).update(order_key=key)
    for a in attempts:
        a.order_key = key


def pay(order: Order, lead: Subscription, *, today: date) -> None:
    """Collect an automatic order off-session with its group's card (idempotent: one payment)."""
    method = "invoice" if lead.purchase_method == "invoice" else "card"
    try:
        payments.start_payment(
            order,
            method=method,
            user=lead.purchaser,
            card_id=lead.card_id if method == "card" else None,
            off_session=True,
            today=today,
        )
    except DomainError as exc:  # e.g. the saved card was removed: the order cannot be paid
        log.warning(
            "automatic charge of %s refused: %s", order.number, exc.message,
            extra={"subscription": lead.pk, "order": order.number},
        )  # fmt: skip
        order_failed(order.pk, failure_code=exc.code)


def settle(attempts: list[ChargeAttempt]) -> list[ChargeAttempt]:
    """Record the outcome of attempts from their orders' status (also used to resume).

    One read per order and one write per outcome, whatever the number of lines.
    """
    by_order: dict[int, list[ChargeAttempt]] = {}
    for a in attempts:
        if a.order_id is not None:
            by_order.setdefault(a.order_id, []).append(a)
    orders = Order.objects.filter(pk__in=list(by_order)).select_related("payment")
    outcomes: dict[tuple[str, str], list[ChargeAttempt]] = {}
    for order in orders:
        status, code = _outcome(order)
        for a in by_order[order.pk]:
            a.order = order
        outcomes.setdefault((status, code), []).extend(by_order[order.pk])
    settled: list[ChargeAttempt] = []
    for (status, code), group in outcomes.items():
        settled += _finish(group, status, code)
    return settled


def _outcome(order: Order) -> tuple[str, str]:
    if order.status in ("paid", "invoiced"):  # invoiced: an invoice auto-renewal (R9, R12)
        return "succeeded", ""
    if order.status in ("failed", "expired", "payment_after_release", "refunded"):
        # payment_after_release: the renewal door refused the money (R19); staff refund it.
        code = order.failure_code or getattr(getattr(order, "payment", None), "failure_code", "")
        return "failed", code or order.status
    return "pending", ""


def _finish(attempts: list[ChargeAttempt], status: str, failure_code: str) -> list[ChargeAttempt]:
    code = failure_code[:60]
    for a in attempts:
        a.status, a.failure_code = status, code
    ChargeAttempt.objects.filter(pk__in=[a.pk for a in attempts]).update(
        status=status, failure_code=code
    )
    audit.record_each(
        [
            (
                a,
                {
                    "subscription": a.subscription_id,
                    "term_start": a.term_start.isoformat(),
                    "attempt": a.attempt,
                    "failure_code": code,
                    "order": a.order.number if a.order_id else None,
                },
            )
            for a in attempts
        ],
        action=f"auto_renewal_{status}",
    )
    return attempts


def settle_answered() -> int:
    """Settle the open attempts whose order has its outcome, wherever their subscription is.

    A lost answer found by the reconciler renews the subscriptions before the daily run picks
    its chunks; they are then no longer due, so their attempts are settled here. Returns how
    many were.
    """
    open_attempts = list(
        ChargeAttempt.objects.filter(status__in=["claimed", "pending"])
        .exclude(order=None)
        .exclude(order__status__in=OPEN_STATUSES)
    )
    return len(settle(open_attempts))


def resume_unfinished(subs: dict[str, Subscription], *, today: date) -> list[ChargeAttempt]:
    """Finish what a crashed run left: settle claimed attempts, return unnotified failures (R16).

    A claimed attempt whose order was created but not yet written on it gets it back by its
    order key; an order a crash left before its payment started is collected now (one payment
    per order: a payment already started is not started again). An attempt claimed with no
    order never reached the gateway: it stays claimed (so the term is never charged twice) for
    staff to look at. The others are settled from their order's status; a pending one when its
    payment's answer has arrived.
    """
    unfinished = list(
        ChargeAttempt.objects.filter(subscription_id__in=list(subs)).filter(
            Q(status__in=["claimed", "pending"]) | Q(status="failed", notified=False)
        )
    )
    orphans = {a.order_key for a in unfinished if a.order_id is None and a.order_key}
    if orphans:
        found = dict(
            Order.objects.filter(idempotency_key__in=orphans, placed_by=None).values_list(
                "idempotency_key", "pk"
            )
        )
        for key, order_id in found.items():
            ids = [a.pk for a in unfinished if a.order_id is None and a.order_key == key]
            ChargeAttempt.objects.filter(pk__in=ids).update(order_id=order_id)
        for a in unfinished:
            if a.order_id is None and a.order_key in found:
                a.order_id = found[a.order_key]
    unfinished = [a for a in unfinished if a.order_id is not None]
    orders = Order.objects.in_bulk({a.order_id for a in unfinished})
    for a in unfinished:
        a.order = orders[a.order_id]
    for order in orders.values():
        if order.status == "pending_payment":
            lead = next(a for a in unfinished if a.order_id == order.pk)
            pay(order, subs[lead.subscription_id], today=today)
    failed = [a for a in unfinished if a.status == "failed"]
    settled = settle([a for a in unfinished if a.status != "failed"])
    return failed + [a for a in settled if a.status == "failed"]


def email_failures(subs: dict[str, Subscription], failed: list[ChargeAttempt], *, today: date):
    """Queue one `auto-renewal-failed` email per purchaser listing the failed charges (R12).

    Each subscription shows its line's amount (tax excluded, as the upcoming-charge notice).
    """
    amounts = {
        (order_id, sub_id): amount
        for order_id, sub_id, amount in OrderLine.objects.filter(
            order_id__in={a.order_id for a in failed if a.order_id},
            subscription_id__in={a.subscription_id for a in failed},
        ).values_list("order_id", "subscription_id", "amount")
    }
    by_purchaser: dict[int, list[ChargeAttempt]] = {}
    for attempt in failed:
        by_purchaser.setdefault(subs[attempt.subscription_id].purchaser_id, []).append(attempt)
    days = retry_days()
    for attempts in by_purchaser.values():
        lines, next_days, codes = [], [], set()
        for a in attempts:
            sub = subs[a.subscription_id]
            amount = amounts.get((a.order_id, a.subscription_id))
            lines.append(
                subscription_line(
                    sub, amount=money(amount, a.order.currency) if amount is not None else None
                )
            )
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
