"""Re-importing the vendor's file after a term changed at renewal (R1, R19, R21).

The file that follows a switch must import (not be refused as off the start date's grid), and a
file that still names the term of before must not undo the paid term.
"""

import copy
import json
from datetime import date

import pytest

from renewals.subscriptions import periods
from renewals.subscriptions.actions import renew_subscriptions
from renewals.subscriptions.importing import import_bytes
from renewals.subscriptions.models import Subscription, Term

from .test_import import EXAMPLE

pytestmark = pytest.mark.django_db
TODAY = date(2027, 2, 10)


def file_with(**row) -> bytes:
    data = copy.deepcopy(EXAMPLE)
    data["prices"].append({**data["prices"][0], "term": "monthly", "list_price": "200.00"})
    data["prices"][-1]["renewal_price"] = "180.00"
    data["subscriptions"][0].update(row)
    return json.dumps(data).encode()


def renew_as(term, seats, *, start, today=TODAY):
    sub = Subscription.objects.get()
    renew_subscriptions(
        [(sub.pk, start)],
        today=today,
        order_number="R-2027-000001",
        source="order",
        changes={sub.pk: (seats, term)},
    )
    return Subscription.objects.get()


def imported(raw, *, today=TODAY):
    result = import_bytes(raw, today=today)
    assert result.ok, result.errors
    return result.summary


MONTHLY = {"term": "monthly", "start_date": "2027-01-31", "renewal_date": "2027-02-28"}


def test_monthly_switched_to_annual_on_a_month_end_reimports_with_its_new_term():
    imported(file_with(**MONTHLY))
    sub = renew_as("annual", 2, start=date(2027, 2, 28))
    # R1 anchor 31: 28 February 2027 + 12 months is 29 February 2028 (leap year).
    assert (sub.term, sub.seats, sub.renewal_date) == ("annual", 2, date(2028, 2, 29))
    # The vendor's file now says annual, start 31 January 2027, D 29 February 2028: 13 months
    # after its start, which no whole number of annual terms reaches from the start date.
    after = file_with(**{**MONTHLY, "term": "annual", "renewal_date": "2028-02-29", "seats": 2})
    summary = imported(after)
    assert summary.counts["subscriptions"]["unchanged"] == 1 and not summary.held
    again = Subscription.objects.get()
    assert (again.term, again.seats, again.renewal_date) == ("annual", 2, date(2028, 2, 29))
    assert Term.objects.get(start=date(2027, 2, 28)).order_number == "R-2027-000001"


def test_the_file_of_before_the_switch_is_held_not_refused():
    imported(file_with(**MONTHLY))
    renew_as("annual", 2, start=date(2027, 2, 28))
    summary = imported(file_with(**MONTHLY))  # still monthly, D 28 February 2027
    assert len(summary.held) == 1 and "paid by order R-2027-000001" in summary.held[0]
    assert Subscription.objects.get().renewal_date == date(2028, 2, 29)


def test_the_new_date_with_the_old_term_is_held_so_the_paid_annual_term_stays():
    imported(file_with(**MONTHLY))
    renew_as("annual", 2, start=date(2027, 2, 28))
    # Monthly reaches 29 February 2028 from 31 January 2027: valid on its own, but it would turn
    # the annual term paid up to that day back into a monthly one.
    summary = imported(file_with(**{**MONTHLY, "renewal_date": "2028-02-29"}))
    assert len(summary.held) == 1
    assert "the term monthly would undo the annual term up to 2028-02-29" in summary.held[0]
    sub = Subscription.objects.get()
    assert (sub.term, sub.renewal_date) == ("annual", date(2028, 2, 29))


YEARLY = {"term": "annual", "start_date": "2024-03-31", "renewal_date": "2027-03-31"}


def test_yearly_switched_to_monthly_reimports_and_the_old_term_is_held():
    imported(file_with(**YEARLY))
    sub = renew_as("monthly", 3, start=date(2027, 3, 31), today=date(2027, 3, 1))
    assert (sub.term, sub.renewal_date) == ("monthly", date(2027, 4, 30))
    today = date(2027, 3, 2)
    assert not imported(
        file_with(**{**YEARLY, "term": "monthly", "renewal_date": "2027-04-30"}), today=today
    ).held
    # The vendor moved D but kept "annual": off the annual grid, yet the end of the paid term,
    # so it is held with its reason instead of refusing the whole file.
    summary = imported(file_with(**{**YEARLY, "renewal_date": "2027-04-30"}), today=today)
    assert "the term annual would undo the monthly term up to 2027-04-30" in summary.held[0]
    assert "left unchanged" in imported(file_with(**YEARLY), today=today).held[0]
    sub = Subscription.objects.get()
    assert (sub.term, sub.renewal_date) == ("monthly", date(2027, 4, 30))


def test_the_vendor_may_move_d_forward_by_whole_new_terms():
    imported(file_with(**MONTHLY))
    renew_as("annual", 2, start=date(2027, 2, 28))
    later = file_with(**{**MONTHLY, "term": "annual", "renewal_date": "2029-02-28", "seats": 2})
    assert not imported(later).held
    assert Subscription.objects.get().renewal_date == date(2029, 2, 28)


@pytest.mark.parametrize(
    "renewal_date",
    ["2028-02-28", "2028-03-31", "2027-02-28"],  # one day short of the leap day; not annual
)
def test_a_date_no_recorded_term_reaches_is_still_refused(renewal_date):
    imported(file_with(**MONTHLY))
    renew_as("annual", 2, start=date(2027, 2, 28))
    raw = file_with(**{**MONTHLY, "term": "annual", "renewal_date": renewal_date})
    result = import_bytes(raw, today=TODAY)
    assert result.errors == [
        f"$.subscriptions[0].renewal_date: {renewal_date} is not a whole number of annual terms "
        "after the start date 2027-01-31"
    ]


def test_a_new_subscription_off_its_grid_is_refused_with_the_other_errors():
    raw = file_with(**{**MONTHLY, "term": "annual", "renewal_date": "2028-02-29", "seats": 0})
    result = import_bytes(raw, today=TODAY)
    assert result.errors == [
        "$.subscriptions[0].seats: must be a whole number of at least 1, not 0",
        "$.subscriptions[0].renewal_date: 2028-02-29 is not a whole number of annual terms "
        "after the start date 2027-01-31",
    ]
    assert not Subscription.objects.exists()


# periods.reached: (D, term, anchor day, origins) → reached? Month ends and leap days.
REACHED = [
    (date(2028, 2, 29), "annual", 31, [date(2027, 2, 28)], True),  # switch at a clamped month end
    (date(2028, 2, 28), "annual", 31, [date(2027, 2, 28)], False),  # anchor 31 lands on the 29th
    (date(2028, 2, 28), "annual", 28, [date(2027, 2, 28)], True),  # anchor 28: the 28th
    (date(2029, 2, 28), "annual", 31, [date(2027, 2, 28)], True),  # two annual terms
    (date(2028, 2, 29), "annual", 31, [date(2027, 1, 31)], False),  # 13 months: not annual
    (date(2028, 2, 29), "monthly", 31, [date(2027, 1, 31)], True),
    (date(2027, 3, 29), "monthly", 29, [date(2027, 2, 28)], True),  # leap-day start, anchor 29
    (date(2030, 2, 28), "three_year", 29, [date(2027, 2, 28)], True),  # 2030: no 29 February
    (date(2027, 2, 28), "annual", 31, [date(2027, 2, 28)], False),  # origin on D: no term
    (date(2027, 2, 28), "annual", 31, [date(2028, 2, 29)], False),  # origin after D
    (date(2028, 2, 29), "annual", 31, [], False),  # no recorded boundary
]


@pytest.mark.parametrize(("renewal", "term", "anchor", "origins", "expected"), REACHED)
def test_reached_boundary_table(renewal, term, anchor, origins, expected):
    assert periods.reached(renewal, term, anchor, origins) is expected
