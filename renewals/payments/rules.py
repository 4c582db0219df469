"""Pure payment decisions: the state machine, deadlines and transfer matching (R9, R10).

No ORM, no clock, no settings: values in, value out.
"""

from datetime import date, timedelta
from decimal import Decimal

# The one table of allowed moves of a payment, whatever its method.
TRANSITIONS: dict[str, frozenset[str]] = {
    "created": frozenset({"requires_action", "pending", "succeeded", "failed", "confirming"}),
    "requires_action": frozenset({"succeeded", "failed", "expired", "confirming"}),
    # The gateway's answer was lost (R10): only what the gateway later says settles it. It never
    # expires by itself: the customer may have been charged.
    "confirming": frozenset({"succeeded", "failed", "requires_action", "pending", "expired"}),
    "pending": frozenset({"succeeded", "failed", "expired", "partially_funded", "refunded"}),
    "partially_funded": frozenset({"succeeded", "failed", "expired", "refunded"}),
    # Money that arrives after a payment failed or expired is flagged and refunded by staff:
    # its term was released and may be renewed by another order since, so it never renews (R4).
    "failed": frozenset({"refunded"}),
    "expired": frozenset({"refunded"}),
    # Only money the renewal door refused (the order keeps it, R19) is refunded from here.
    "succeeded": frozenset({"refunded"}),
    "refunded": frozenset(),
}
OPEN = frozenset({"created", "requires_action", "confirming", "pending", "partially_funded"})
# What a gateway call whose answer was lost becomes: never a failure (R10).
UNKNOWN = "unknown"
CLOSED_WITHOUT_MONEY = frozenset({"failed", "expired", "refunded"})

KONBINI_DAYS_MIN, KONBINI_DAYS_MAX = 1, 60
CHALLENGE_DAYS = 1  # a 3-D Secure challenge left unanswered is abandoned after this


def can_transition(current: str, new: str) -> bool:
    """Tell whether a payment may move from `current` to `new`."""
    return new in TRANSITIONS.get(current, frozenset())


def payment_deadline(*, today: date, days: int, last_renewable_days: list[date]) -> date:
    """Return the day a konbini voucher or transfer must be paid by (R9).

    `today + days`, but never later than the last renewable day of any subscription in the
    order (R3): a payment that arrives after that could not renew anything.
    """
    deadline = today + timedelta(days=days)
    if last_renewable_days:
        deadline = min(deadline, *last_renewable_days)
    return max(deadline, today)


def konbini_days(configured: int) -> int:
    """Clamp the configured konbini deadline to the 1–60 days R9 allows."""
    return min(max(int(configured), KONBINI_DAYS_MIN), KONBINI_DAYS_MAX)


def transfer_outcome(*, expected: Decimal, received: Decimal) -> str:
    """Decide what a bank transfer means: exact → succeeded; short or excess → partially_funded."""
    return "succeeded" if received == expected else "partially_funded"


def after_lookup(current: str, outcome: str | None, *, lookup_may_lag: bool) -> str | None:
    """Decide what a payment becomes from a gateway lookup of it (R10); None: leave it as is.

    `outcome` is the gateway's answer (None: the gateway shows no such payment). A lost answer
    (unknown) or a lagging lookup's "not found yet" changes nothing: only what the gateway says
    settles a payment, once. A "not found" from a lookup that does not lag proves the call never
    reached the gateway: nothing was charged, the payment failed.
    """
    if current not in ("created", "confirming", "requires_action"):
        return None
    if outcome is None:
        return None if lookup_may_lag or current == "requires_action" else "failed"
    if outcome == UNKNOWN or outcome == current:
        return None
    return outcome if can_transition(current, outcome) else None


def is_overdue(*, expires_on: date | None, today: date) -> bool:
    """Tell whether a payment's deadline has passed: the deadline day itself is still payable."""
    return expires_on is not None and today > expires_on


# The prefix of the ids of funds rows that record money paid in another currency than its
# payment's (card money at the gateway, never on a customer's cash balance).
WRONG_CURRENCY = "wrong-currency:"
