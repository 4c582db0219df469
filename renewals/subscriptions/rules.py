"""The calendar and eligibility rules (R2, R3, R5, R6): pure decisions, values in, values out."""

from dataclasses import dataclass
from datetime import date, timedelta

from .periods import grace_days

ACTIVE, EXPIRED, SUSPENDED, CANCELLED = "active", "expired", "suspended", "cancelled"
STAGES = (ACTIVE, EXPIRED, SUSPENDED, CANCELLED)
STAGES_WITH_ACCESS = frozenset({ACTIVE, EXPIRED})
SUSPENSION_AFTER_DAYS = 15
WINDOW_OPENS_DAYS = 90
# R7, R8: a cart, a bulk selection and every bulk action hold at most this many subscriptions.
AT_ONCE_LIMIT = 100

# R5: every reason a renewal can be refused, in the order they are reported.
NOT_PURCHASER = "not_purchaser"
PARTNER_MANAGED = "partner_managed"
TRIAL = "trial"
CANCELLED_REASON = "cancelled"
TOO_EARLY = "too_early"
PAYMENT_PENDING = "payment_pending"
NOT_SELLABLE = "not_sellable"
REASONS = (
    NOT_PURCHASER,
    PARTNER_MANAGED,
    TRIAL,
    CANCELLED_REASON,
    TOO_EARLY,
    PAYMENT_PENDING,
    NOT_SELLABLE,
)
# R11: the extra reason an auto-renew change can be refused for.
PAYMENT_METHOD_NOT_RECURRING = "payment_method_not_recurring"
RECURRING_PAYMENT_METHODS = frozenset({"card"})


def stage_on(lapse_date: date, term: str, *, trial: bool, today: date) -> str:
    """Return the stage (R2) on `today` of a subscription whose expiry process starts on `lapse_date`.

    `lapse_date` is the renewal date D, or an overdue invoice's due date when that is earlier.
    A trial is active until D and cancelled from D on.
    """
    if today < lapse_date:
        return ACTIVE
    if trial:
        return CANCELLED
    days_late = (today - lapse_date).days
    if days_late < SUSPENSION_AFTER_DAYS:
        return EXPIRED
    if days_late < grace_days(term):
        return SUSPENDED
    return CANCELLED


def stage_dates(lapse_date: date, term: str, *, trial: bool) -> dict[str, date]:
    """Return the first day of each stage after active: expired, suspended and cancelled (R2)."""
    if trial:
        return {CANCELLED: lapse_date}
    return {
        EXPIRED: lapse_date,
        SUSPENDED: lapse_date + timedelta(days=SUSPENSION_AFTER_DAYS),
        CANCELLED: lapse_date + timedelta(days=grace_days(term)),
    }


def has_access(stage: str) -> bool:
    """Tell whether the product can be used in `stage` (R2)."""
    return stage in STAGES_WITH_ACCESS


def window_opens(renewal_date: date) -> date:
    """Return the first day a renewal can be bought online: D − 90 (R3)."""
    return renewal_date - timedelta(days=WINDOW_OPENS_DAYS)


def window_closes(lapse_date: date, term: str, *, trial: bool = False) -> date:
    """Return the last renewable day: the day before cancellation, D + G − 1 (R3).

    A trial is cancelled on D itself (R2), so its last day is D − 1 (it is never renewable).
    """
    if trial:
        return lapse_date - timedelta(days=1)
    return lapse_date + timedelta(days=grace_days(term) - 1)


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reasons: tuple[str, ...]
    window_opens: date
    window_closes: date


def renewal_eligibility(
    *,
    is_purchaser: bool,
    purchase_method: str,
    trial: bool,
    stage: str,
    renewal_date: date,
    lapse_date: date,
    term: str,
    payment_pending: bool,
    sellable: bool,
    today: date,
) -> Eligibility:
    """Decide whether a user may renew a subscription online today, with *every* failing reason (R5)."""
    opens = window_opens(renewal_date)
    failing = {
        NOT_PURCHASER: not is_purchaser,
        PARTNER_MANAGED: purchase_method == "partner",
        TRIAL: trial,
        CANCELLED_REASON: stage == CANCELLED,
        TOO_EARLY: today < opens,
        PAYMENT_PENDING: payment_pending,
        NOT_SELLABLE: not sellable,
    }
    reasons = tuple(code for code in REASONS if failing[code])
    return Eligibility(
        eligible=not reasons,
        reasons=reasons,
        window_opens=opens,
        window_closes=window_closes(lapse_date, term, trial=trial),
    )


def auto_renew_change_reasons(
    *,
    turn_on: bool,
    is_purchaser: bool,
    purchase_method: str,
    trial: bool,
    stage: str,
    payment_method: str | None,
) -> tuple[str, ...]:
    """Return why the auto-renew setting cannot be changed (R11); empty when it can."""
    failing = [
        (NOT_PURCHASER, not is_purchaser),
        (PARTNER_MANAGED, purchase_method == "partner"),
        (TRIAL, trial),
        (CANCELLED_REASON, stage == CANCELLED),
        (
            PAYMENT_METHOD_NOT_RECURRING,
            turn_on
            and payment_method not in RECURRING_PAYMENT_METHODS
            and purchase_method != "invoice",
        ),
    ]
    return tuple(code for code, fails in failing if fails)


# Every reason auto_renew_change_reasons can give (each has its words in the catalogue).
AUTO_RENEW_REASONS = (
    NOT_PURCHASER,
    PARTNER_MANAGED,
    TRIAL,
    CANCELLED_REASON,
    PAYMENT_METHOD_NOT_RECURRING,
)


# R19: why money recorded on a day cannot renew a subscription's term (the renewal door).
REFUSED_TRIAL = "trial"
REFUSED_CANCELLED = "cancelled"
REFUSED_ALREADY_RENEWED = "already_renewed"
REFUSED_NOT_NEXT_TERM = "not_next_term"
RENEWAL_REFUSALS = (
    REFUSED_TRIAL,
    REFUSED_CANCELLED,
    REFUSED_ALREADY_RENEWED,
    REFUSED_NOT_NEXT_TERM,
)


def renewal_refusal(
    *,
    term_start: date,
    renewal_date: date,
    lapse_date: date,
    term: str,
    trial: bool,
    today: date,
) -> str | None:
    """Tell why money recorded on `today` cannot renew the term starting `term_start` (R3, R4, R19).

    None means it may: the term is the subscription's next one (`term_start == D`) and on `today`
    the subscription is not cancelled (R2, R3: the window closes on D + G − 1, counted from the
    lapse date). Otherwise the first failing reason, in this order: `trial` (never renewable),
    `already_renewed` (D moved past the term), `not_next_term` (D is before the term: it was
    moved back), `cancelled` (today is on or after the cancellation day). The window's opening
    (D − 90) is checked when the order is placed; money for an order cannot arrive before it.
    """
    if trial:
        return REFUSED_TRIAL
    if term_start < renewal_date:
        return REFUSED_ALREADY_RENEWED
    if term_start != renewal_date:
        return REFUSED_NOT_NEXT_TERM
    if stage_on(lapse_date, term, trial=trial, today=today) == CANCELLED:
        return REFUSED_CANCELLED
    return None


# R19: why an import row may not move a subscription's dates.
HELD_PAID_TERM = "paid_term"
HELD_OPEN_ORDER = "open_order"
HELD_CANCELLED = "cancelled"


def import_hold(
    *,
    new_renewal_date: date,
    dates_change: bool,
    paid_until: date | None,
    open_order: bool,
    cancelled_now: bool = False,
    cancelled_after: bool = False,
    new_term: str | None = None,
    paid_term: str | None = None,
) -> str | None:
    """Tell why an import must leave a subscription's row as it is (R19); None when it may write.

    `paid_until` is the end of the latest term paid through the product (an order or an automatic
    charge), `open_order` whether an order pending payment holds its next term, `dates_change`
    whether the row changes D, the start date or the term. A row that moves D back before a paid
    term's end would undo that payment (`paid_term`); one that changes the dates under a pending
    order would make its payment unable to renew anything (`open_order`); one that would bring a
    subscription cancelled today back (`cancelled_now` and not `cancelled_after`) reactivates
    what R2 makes final (`cancelled`). One that keeps D at the paid term's end but names another
    term than the one paid (`paid_term`, e.g. the yearly term of before a switch to monthly at
    that renewal, R21) would undo it too (`paid_term`).
    """
    if cancelled_now and not cancelled_after:
        return HELD_CANCELLED
    if paid_until is not None and new_renewal_date < paid_until:
        return HELD_PAID_TERM
    if new_renewal_date == paid_until and paid_term is not None and new_term != paid_term:
        return HELD_PAID_TERM
    if open_order and dates_change:
        return HELD_OPEN_ORDER
    return None


def import_lapse_date(
    *, old_lapse: date | None, old_renewal: date | None, new_renewal: date
) -> date:
    """Return the lapse date an imported row leaves a subscription with (R2, R9, R19).

    D, unless an overdue invoice started the expiry process earlier (`old_lapse < old_renewal`):
    whatever the file says of D, that date stays — a re-import never revives access nor moves
    the process — and never after the new D (`lapse_date <= renewal_date`). Paying the invoice
    restores it (billing). A row that keeps D keeps its lapse date.
    """
    if old_lapse is None or old_renewal is None:
        return new_renewal
    if old_lapse < old_renewal or old_renewal == new_renewal:
        return min(old_lapse, new_renewal)
    return new_renewal


def price_kind(
    *, term: str, renewal_date: date, automatic: bool, today: date, retrying: bool = False
) -> str:
    """Decide which catalogue price a renewal pays (R6): "renewal" or "list".

    A non-monthly renewal paid while still active (today < D), or charged automatically (R12,
    retries included), or paid by hand while the failed automatic charge of that term still has
    retries to come (`retrying`: the customer fixes what the card could not), pays the special
    renewal price; every other renewal pays the list price.
    """
    if term != "monthly" and (automatic or retrying or today < renewal_date):
        return "renewal"
    return "list"


# R21: why a change of seats or term for the next term is refused, in the order reported.
SEATS_BELOW_ONE = "seats_below_one"
SEATS_ABOVE_LIMIT = "seats_above_limit"
TERM_NOT_SOLD = "term_not_sold"
CHANGE_REFUSALS = (PARTNER_MANAGED, TRIAL, SEATS_BELOW_ONE, SEATS_ABOVE_LIMIT, TERM_NOT_SOLD)


def change_refusals(
    *,
    seats: int | None,
    term: str | None,
    max_seats: int,
    sold_terms: frozenset[str] | set[str],
    purchase_method: str,
    trial: bool,
) -> tuple[str, ...]:
    """Return every reason a change to `seats`/`term` for the next term is refused (R21).

    None for `seats` or `term` keeps that value. A partner's subscription is changed through the
    partner, a trial is never renewed; seats go from 1 to `max_seats` (the offering's or the
    deployment's bound); the term must have an active price in the subscription's currency
    (`sold_terms`). Empty when the change may be made.
    """
    failing = {
        PARTNER_MANAGED: purchase_method == "partner",
        TRIAL: trial,
        SEATS_BELOW_ONE: seats is not None and seats < 1,
        SEATS_ABOVE_LIMIT: seats is not None and seats > max_seats,
        TERM_NOT_SOLD: term is not None and term not in sold_terms,
    }
    return tuple(code for code in CHANGE_REFUSALS if failing[code])


CHANGE_TOO_LATE = "change_too_late"


def scheduled_change_refusals(
    *,
    is_purchaser: bool,
    stage: str,
    renewal_date: date,
    today: date,
    seats: int | None,
    term: str | None,
    max_seats: int,
    sold_terms: frozenset[str] | set[str],
    purchase_method: str,
    trial: bool,
) -> tuple[str, ...]:
    """Return every reason a change of the next term cannot be scheduled (or cancelled) (R21).

    Only the purchaser may, only before D (`change_too_late` from D on: the automatic charge of
    that term is due), never once cancelled, and the change itself must pass `change_refusals`.
    """
    failing = [
        (NOT_PURCHASER, not is_purchaser),
        (CANCELLED_REASON, stage == CANCELLED),
        (CHANGE_TOO_LATE, today >= renewal_date),
    ]
    head = tuple(code for code, fails in failing if fails)
    return head + change_refusals(
        seats=seats,
        term=term,
        max_seats=max_seats,
        sold_terms=sold_terms,
        purchase_method=purchase_method,
        trial=trial,
    )


def retries_pending(
    *, renewal_date: date, auto_renew: bool, failed_automatic: bool, today: date, retry_days
) -> bool:
    """Tell whether a term's automatic charge failed and its retries are not over (R6, R12).

    The last retry is on D + the largest retry offset; once it is past, or auto-renew is off,
    no retry is coming.
    """
    if not (failed_automatic and auto_renew):
        return False
    last = renewal_date + timedelta(days=max(retry_days, default=0))
    return today <= last
