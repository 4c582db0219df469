"""Term arithmetic (R1): pure functions of dates, no database, clock or settings.

Terms are counted in calendar months from the subscription's anchor day (the day of month of its
start date), clamped to the month's end, so a monthly subscription started on 31 January renews
on 28/29 February, 31 March, 30 April — it never drifts to the 28th.
"""

import calendar
from datetime import date, timedelta

TERM_MONTHS = {"monthly": 1, "annual": 12, "three_year": 36}


def term_months(term: str) -> int:
    """Return the length of `term` in months; unknown terms are a ValueError."""
    try:
        return TERM_MONTHS[term]
    except KeyError:
        raise ValueError(f"unknown term {term!r}") from None


def term_of(start: date, end: date) -> str:
    """Return the term whose length is the months from `start` to `end` (R1: `end` lies on the
    same anchor day, so whole months); a span that is no term is a ValueError."""
    months = (end.year - start.year) * 12 + end.month - start.month
    for term, length in TERM_MONTHS.items():
        if length == months:
            return term
    raise ValueError(f"{start} to {end} is not one term")


def grace_days(term: str) -> int:
    """Return G of R2: 30 days for monthly, 45 for annual and three-year."""
    return 30 if term_months(term) == 1 else 45


def add_months(day: date, months: int, anchor_day: int) -> date:
    """Move `months` calendar months from `day`, landing on `anchor_day` clamped to the month."""
    if not 1 <= anchor_day <= 31:
        raise ValueError(f"anchor day {anchor_day} is not a day of month")
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def next_renewal_date(renewal_date: date, term: str, anchor_day: int) -> date:
    """Return the renewal date one term after `renewal_date` (R1, R4)."""
    return add_months(renewal_date, term_months(term), anchor_day)


def previous_renewal_date(renewal_date: date, term: str, anchor_day: int) -> date:
    """Return the start of the term that ends on `renewal_date`."""
    return add_months(renewal_date, -term_months(term), anchor_day)


def next_term(renewal_date: date, term: str, anchor_day: int) -> tuple[date, date]:
    """Return the half-open term `[D, D + 1 term)` that a renewal pays for (R4)."""
    return renewal_date, next_renewal_date(renewal_date, term, anchor_day)


def current_term_start(start_date: date, renewal_date: date, term: str) -> date:
    """Return the first day of the current term `[start, D)`, never before the start date."""
    return max(start_date, previous_renewal_date(renewal_date, term, start_date.day))


def terms_between(start_date: date, renewal_date: date, term: str) -> int | None:
    """Return how many whole terms lead from `start_date` to `renewal_date`, or None.

    None means the renewal date is not one the term arithmetic reaches from the start date
    (the import refuses such a subscription).
    """
    months = term_months(term)
    span = (renewal_date.year - start_date.year) * 12 + renewal_date.month - start_date.month
    if span <= 0 or span % months:
        return None
    count = span // months
    if add_months(start_date, span, start_date.day) != renewal_date:
        return None
    return count


def reached(renewal_date: date, term: str, anchor_day: int, origins) -> bool:
    """Tell whether whole `term`s from one of `origins` land on `renewal_date` (R1, R21).

    A term changed at a renewal restarts the count from that renewal's date: a monthly
    subscription started on 31 January and renewed as annual on 28 February 2027 renews on
    29 February 2028, which no whole number of annual terms reaches from its start date. The
    origins are the dates a term may have begun on (the start date, recorded term boundaries);
    one on or after `renewal_date` reaches nothing.
    """
    months = term_months(term)
    for origin in origins:
        span = (renewal_date.year - origin.year) * 12 + renewal_date.month - origin.month
        if origin < renewal_date and span > 0 and span % months == 0:
            if add_months(origin, span, anchor_day) == renewal_date:
                return True
    return False


def last_day_before(day: date) -> date:
    """Return the day before `day` (the last day of a half-open range ending on `day`)."""
    return day - timedelta(days=1)
