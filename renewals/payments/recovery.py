"""Crash recovery: finish payments whose gateway answer is missing (R4, R10, R16).

Not the staff reconciliation of bank transfers (`actions.staff`, the admin's settle and refund).

A checkout commits its Payment row, calls the gateway with no transaction open, then records the
answer. Two things can leave a payment without it: the process died between the gateway's answer
and the recording (`created`, or `requires_action` when the customer passed the 3-D Secure
challenge and closed the tab), or the answer itself was lost — a time-out, a dropped connection,
a 5xx, a rate limit (`confirming`). The reconciler asks the gateway about each — by reference,
else by the idempotency key — and records what it says through the same state machine as every
other answer, so a charged payment fulfils its order exactly once, one the gateway never saw
fails and releases its terms, and one still unknown stays open (never failed by guesswork).
It only looks at `created` and `requires_action` payments older than a grace delay, so it never
races a checkout that is still talking to the gateway; `confirming` ones are asked every run.
"""

import logging
from datetime import date, datetime, timedelta

from django.db.models import Q

from .actions import complete_action, trusted_gateway
from .collecting import confirm_payment
from .funds import apply_funds
from .models import CustomerFunds, Payment

log = logging.getLogger(__name__)

# Longer than any checkout takes to hear from its gateway: younger payments may still be in flight.
GRACE = timedelta(minutes=15)
# Longer than a gateway's lookup trails its writes (Stripe's search: under a minute, up to an
# hour in outages) and than a Stripe Checkout page lives (24 hours): a payment older than this
# that its gateway still cannot find was never made there.
LAG_LIMIT = timedelta(hours=25)


def reconcile_stuck_payments(*, created_before: datetime, today: date) -> dict[str, int]:
    """Ask the gateway about open payments missing its answer; record what it says.

    `today` is the business day of the run: money found now goes through the renewal door on
    that day (R19), so a charge found after the last renewable day renews nothing.

    Returns counts: `recorded` (a `created` or `confirming` payment got its gateway's answer),
    `not_at_gateway` (the gateway never saw it: failed with `no_gateway_answer`, terms
    released), `completed` (a 3-D Secure payment the gateway reports finished; one still waiting
    for its challenge is left to its deadline), `unknown` (the answer is still lost, or a lagging
    lookup has not found it yet: it stays open, asked again next run; flagged for staff once past
    its deadline), `funds` (customer-balance funds whose applying never happened — the process
    stopped between recording them and asking the gateway — now applied or flagged). Safe to
    repeat and to run beside webhooks: every write goes through the idempotent payment
    transitions, and applying funds carries its own idempotency key.
    """
    counts = {"recorded": 0, "not_at_gateway": 0, "completed": 0, "unknown": 0, "funds": 0}
    stuck = Payment.objects.filter(
        Q(status__in=["created", "requires_action"], created__lt=created_before)
        | Q(status="confirming")
    ).exclude(gateway="invoice")
    for payment in stuck.select_related("order").order_by("pk"):
        if not trusted_gateway(payment.gateway):
            counts["unknown"] += 1  # a sandbox payment on another gateway: left to its deadline
            continue
        try:
            if payment.status == "requires_action":
                if complete_action(payment.reference, today=today).status != "requires_action":
                    counts["completed"] += 1
                continue
            lag_over = payment.created < created_before - LAG_LIMIT
            after = confirm_payment(payment.pk, source="reconciler", today=today, lag_over=lag_over)
            if after.status in ("created", "confirming"):
                counts["unknown"] += 1
            elif after.failure_code == "no_gateway_answer":
                counts["not_at_gateway"] += 1
            else:
                counts["recorded"] += 1
        except Exception:  # one unreachable gateway call must not stop the rest (retried next run)
            log.exception(
                "reconciling payment %s failed", payment.reference,
                extra={"payment": payment.reference},
            )  # fmt: skip
    left = CustomerFunds.objects.filter(status="applying", created__lt=created_before)
    for funds_id in left.order_by("pk").values_list("pk", flat=True):
        try:
            counts["funds"] += apply_funds(funds_id, today=today) != "applying"
        except Exception:  # retried next run, like a payment
            log.exception("applying customer funds %s failed", funds_id)
    return counts


def reconciled_count(counts: dict[str, int]) -> int:
    """Return how many payments a reconciliation moved (what the daily run reports)."""
    return counts["recorded"] + counts["not_at_gateway"] + counts["completed"] + counts["funds"]
