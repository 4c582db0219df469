"""Pure payment rules: the transition table, deadlines, transfer matching (R9, R10)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewals.payments import rules
from renewals.payments.models import PAYMENT_STATUSES

STATUSES = [s for s, _label in PAYMENT_STATUSES]


def test_every_model_status_has_a_row_in_the_transition_table():
    assert sorted(rules.TRANSITIONS) == sorted(STATUSES)


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        ("created", "succeeded", True),
        ("created", "requires_action", True),
        ("created", "pending", True),
        ("created", "failed", True),
        ("created", "expired", False),
        ("requires_action", "succeeded", True),
        ("requires_action", "failed", True),
        ("requires_action", "expired", True),
        ("pending", "partially_funded", True),
        ("pending", "expired", True),
        ("partially_funded", "succeeded", True),
        ("partially_funded", "refunded", True),
        ("succeeded", "failed", False),
        ("succeeded", "expired", False),
        # R19: money the renewal door refused is kept on the order and refunded from succeeded.
        ("succeeded", "refunded", True),
        ("failed", "succeeded", False),
        ("expired", "succeeded", False),
        ("expired", "refunded", True),
        ("refunded", "succeeded", False),
    ],
)
def test_transition_table(current, new, allowed):
    assert rules.can_transition(current, new) is allowed


@given(st.sampled_from(STATUSES))
def test_succeeded_leads_only_to_refunded_and_refunded_is_final(new):
    assert rules.can_transition("succeeded", new) is (new == "refunded")
    assert not rules.can_transition("refunded", new)


@given(st.lists(st.sampled_from(STATUSES), max_size=12))
def test_no_sequence_of_allowed_moves_leaves_succeeded_except_by_a_refund(sequence):
    status = "created"
    reached_success = False
    for new in sequence:
        if rules.can_transition(status, new):
            status = new
            reached_success |= status == "succeeded"
    assert not reached_success or status in ("succeeded", "refunded")


@pytest.mark.parametrize(
    ("today", "days", "closes", "expected"),
    [
        (date(2027, 3, 1), 3, [], date(2027, 3, 4)),
        (date(2027, 3, 1), 3, [date(2027, 3, 5)], date(2027, 3, 4)),
        (date(2027, 3, 1), 3, [date(2027, 3, 4)], date(2027, 3, 4)),
        (date(2027, 3, 1), 3, [date(2027, 3, 3)], date(2027, 3, 3)),
        (date(2027, 3, 1), 3, [date(2027, 5, 1), date(2027, 3, 2)], date(2027, 3, 2)),
        (date(2027, 3, 1), 7, [date(2027, 3, 1)], date(2027, 3, 1)),
        (date(2028, 2, 27), 3, [], date(2028, 3, 1)),  # leap year: 28, 29 Feb, 1 Mar
    ],
)
def test_payment_deadline_is_capped_by_the_last_renewable_day(today, days, closes, expected):
    assert rules.payment_deadline(today=today, days=days, last_renewable_days=closes) == expected


@pytest.mark.parametrize(
    ("configured", "days"), [(-5, 1), (0, 1), (1, 1), (3, 3), (60, 60), (61, 60)]
)
def test_konbini_days_are_clamped(configured, days):
    assert rules.konbini_days(configured) == days


@pytest.mark.parametrize(
    ("received", "outcome"),
    [("13199", "partially_funded"), ("13200", "succeeded"), ("13201", "partially_funded")],
)
def test_transfer_outcome_needs_the_exact_amount(received, outcome):
    assert rules.transfer_outcome(expected=Decimal("13200"), received=Decimal(received)) == outcome


@pytest.mark.parametrize(
    ("today", "overdue"),
    [(date(2027, 3, 3), False), (date(2027, 3, 4), False), (date(2027, 3, 5), True)],
)
def test_deadline_day_is_still_payable(today, overdue):
    assert rules.is_overdue(expires_on=date(2027, 3, 4), today=today) is overdue
