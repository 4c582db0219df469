"""R1 term arithmetic: anchored calendar months, clamped to the month's end, never drifting."""

import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewals.subscriptions import periods

TERMS = ["monthly", "annual", "three_year"]


@pytest.mark.parametrize(
    ("day", "months", "anchor", "expected"),
    [
        pytest.param(date(2027, 1, 31), 1, 31, date(2027, 2, 28), id="31-jan-to-28-feb"),
        pytest.param(date(2028, 1, 31), 1, 31, date(2028, 2, 29), id="31-jan-to-29-feb-leap"),
        pytest.param(date(2027, 2, 28), 1, 31, date(2027, 3, 31), id="28-feb-back-to-31-mar"),
        pytest.param(date(2027, 3, 31), 1, 31, date(2027, 4, 30), id="31-mar-to-30-apr"),
        pytest.param(date(2027, 4, 30), 1, 31, date(2027, 5, 31), id="30-apr-back-to-31-may"),
        pytest.param(date(2027, 1, 30), 1, 30, date(2027, 2, 28), id="30-jan-to-28-feb"),
        pytest.param(date(2027, 2, 28), 1, 30, date(2027, 3, 30), id="anchor-30-back-to-30-mar"),
        pytest.param(date(2028, 1, 29), 1, 29, date(2028, 2, 29), id="29-jan-to-29-feb-leap"),
        pytest.param(date(2027, 1, 29), 1, 29, date(2027, 2, 28), id="29-jan-to-28-feb"),
        pytest.param(date(2027, 12, 31), 1, 31, date(2028, 1, 31), id="december-to-january"),
        pytest.param(date(2027, 1, 15), 12, 15, date(2028, 1, 15), id="annual-plain"),
        pytest.param(date(2028, 2, 29), 12, 29, date(2029, 2, 28), id="29-feb-annual-non-leap"),
        pytest.param(date(2029, 2, 28), 12, 29, date(2030, 2, 28), id="29-feb-anchor-stays-28"),
        pytest.param(date(2031, 2, 28), 12, 29, date(2032, 2, 29), id="29-feb-anchor-leap-again"),
        pytest.param(date(2028, 2, 29), 48, 29, date(2032, 2, 29), id="29-feb-four-years"),
        pytest.param(date(2028, 2, 29), 36, 29, date(2031, 2, 28), id="29-feb-three-year"),
        pytest.param(date(2027, 3, 31), -1, 31, date(2027, 2, 28), id="back-31-mar-to-28-feb"),
        pytest.param(date(2027, 1, 31), -1, 31, date(2026, 12, 31), id="back-over-new-year"),
        pytest.param(date(2027, 5, 31), -3, 31, date(2027, 2, 28), id="back-three-months"),
        pytest.param(date(2027, 5, 10), 0, 10, date(2027, 5, 10), id="zero-months"),
    ],
)
def test_add_months_lands_on_the_anchor_day_clamped_to_the_month(day, months, anchor, expected):
    assert periods.add_months(day, months, anchor) == expected


@pytest.mark.parametrize("anchor", [0, 32, -1])
def test_add_months_refuses_an_anchor_that_is_no_day_of_month(anchor):
    with pytest.raises(ValueError, match="not a day of month"):
        periods.add_months(date(2027, 1, 1), 1, anchor)


def test_monthly_renewals_from_31_january_never_drift_to_the_28th():
    dates = [date(2027, 1, 31)]
    for _ in range(4):
        dates.append(periods.next_renewal_date(dates[-1], "monthly", 31))
    assert dates == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]


@pytest.mark.parametrize(
    ("term", "renewal_date", "anchor", "next_date", "previous_date"),
    [
        pytest.param(
            "monthly",
            date(2027, 2, 28),
            31,
            date(2027, 3, 31),
            date(2027, 1, 31),
            id="monthly-anchor-31",
        ),
        pytest.param(
            "monthly",
            date(2027, 3, 30),
            30,
            date(2027, 4, 30),
            date(2027, 2, 28),
            id="monthly-anchor-30",
        ),
        pytest.param(
            "annual", date(2027, 3, 31), 31, date(2028, 3, 31), date(2026, 3, 31), id="annual"
        ),
        pytest.param(
            "annual",
            date(2029, 2, 28),
            29,
            date(2030, 2, 28),
            date(2028, 2, 29),
            id="annual-leap-anchor",
        ),
        pytest.param(
            "three_year",
            date(2027, 6, 30),
            30,
            date(2030, 6, 30),
            date(2024, 6, 30),
            id="three-year",
        ),
        pytest.param(
            "three_year",
            date(2028, 2, 29),
            29,
            date(2031, 2, 28),
            date(2025, 2, 28),
            id="three-year-from-29-feb",
        ),
    ],
)
def test_next_and_previous_renewal_dates_move_one_term(
    term, renewal_date, anchor, next_date, previous_date
):
    assert periods.next_renewal_date(renewal_date, term, anchor) == next_date
    assert periods.previous_renewal_date(renewal_date, term, anchor) == previous_date
    assert periods.next_term(renewal_date, term, anchor) == (renewal_date, next_date)


@pytest.mark.parametrize(
    ("term", "months", "grace"),
    [("monthly", 1, 30), ("annual", 12, 45), ("three_year", 36, 45)],
)
def test_term_lengths_and_grace_periods(term, months, grace):
    assert periods.term_months(term) == months
    assert periods.grace_days(term) == grace


def test_an_unknown_term_is_refused():
    with pytest.raises(ValueError, match="unknown term 'weekly'"):
        periods.term_months("weekly")


@pytest.mark.parametrize(
    ("start", "renewal_date", "term", "expected"),
    [
        pytest.param(date(2027, 1, 31), date(2027, 2, 28), "monthly", 1, id="monthly-clamped"),
        pytest.param(date(2027, 1, 31), date(2027, 4, 30), "monthly", 3, id="monthly-three"),
        pytest.param(date(2027, 1, 31), date(2027, 3, 28), "monthly", None, id="drifted-28th"),
        pytest.param(date(2027, 1, 31), date(2027, 2, 27), "monthly", None, id="not-month-end"),
        pytest.param(date(2026, 3, 31), date(2027, 3, 31), "annual", 1, id="annual-one"),
        pytest.param(date(2024, 2, 29), date(2027, 2, 28), "annual", 3, id="annual-leap-start"),
        pytest.param(date(2024, 2, 29), date(2027, 3, 1), "annual", None, id="annual-1-march"),
        pytest.param(date(2026, 3, 31), date(2027, 9, 30), "annual", None, id="half-a-year"),
        pytest.param(date(2024, 6, 30), date(2027, 6, 30), "three_year", 1, id="three-year"),
        pytest.param(date(2024, 6, 30), date(2026, 6, 30), "three_year", None, id="two-years"),
        pytest.param(date(2027, 3, 31), date(2027, 3, 31), "monthly", None, id="same-day"),
        pytest.param(date(2027, 3, 31), date(2026, 3, 31), "annual", None, id="before-start"),
        pytest.param(date(2027, 3, 10), date(2027, 3, 20), "monthly", None, id="same-month"),
    ],
)
def test_terms_between_counts_reachable_dates_and_refuses_others(
    start, renewal_date, term, expected
):
    assert periods.terms_between(start, renewal_date, term) == expected


@pytest.mark.parametrize(
    ("start", "renewal_date", "term", "expected"),
    [
        pytest.param(
            date(2027, 1, 31),
            date(2027, 4, 30),
            "monthly",
            date(2027, 3, 31),
            id="monthly-anchor-31",
        ),
        pytest.param(
            date(2027, 1, 31),
            date(2027, 2, 28),
            "monthly",
            date(2027, 1, 31),
            id="first-term-starts-on-start",
        ),
        pytest.param(
            date(2024, 2, 29),
            date(2027, 2, 28),
            "annual",
            date(2026, 2, 28),
            id="annual-leap-anchor",
        ),
    ],
)
def test_current_term_start_is_one_term_before_d_never_before_start(
    start, renewal_date, term, expected
):
    assert periods.current_term_start(start, renewal_date, term) == expected


def test_last_day_before_is_the_last_day_of_a_half_open_range():
    assert periods.last_day_before(date(2028, 3, 1)) == date(2028, 2, 29)


# Properties --------------------------------------------------------------------------------

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
terms = st.sampled_from(TERMS)


@given(start=days, term=terms, n=st.integers(min_value=1, max_value=40))
def test_n_single_renewals_land_where_one_jump_of_n_terms_lands(start, term, n):
    anchor = start.day
    renewal_date = start
    for _ in range(n):
        renewal_date = periods.next_renewal_date(renewal_date, term, anchor)
    assert renewal_date == periods.add_months(start, n * periods.term_months(term), anchor)
    assert periods.terms_between(start, renewal_date, term) == n


@given(start=days, term=terms, n=st.integers(min_value=0, max_value=40))
def test_a_renewed_term_starts_on_the_old_date_and_ends_on_the_next(start, term, n):
    renewal_date = periods.add_months(start, n * periods.term_months(term), start.day)
    term_start, term_end = periods.next_term(renewal_date, term, start.day)
    assert term_start == renewal_date
    assert term_end == periods.next_renewal_date(renewal_date, term, start.day)
    assert term_end > term_start
    assert periods.previous_renewal_date(term_end, term, start.day) == term_start


@given(
    day=days,
    anchor=st.integers(min_value=1, max_value=31),
    months=st.integers(min_value=-120, max_value=120),
)
def test_the_anchor_day_is_never_lost(day, anchor, months):

    landed = periods.add_months(day, months, anchor)
    month_length = calendar.monthrange(landed.year, landed.month)[1]
    assert landed.day == min(anchor, month_length)
    assert (landed.year * 12 + landed.month) - (day.year * 12 + day.month) == months
