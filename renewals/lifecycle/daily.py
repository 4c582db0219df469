"""The daily run (R16): notices, automatic charges and retries, expiries, overdue invoices.

`run_daily(today)` opens (or re-opens) the DailyRun of a business date, settles payment
deadlines and overdue invoices, selects the subscriptions that can have something due with
indexed date-range queries (the cost follows the due work, not the total), splits their ids
into chunks that never split a purchaser (one digest per purchaser, kind and day, R13), and
processes the chunks — inline, or as a Celery group that several workers share. A purchaser's
due automatic charges are in one chunk, so those sharing a CSN, currency and card are one order
(R12, lifecycle.charges). Every write is claimed by a unique row (Notice, ChargeAttempt), so re-running a date, after a crash or not,
sends nothing twice and charges nothing twice.
"""

import logging
import uuid
from collections import Counter
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from renewals.billing import actions as billing
from renewals.checkout.offers import active_prices, offer_for, renewal_change
from renewals.core import clock
from renewals.core.collector import paused
from renewals.notifications.outbox import queue_emails
from renewals.payments import actions as payments
from renewals.payments import recovery
from renewals.subscriptions.models import Subscription
from renewals.subscriptions.queries import renews_automatically_q

from . import charges, recheck, schedule, stage_events
from .counts import WORK_KEYS, merge, work
from .digests import digest_keys, digest_spec, queue_digest, subscription_line
from .loading import load_subscriptions as _load
from .models import ChargeAttempt, DailyRun, Notice

log = logging.getLogger(__name__)

CHUNK_SIZE = 500
# A first run ever only looks at its own date: an imported book of subscriptions does not get
# a burst of late notices (docs/daily-run.md).
FIRST_RUN_WINDOW_DAYS = 1
WAIT_TIMEOUT_SECONDS = 3600


def open_run(today: date) -> DailyRun:
    """Return the run of `today`, creating it with its window `(since, today]` the first time.

    `since` is the date of the latest finished run before today, so a run after missed days
    covers them (R14 catch-up). A re-run of the same date keeps the window of the first.
    """
    previous = (
        DailyRun.objects.filter(business_date__lt=today, status="finished")
        .order_by("-business_date")
        .values_list("business_date", flat=True)
        .first()
    )
    since = previous or today - timedelta(days=FIRST_RUN_WINDOW_DAYS)
    run, _created = DailyRun.objects.get_or_create(business_date=today, defaults={"since": since})
    return run


def candidates(since: date, today: date):
    """Return the queryset of subscriptions that can have a notice or charge in the window.

    Only indexed conditions: D or the lapse date equal to one of the dates that matter
    (ranges when the window spans missed days), and auto-renewals past D not yet cancelled.
    """
    ranges = schedule.candidate_ranges(since, today)
    match = Q()
    for low, high in ranges["renewal_date"]:
        match |= Q(renewal_date__range=(low, high))
    for low, high in ranges["lapse_date"]:
        match |= Q(lapse_date__range=(low, high))
    match |= renews_automatically_q() & Q(
        renewal_date__range=(today - timedelta(days=schedule.LONGEST_GRACE), today)
    )
    return Subscription.objects.filter(match)


def chunk_ids(rows, size: int = CHUNK_SIZE) -> list[list[str]]:
    """Split (purchaser id, subscription id) rows, sorted by purchaser, into chunks of ~size.

    A purchaser's subscriptions always share a chunk, so their digest is one email.
    """
    chunks: list[list[str]] = []
    current: list[str] = []
    last_purchaser = None
    for purchaser_id, sub_id in rows:
        if len(current) >= size and purchaser_id != last_purchaser:
            chunks.append(current)
            current = []
        current.append(sub_id)
        last_purchaser = purchaser_id
    if current:
        chunks.append(current)
    return chunks


def settle_deadlines(today: date) -> dict:
    """Expire overdue konbini / transfer payments and mark overdue invoices (R9)."""
    counts = {}
    # Payments a crash left without their gateway's answer first (R4, R10): a charged one must
    # be fulfilled, not failed by the deadline expiry below.
    stuck = recovery.reconcile_stuck_payments(
        created_before=clock.now() - recovery.GRACE, today=today
    )
    counts["payments_reconciled"] = recovery.reconciled_count(stuck)
    counts["payments_expired"] = payments.expire_overdue_payments(today)
    counts["invoices_overdue"] = billing.mark_overdue_invoices(today)
    charges.settle_answered()  # e.g. the automatic charges the reconciler just settled (R12)
    return counts


@paused()  # many short-lived objects: no cycle collections over them (#15)
def start(today: date, *, chunk_size: int = CHUNK_SIZE) -> tuple[DailyRun, str, list[list[str]]]:
    """Open the run, settle deadlines, and return it with a fresh invocation id and its chunks."""
    run = open_run(today)
    counts = settle_deadlines(today)
    counts["stage_changes"] = stage_events.announce_stage_changes(run.since, today)
    rows = (
        candidates(run.since, today)
        .order_by("purchaser_id", "pk")
        .values_list("purchaser_id", "pk")
    )
    chunks = chunk_ids(rows.iterator(chunk_size=2000), chunk_size)
    invocation = uuid.uuid4().hex
    with transaction.atomic():
        current = DailyRun.objects.select_for_update().get(pk=run.pk)
        # An invocation still running (concurrent, or crashed) did that work for this date:
        # its counts stay on the row instead of being reset away (issue #14).
        carried = work(current.counts) if current.status == "running" else {}
        DailyRun.objects.filter(pk=run.pk).update(
            status="running",
            chunks_total=len(chunks),
            chunks_done=0,
            finished=None,
            counts={"invocation": invocation, "done": [], **counts, **carried},
        )
    if not chunks:
        _finish_if_done(run.pk)
    run.refresh_from_db()
    return run, invocation, chunks


def run_daily(today: date, *, chunk_size: int = CHUNK_SIZE, wait: bool = True) -> DailyRun:
    """Run the daily run of `today` (R16): inline without a broker, as a Celery group with one.

    Returns the DailyRun; its `counts` say what this invocation did.
    """
    run, invocation, chunks = start(today, chunk_size=chunk_size)
    if settings.BROKER_URL:
        from celery import group

        from .jobs import process_chunk_job

        group(process_chunk_job.s(run.pk, invocation, i, ids) for i, ids in enumerate(chunks))()
        if wait:
            _wait(run.pk, timeout=WAIT_TIMEOUT_SECONDS)
    else:
        own: dict = {}
        for i, ids in enumerate(chunks):
            result = process_chunk(today, run.since, ids)
            merge(own, result)
            record_chunk(run.pk, invocation, i, result)
        run.refresh_from_db()
        # What this invocation did, even when a concurrent one shares the row (issue #14).
        run.counts = {**run.counts, **{key: own.get(key, {}) for key in WORK_KEYS}}
        return run
    run.refresh_from_db()
    return run


def _wait(run_id: int, *, timeout: float) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = DailyRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
        if status == "finished":
            return
        if status == "failed":
            raise RuntimeError(f"daily run {run_id} failed: a chunk kept failing; run it again")
        time.sleep(0.2)
    raise TimeoutError(f"daily run {run_id} did not finish within {timeout:.0f} s")


def record_chunk(run_id: int, invocation: str, index: int, result: dict) -> None:
    """Add a chunk's counts to its run once (a redelivered chunk is not counted twice).

    A chunk of an invocation that a newer one replaced (two runs of a date at once) still adds
    the charges, notices and emails it made — they were made — but does not count as done.
    """
    with transaction.atomic():
        run = DailyRun.objects.select_for_update().get(pk=run_id)
        counts = run.counts or {}
        if counts.get("invocation") != invocation:
            merge(counts, {key: result[key] for key in WORK_KEYS if result.get(key)})
            run.counts = counts
            run.save(update_fields=["counts"])
            return
        if index in counts.get("done", []):
            return
        counts["done"] = [*counts.get("done", []), index]
        merge(counts, result)
        run.counts = counts
        run.chunks_done = len(counts["done"])
        run.save(update_fields=["counts", "chunks_done"])
    _finish_if_done(run_id)


def _finish_if_done(run_id: int) -> None:
    DailyRun.objects.filter(pk=run_id, chunks_done__gte=F("chunks_total")).exclude(
        status="finished"
    ).update(status="finished", finished=clock.now())


def _facts(sub: Subscription, sellable: bool) -> schedule.Facts:
    return schedule.Facts(
        renewal_date=sub.renewal_date,
        lapse_date=sub.lapse_date,
        term=sub.term,
        trial=sub.trial,
        auto_renew=sub.auto_renew,
        purchase_method=sub.purchase_method,
        payment_method=sub.payment_method,
        has_card=sub.card_id is not None and sub.card.removed is None,
        sellable=sellable,
    )


@paused()  # many short-lived objects: no cycle collections over them (#15)
def process_chunk(today: date, since: date, ids: list[str]) -> dict:
    """Do the due charges, then the due notices, of these subscriptions; return counts.

    Charges go first so that a subscription renewed by its charge gets no expiry notice.
    """
    subs = _load(ids)
    prices = active_prices(subs.values())
    counts: dict = {"charges": Counter(), "notices": Counter(), "emails": Counter()}
    failed = charges.resume_unfinished(subs, today=today)
    made = _attempts(list(subs))
    days = charges.retry_days()
    touched: set[str] = {a.subscription_id for a in failed}
    due: list[tuple[Subscription, int]] = []
    for sub in subs.values():
        price = prices.get((sub.offering_id, sub.term, sub.currency))
        n = schedule.charge_due(
            _facts(sub, price is not None),
            since=since,
            today=today,
            retry_days=days,
            attempts_made=made.get((sub.pk, sub.renewal_date), frozenset()),
        )
        if n is not None:
            due.append((sub, n))
    # One order and one charge per purchaser, CSN, currency and card (R12).
    for attempt in charges.charge_due(due, today=today) if due else []:
        invoiced = subs[attempt.subscription_id].purchase_method == "invoice"
        status = "invoiced" if invoiced and attempt.status == "succeeded" else attempt.status
        counts["charges"][status] += 1
        touched.add(attempt.subscription_id)
        if attempt.status == "failed":
            failed.append(attempt)
    if failed:
        charges.email_failures(subs, failed, today=today)
        counts["emails"]["auto-renewal-failed"] += len(
            {subs[a.subscription_id].purchaser_id for a in failed}
        )
    if touched:
        # Only the charged subscriptions changed (renewed, or their attempt failed): reload those.
        subs.update(_load(sorted(touched)))
    _send_notices(subs, prices, since=since, today=today, counts=counts)
    return {key: dict(value) for key, value in counts.items()}


def _attempts(ids: list[str]) -> dict[tuple[str, date], frozenset[int]]:
    made: dict[tuple[str, date], set[int]] = {}
    for sub_id, start, n in ChargeAttempt.objects.filter(subscription_id__any=ids).values_list(
        "subscription_id", "term_start", "attempt"
    ):
        made.setdefault((sub_id, start), set()).add(n)
    return {key: frozenset(v) for key, v in made.items()}


def _send_notices(subs, prices, *, since: date, today: date, counts: dict) -> None:
    sent: dict[tuple[str, date], set[str]] = {}
    for sub_id, term_end, step in Notice.objects.filter(
        subscription_id__any=list(subs)
    ).values_list("subscription_id", "term_end", "step"):
        sent.setdefault((sub_id, term_end), set()).add(step)
    groups: dict[tuple[int, str], list[tuple[Subscription, schedule.Step]]] = {}
    for sub in subs.values():
        price = prices.get((sub.offering_id, sub.term, sub.currency))
        for step in schedule.due_notices(
            _facts(sub, price is not None),
            since=since,
            today=today,
            sent=frozenset(sent.get((sub.pk, sub.renewal_date), ())),
        ):
            groups.setdefault((sub.purchaser_id, step.kind), []).append((sub, step))
    recheck.drop_expired_while_paying(groups)
    ordered = sorted(groups.items())
    if not ordered:
        return
    try:
        ordered = _send_all(ordered, prices, today=today)
    except IntegrityError:
        # A concurrent run claimed some of these notices: go group by group, skipping them.
        for (_purchaser_id, kind), items in ordered:
            sent_count = _send_digest(kind, items, prices, today=today)
            if sent_count:
                counts["notices"][kind] += sent_count
                counts["emails"][kind] += 1
        return
    for (_purchaser_id, kind), items in ordered:
        counts["notices"][kind] += len(items)
        counts["emails"][kind] += 1


def _lines(kind, items, prices, *, today: date) -> list[dict]:
    lines = []
    for sub, _step in items:
        amount = None
        if kind != schedule.SUBSCRIPTION_CANCELLED:
            # What the renewal costs today, tax excluded: the automatic offer for the upcoming
            # charge, the manual one for reminders and expiry notices (R6), so every reminder
            # says how much (#17); R21: with a change scheduled for this term.
            seats, term = renewal_change(sub)
            price = prices.get((sub.offering_id, term, sub.currency))
            amount = offer_for(
                sub,
                user=None,
                today=today,
                price=price,
                pending=False,
                automatic=kind == schedule.AUTO_RENEWAL_UPCOMING,
                seats=seats,
                term=term,
            ).price
        lines.append(subscription_line(sub, amount=amount))
    return lines


def _send_all(ordered, prices, *, today: date) -> list:
    """Queue every digest of a chunk and claim its Notice rows in one transaction (R13, R14).

    A fixed number of statements per chunk, whatever the number of digests: one locking read of
    the subscriptions (recheck.still_due: a notice whose subscription changed meanwhile is
    dropped), one lookup of dedupe keys, one INSERT of emails, one INSERT of notices. Returns
    the digests queued.
    """
    with transaction.atomic():
        ordered = recheck.still_due(ordered)
        if ordered:
            _queue_all(ordered, prices, today=today)
    return ordered


def _queue_all(ordered, prices, *, today: date) -> None:
    keys = digest_keys(
        [(kind, purchaser_id, [s.pk for s, _ in items]) for (purchaser_id, kind), items in ordered],
        today,
    )
    specs = [
        digest_spec(
            kind,
            purchaser=items[0][0].purchaser,
            today=today,
            lines=_lines(kind, items, prices, today=today),
            key=key,
        )
        for ((_purchaser_id, kind), items), key in zip(ordered, keys, strict=True)
    ]
    with transaction.atomic():
        emails = queue_emails(specs)
        Notice.objects.bulk_create(
            Notice(
                subscription=sub,
                term_end=sub.renewal_date,
                step=step.name,
                kind=kind,
                business_date=today,
                email_id=email.pk,
            )
            for ((_purchaser_id, kind), items), email in zip(ordered, emails, strict=True)
            for sub, step in items
        )


def _send_digest(kind, items, prices, *, today: date) -> int:
    """Claim the Notice rows and queue their digest in one transaction; return rows written.

    A concurrent run that claimed some of them first makes the insert fail: the rest is retried
    without them, so each subscription is in exactly one email.
    """
    for _try in range(3):
        if not items:
            return 0
        purchaser = items[0][0].purchaser
        try:
            with transaction.atomic():
                kept = recheck.still_due([(kind, items)])
                if not kept:
                    return 0
                items = kept[0][1]
                lines = _lines(kind, items, prices, today=today)
                notices = Notice.objects.bulk_create(
                    [
                        Notice(
                            subscription=sub,
                            term_end=sub.renewal_date,
                            step=step.name,
                            kind=kind,
                            business_date=today,
                        )
                        for sub, step in items
                    ]
                )
                email = queue_digest(kind, purchaser=purchaser, today=today, lines=lines)
                Notice.objects.filter(
                    subscription_id__in=[n.subscription_id for n in notices],
                    step__in={n.step for n in notices},
                    business_date=today,
                ).update(email_id=email.pk)
            return len(items)
        except IntegrityError:
            taken = set(
                Notice.objects.filter(subscription_id__in=[s.pk for s, _ in items]).values_list(
                    "subscription_id", "term_end", "step"
                )
            )
            items = [(s, st) for s, st in items if (s.pk, s.renewal_date, st.name) not in taken]
    log.warning("gave up sending %s to purchaser after concurrent claims", kind)
    return 0
