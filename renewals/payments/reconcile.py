"""The reconciler: finish payments a crash left without their gateway's answer (R4, R10, R16).

A checkout commits its Payment row, calls the gateway with no transaction open, then records the
answer. A process that dies between the gateway's answer and the recording leaves a payment
`created` (the customer may have been charged) or `requires_action` (the customer may have
passed the 3-D Secure challenge and closed the tab). The reconciler asks the gateway what
became of each such payment and records that through the same state machine as every other
answer, so a charged payment fulfils its order exactly once and an unknown one fails and
releases its terms. It only looks at payments older than a grace delay, so it never races a
checkout that is still talking to the gateway.
"""

import logging
from datetime import date, datetime, timedelta

from .actions import complete_action, payment_failed, record_result, trusted_gateway
from .gateways import get_gateway
from .models import Payment

log = logging.getLogger(__name__)

# Longer than any checkout takes to hear from its gateway: younger payments may still be in flight.
GRACE = timedelta(minutes=15)


def reconcile_stuck_payments(*, created_before: datetime, today: date) -> dict[str, int]:
    """Ask the gateway about open payments created before `created_before`; record it.

    `today` is the business day of the run: money found now goes through the renewal door on
    that day (R19), so a charge found after the last renewable day renews nothing.

    Returns counts: `recorded` (a `created` payment got its gateway's answer), `not_at_gateway`
    (the gateway never saw it: failed with `no_gateway_answer`, terms released), `completed` (a
    3-D Secure payment the gateway reports finished; one still waiting for its challenge is left
    to its deadline), `unknown` (the gateway cannot look the payment up, or its lagging lookup has
    not found it yet: left for the deadline expiry and staff). Safe to repeat and to run beside webhooks: every write goes through the
    idempotent payment transitions.
    """
    counts = {"recorded": 0, "not_at_gateway": 0, "completed": 0, "unknown": 0}
    stuck = Payment.objects.filter(
        status__in=["created", "requires_action"], created__lt=created_before
    ).exclude(gateway="invoice")
    for payment in stuck.select_related("order").order_by("pk"):
        if not trusted_gateway(payment.gateway):
            counts["unknown"] += 1  # a sandbox payment on another gateway: left to its deadline
            continue
        try:
            if payment.status == "created":
                counts[_resume_created(payment, today=today)] += 1
            elif complete_action(payment.reference, today=today).status != "requires_action":
                counts["completed"] += 1
        except Exception:  # one unreachable gateway call must not stop the rest (retried next run)
            log.exception("reconciling payment %s failed", payment.reference)
    return counts


def reconciled_count(counts: dict[str, int]) -> int:
    """Return how many payments a reconciliation moved (what the daily run reports)."""
    return counts["recorded"] + counts["not_at_gateway"] + counts["completed"]


def _resume_created(payment: Payment, *, today: date) -> str:
    gateway = get_gateway(payment.gateway)
    find = getattr(gateway, "find_payment", None)
    if find is None:
        return "unknown"
    # start_payment sends this idempotency key: the gateway knows the payment by it.
    result = find(f"renewals-order-{payment.order.number}")
    if result is None:
        if getattr(gateway, "find_may_lag", False):
            # Stripe's search trails its writes: unseen is no proof it was never charged. Asked
            # again each run; the deadline expiry fails it if it never shows up (R9, R16).
            return "unknown"
        payment_failed(payment.reference, failure_code="no_gateway_answer", source="reconciler")
        return "not_at_gateway"
    record_result(payment.pk, result, actor_label=f"reconciler:{payment.gateway}", today=today)
    return "recorded"
