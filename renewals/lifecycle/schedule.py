"""Which notices and charges are due for a subscription on a date (R12, R14): pure decisions.

Values in, values out: no ORM, no clock, no settings. The daily run feeds these functions the
facts of each candidate subscription and the window of business dates it works on,
`(since, today]` — `since` being the date of the previous run — so a run after missed days
catches up: only the latest step that fell due in the window is sent (R14), once.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from renewals.subscriptions import periods, rules

RENEWAL_AVAILABLE = "renewal-available"
RENEWAL_REMINDER = "renewal-reminder"
AUTO_RENEWAL_UPCOMING = "auto-renewal-upcoming"
SUBSCRIPTION_EXPIRED = "subscription-expired"
SUBSCRIPTION_SUSPENDED = "subscription-suspended"
SUBSCRIPTION_CANCELLED = "subscription-cancelled"
NOTICE_KINDS = (
    RENEWAL_AVAILABLE,
    RENEWAL_REMINDER,
    AUTO_RENEWAL_UPCOMING,
    SUBSCRIPTION_EXPIRED,
    SUBSCRIPTION_SUSPENDED,
    SUBSCRIPTION_CANCELLED,
)

# R14: the notice sent on the first day of each stage after active (R2).
STAGE_NOTICES = {
    rules.EXPIRED: SUBSCRIPTION_EXPIRED,
    rules.SUSPENDED: SUBSCRIPTION_SUSPENDED,
    rules.CANCELLED: SUBSCRIPTION_CANCELLED,
}

# R14: notices counted back from the renewal date D (days before D).
AVAILABLE_DAYS_BEFORE = 90
REMINDER_DAYS_BEFORE = (45, 30, 4)
UPCOMING_DAYS_BEFORE = 30
# The offsets (days before D) whose dates the daily run must look at, largest first.
DAYS_BEFORE_D = (AVAILABLE_DAYS_BEFORE, *REMINDER_DAYS_BEFORE)
# Stage notices are counted from the lapse date (D, or an overdue invoice's due date, R2).
GRACES = sorted({periods.grace_days(term) for term in periods.TERM_MONTHS})
DAYS_AFTER_LAPSE = (0, rules.SUSPENSION_AFTER_DAYS, *GRACES)
# How far after the lapse date an automatic charge can still be due: until cancellation (R12).
LONGEST_GRACE = GRACES[-1]


@dataclass(frozen=True)
class Facts:
    """What the schedule needs to know about one subscription, fetched by the caller."""

    renewal_date: date
    lapse_date: date
    term: str
    trial: bool
    auto_renew: bool
    purchase_method: str
    payment_method: str | None
    has_card: bool
    sellable: bool


@dataclass(frozen=True, order=True)
class Step:
    """One notice of R14 on its day: `name` is unique within a term (the Notice row's key)."""

    day: date
    name: str
    kind: str


def renews_automatically(f: Facts) -> bool:
    """Tell whether the subscription will be renewed without the customer acting (R12).

    Auto-renew with an online purchase and a saved card is charged; auto-renew with an invoice
    purchase gets an invoice on D (R9, R12). Anything else needs a manual renewal.
    """
    if not f.auto_renew or f.trial:
        return False
    if f.purchase_method == "invoice":
        return True
    return (
        f.purchase_method == "online"
        and f.payment_method in rules.RECURRING_PAYMENT_METHODS
        and f.has_card
    )


def renewable_online(f: Facts) -> bool:
    """Tell whether the customer could renew it in the portal at all (R5: not trial, not partner)."""
    return not f.trial and f.purchase_method != "partner" and f.sellable


def notice_steps(f: Facts) -> list[Step]:
    """Return every notice of R14 for the current term of a subscription, in date order."""
    d, lapse = f.renewal_date, f.lapse_date
    steps: list[Step] = []
    if renewable_online(f):
        steps.append(
            Step(d - timedelta(days=AVAILABLE_DAYS_BEFORE), RENEWAL_AVAILABLE, RENEWAL_AVAILABLE)
        )
        if renews_automatically(f):
            steps.append(
                Step(
                    d - timedelta(days=UPCOMING_DAYS_BEFORE),
                    f"{AUTO_RENEWAL_UPCOMING}@D-{UPCOMING_DAYS_BEFORE}",
                    AUTO_RENEWAL_UPCOMING,
                )
            )
        else:
            for days in REMINDER_DAYS_BEFORE:
                steps.append(
                    Step(d - timedelta(days=days), f"{RENEWAL_REMINDER}@D-{days}", RENEWAL_REMINDER)
                )
    # R2: the stage notices fall on the first day of each stage (a trial is cancelled on D).
    for stage, day in rules.stage_dates(lapse, f.term, trial=f.trial).items():
        steps.append(Step(day, STAGE_NOTICES[stage], STAGE_NOTICES[stage]))
    return sorted(steps)


def due_notices(f: Facts, *, since: date, today: date, sent: frozenset[str]) -> list[Step]:
    """Return the notices to send on `today` for a run covering `(since, today]` (R14).

    Only the latest step that is due (its day ≤ today) is sent, and only when it fell due inside
    the window and was not sent already: missed earlier steps are skipped, never sent late.
    Steps sharing the latest day are all sent (e.g. two different kinds on the same day).
    A step already sent, or a later one, means nothing more is due.
    """
    due = [s for s in notice_steps(f) if s.day <= today]
    if not due:
        return []
    latest_day = due[-1].day
    if not since < latest_day:
        return []
    latest = [s for s in due if s.day == latest_day]
    if any(s.name in sent for s in latest):
        return []
    return latest


def charge_days(renewal_date: date, retry_days: tuple[int, ...]) -> list[date]:
    """Return the days an automatic charge is attempted: D, then D + each retry offset (R12)."""
    return [renewal_date] + [renewal_date + timedelta(days=n) for n in retry_days]


def charge_due(
    f: Facts,
    *,
    since: date,
    today: date,
    retry_days: tuple[int, ...],
    attempts_made: frozenset[int],
) -> int | None:
    """Return the attempt number to charge on `today`, or None (R12).

    An invoice auto-renewal is invoiced once. A card auto-renewal is charged on D and retried on each retry day while it is not cancelled.
    After missed days only the latest scheduled attempt is made. A subscription whose auto-renew
    was turned on after D (expired or suspended) has no attempt yet: it is charged on the next
    run, as the latest scheduled attempt.
    """
    if not renews_automatically(f):
        return None
    if f.purchase_method == "invoice":
        retry_days = ()  # R12: an invoice is issued once, on D (or on the first run after it)
    if today < f.renewal_date:
        return None
    if rules.stage_on(f.lapse_date, f.term, trial=f.trial, today=today) == rules.CANCELLED:
        return None
    days = charge_days(f.renewal_date, retry_days)
    latest = max(i for i, day in enumerate(days) if day <= today)
    if latest in attempts_made or any(a > latest for a in attempts_made):
        return None
    if attempts_made and not since < days[latest]:
        return None
    return latest


def candidate_ranges(since: date, today: date) -> dict[str, list[tuple[date, date]]]:
    """Return the inclusive date ranges of D and lapse date that can have work in the window.

    The daily run selects subscriptions with indexed range conditions on these columns, so its
    cost follows the number of subscriptions with something due, not the total (R16).
    """
    first = since + timedelta(days=1)
    by_d = [(first + timedelta(days=n), today + timedelta(days=n)) for n in DAYS_BEFORE_D]
    by_lapse = [(first - timedelta(days=n), today - timedelta(days=n)) for n in DAYS_AFTER_LAPSE]
    return {"renewal_date": by_d, "lapse_date": by_lapse}
