"""Changes at renewal (R21) as pure rules: the next term's dates and what a change may be."""

from datetime import date

import pytest

from renewals.subscriptions import periods, rules

# (start date = anchor, D, new term) → the next term [D, end): R1 counts months from the anchor
# day and clamps it to the month's end, whatever the term was before. A monthly started on 31
# January, switched to annual at D = 28 February 2027, renews to 29 February 2028 (2028 is a
# leap year and 29 is the month's end, as close to the anchor 31 as February allows), and the
# monthly terms after a later switch back land on the 31st again.
SWITCHES = [
    (date(2027, 1, 31), date(2027, 2, 28), "annual", date(2028, 2, 29)),
    (date(2027, 1, 31), date(2027, 2, 28), "three_year", date(2030, 2, 28)),
    (date(2027, 1, 31), date(2027, 2, 28), "monthly", date(2027, 3, 31)),
    (date(2027, 1, 31), date(2028, 2, 29), "monthly", date(2028, 3, 31)),
    (date(2027, 1, 31), date(2027, 4, 30), "annual", date(2028, 4, 30)),
    (date(2024, 2, 29), date(2025, 2, 28), "monthly", date(2025, 3, 29)),
    (date(2024, 2, 29), date(2025, 2, 28), "annual", date(2026, 2, 28)),
    (date(2024, 2, 29), date(2025, 2, 28), "three_year", date(2028, 2, 29)),
    (date(2026, 3, 15), date(2027, 3, 15), "monthly", date(2027, 4, 15)),
    (date(2026, 1, 30), date(2027, 1, 30), "monthly", date(2027, 2, 28)),
    (date(2025, 12, 31), date(2026, 12, 31), "monthly", date(2027, 1, 31)),
    (date(2025, 12, 31), date(2026, 12, 31), "annual", date(2027, 12, 31)),
]


@pytest.mark.parametrize(("start", "renewal_date", "term", "end"), SWITCHES)
def test_a_term_switch_renews_from_d_by_the_new_term_on_the_anchor_day(
    start, renewal_date, term, end
):
    assert periods.next_term(renewal_date, term, start.day) == (renewal_date, end)
    assert periods.term_of(renewal_date, end) == term
    # The next renewal after the switched term keeps the anchor too.
    assert periods.previous_renewal_date(end, term, start.day) == renewal_date


@pytest.mark.parametrize(
    ("start", "end", "term"),
    [
        (date(2027, 1, 31), date(2027, 2, 28), "monthly"),
        (date(2027, 2, 28), date(2028, 2, 29), "annual"),
        (date(2027, 2, 28), date(2030, 2, 28), "three_year"),
    ],
)
def test_the_term_of_a_span_is_read_from_its_months(start, end, term):
    assert periods.term_of(start, end) == term


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2027, 1, 31), date(2027, 3, 31)), (date(2027, 1, 1), date(2027, 1, 31))],
)
def test_a_span_that_is_no_term_is_refused(start, end):
    with pytest.raises(ValueError):
        periods.term_of(start, end)


SOLD = frozenset({"monthly", "annual"})


@pytest.mark.parametrize(
    ("seats", "term", "purchase_method", "trial", "reasons"),
    [
        (3, "annual", "online", False, ()),
        (None, None, "online", False, ()),
        (1, None, "online", False, ()),
        (100, None, "invoice", False, ()),
        (0, None, "online", False, ("seats_below_one",)),
        (-2, None, "online", False, ("seats_below_one",)),
        (101, None, "online", False, ("seats_above_limit",)),
        (None, "three_year", "online", False, ("term_not_sold",)),
        (3, "annual", "partner", False, ("partner_managed",)),
        (3, "annual", "online", True, ("trial",)),
        (0, "three_year", "partner", True, ("partner_managed", "trial", "seats_below_one",
                                             "term_not_sold")),
    ],
)  # fmt: skip
def test_change_refusals_report_every_reason(seats, term, purchase_method, trial, reasons):
    assert (
        rules.change_refusals(
            seats=seats,
            term=term,
            max_seats=100,
            sold_terms=SOLD,
            purchase_method=purchase_method,
            trial=trial,
        )
        == reasons
    )


@pytest.mark.parametrize(
    ("term", "renewal_date", "today", "automatic", "kind"),
    [
        # R6 for the NEW term: a monthly switched to annual and paid while active pays the
        # annual renewal price; from D on it pays the list price, unless charged automatically.
        ("annual", date(2027, 2, 28), date(2027, 2, 27), False, "renewal"),
        ("annual", date(2027, 2, 28), date(2027, 2, 28), False, "list"),
        ("annual", date(2027, 2, 28), date(2027, 3, 1), True, "renewal"),
        ("three_year", date(2027, 2, 28), date(2027, 1, 1), False, "renewal"),
        # An annual switched to monthly always pays the monthly list price.
        ("monthly", date(2027, 2, 28), date(2027, 1, 1), False, "list"),
        ("monthly", date(2027, 2, 28), date(2027, 2, 28), True, "list"),
    ],
)
def test_the_price_kind_follows_the_new_term(term, renewal_date, today, automatic, kind):
    assert (
        rules.price_kind(term=term, renewal_date=renewal_date, automatic=automatic, today=today)
        == kind
    )
