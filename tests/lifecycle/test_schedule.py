"""The pure calendar of notices and charges (R12, R14): every boundary, catch-up, renewal."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewals.lifecycle import schedule
from renewals.lifecycle.schedule import Facts

D = date(2027, 3, 31)
RETRIES = (1, 3, 7)


def facts(**overrides) -> Facts:
    values = dict(
        renewal_date=D,
        lapse_date=D,
        term="annual",
        trial=False,
        auto_renew=False,
        purchase_method="online",
        payment_method="card",
        has_card=True,
        sellable=True,
    )
    values.update(overrides)
    return Facts(**values)


def kinds_on(f: Facts, day: date, *, sent=frozenset()) -> list[str]:
    """Run the schedule for a regular daily run (window = just that day)."""
    return [
        s.name for s in schedule.due_notices(f, since=day - timedelta(days=1), today=day, sent=sent)
    ]


MANUAL = facts()
AUTOMATIC = facts(auto_renew=True)


@pytest.mark.parametrize(
    ("f", "offset", "expected"),
    [
        (MANUAL, -91, []),
        (MANUAL, -90, ["renewal-available"]),
        (MANUAL, -89, []),
        (MANUAL, -46, []),
        (MANUAL, -45, ["renewal-reminder@D-45"]),
        (MANUAL, -44, []),
        (MANUAL, -31, []),
        (MANUAL, -30, ["renewal-reminder@D-30"]),
        (MANUAL, -29, []),
        (MANUAL, -5, []),
        (MANUAL, -4, ["renewal-reminder@D-4"]),
        (MANUAL, -3, []),
        (MANUAL, -1, []),
        (MANUAL, 0, ["subscription-expired"]),
        (MANUAL, 1, []),
        (MANUAL, 14, []),
        (MANUAL, 15, ["subscription-suspended"]),
        (MANUAL, 16, []),
        (MANUAL, 44, []),
        (MANUAL, 45, ["subscription-cancelled"]),
        (MANUAL, 46, []),
        (AUTOMATIC, -90, ["renewal-available"]),
        (AUTOMATIC, -45, []),
        (AUTOMATIC, -31, []),
        (AUTOMATIC, -30, ["auto-renewal-upcoming@D-30"]),
        (AUTOMATIC, -29, []),
        (AUTOMATIC, -4, []),
        (AUTOMATIC, 0, ["subscription-expired"]),
        (facts(term="monthly", renewal_date=D, lapse_date=D), 29, []),
        (facts(term="monthly", renewal_date=D, lapse_date=D), 30, ["subscription-cancelled"]),
        (facts(term="three_year"), 45, ["subscription-cancelled"]),
    ],
)
def test_each_notice_is_due_on_its_day_only(f, offset, expected):
    assert kinds_on(f, D + timedelta(days=offset)) == expected


@pytest.mark.parametrize(
    "f",
    [
        facts(auto_renew=True, payment_method="konbini", has_card=False),
        facts(auto_renew=True, payment_method="card", has_card=False),
        facts(auto_renew=True, payment_method="bank_transfer", has_card=False),
        facts(auto_renew=False),
    ],
)
def test_manual_renewals_get_reminders_not_the_upcoming_charge_notice(f):
    assert kinds_on(f, D - timedelta(days=30)) == ["renewal-reminder@D-30"]
    assert kinds_on(f, D - timedelta(days=4)) == ["renewal-reminder@D-4"]


def test_invoice_auto_renewal_is_announced_as_automatic():
    f = facts(auto_renew=True, purchase_method="invoice", payment_method="invoice", has_card=False)
    assert kinds_on(f, D - timedelta(days=30)) == ["auto-renewal-upcoming@D-30"]
    assert kinds_on(f, D - timedelta(days=45)) == []


@pytest.mark.parametrize(
    "f",
    [
        facts(trial=True),
        facts(purchase_method="partner", payment_method=None, has_card=False),
        facts(sellable=False),
    ],
)
def test_unrenewable_subscriptions_get_no_renewal_offer_or_reminder(f):
    for offset in (-90, -45, -30, -4):
        assert kinds_on(f, D + timedelta(days=offset)) == []


def test_partner_subscription_still_gets_stage_notices():
    f = facts(purchase_method="partner", payment_method=None, has_card=False)
    assert kinds_on(f, D) == ["subscription-expired"]
    assert kinds_on(f, D + timedelta(days=15)) == ["subscription-suspended"]
    assert kinds_on(f, D + timedelta(days=45)) == ["subscription-cancelled"]


def test_trial_is_cancelled_on_d_without_expired_or_suspended_notices():
    f = facts(trial=True)
    assert kinds_on(f, D - timedelta(days=1)) == []
    assert kinds_on(f, D) == ["subscription-cancelled"]
    assert kinds_on(f, D + timedelta(days=15)) == []
    assert kinds_on(f, D + timedelta(days=45)) == []


def test_overdue_invoice_starts_stage_notices_from_the_lapse_date():
    lapse = D - timedelta(days=20)
    f = facts(lapse_date=lapse, purchase_method="invoice", payment_method="invoice", has_card=False)
    assert kinds_on(f, lapse) == ["subscription-expired"]
    assert kinds_on(f, lapse + timedelta(days=15)) == ["subscription-suspended"]
    assert kinds_on(f, lapse + timedelta(days=45)) == ["subscription-cancelled"]


def test_a_notice_already_sent_is_not_sent_again():
    assert kinds_on(MANUAL, D - timedelta(days=30), sent=frozenset({"renewal-reminder@D-30"})) == []


def test_catch_up_after_missed_days_sends_only_the_latest_due_notice():
    today = D + timedelta(days=16)
    since = D - timedelta(days=50)  # missed D-45, D-30, D-4, D and D+15
    due = schedule.due_notices(MANUAL, since=since, today=today, sent=frozenset())
    assert [s.name for s in due] == ["subscription-suspended"]


def test_catch_up_sends_a_late_notice_inside_the_window_once():
    today = D - timedelta(days=40)
    since = D - timedelta(days=50)
    due = schedule.due_notices(MANUAL, since=since, today=today, sent=frozenset())
    assert [s.name for s in due] == ["renewal-reminder@D-45"]
    assert (
        schedule.due_notices(
            MANUAL, since=since, today=today, sent=frozenset({"renewal-reminder@D-45"})
        )
        == []
    )


def test_a_notice_that_fell_due_before_the_window_is_never_sent_late():
    today = D - timedelta(days=40)
    assert (
        schedule.due_notices(MANUAL, since=today - timedelta(days=1), today=today, sent=frozenset())
        == []
    )


def test_a_renewed_term_has_no_notices_left():
    renewed = facts(renewal_date=date(2028, 3, 31), lapse_date=date(2028, 3, 31))
    for offset in range(-100, 50):
        assert kinds_on(renewed, D + timedelta(days=offset)) == []


# -- charges (R12) -------------------------------------------------------------------------------


def charge_on(f, day, made=frozenset(), since=None):
    return schedule.charge_due(
        f,
        since=since or day - timedelta(days=1),
        today=day,
        retry_days=RETRIES,
        attempts_made=frozenset(made),
    )


def test_auto_renewal_is_charged_on_d_and_not_the_day_before():
    assert charge_on(AUTOMATIC, D - timedelta(days=1)) is None
    assert charge_on(AUTOMATIC, D) == 0


@pytest.mark.parametrize(
    ("offset", "made", "expected"),
    [
        (1, {0}, 1),
        (2, {0, 1}, None),
        (3, {0, 1}, 2),
        (4, {0, 1, 2}, None),
        (6, {0, 1, 2}, None),
        (7, {0, 1, 2}, 3),
        (8, {0, 1, 2, 3}, None),
        (20, {0, 1, 2, 3}, None),
    ],
)
def test_failed_charge_is_retried_on_d_plus_1_3_and_7(offset, made, expected):
    assert charge_on(AUTOMATIC, D + timedelta(days=offset), made) == expected


def test_missed_days_make_only_the_latest_scheduled_attempt():
    assert charge_on(AUTOMATIC, D + timedelta(days=5), set(), since=D - timedelta(days=2)) == 2
    assert charge_on(AUTOMATIC, D + timedelta(days=6), {2}) is None
    assert charge_on(AUTOMATIC, D + timedelta(days=7), {2}) == 3


def test_auto_renew_turned_on_while_suspended_is_charged_on_the_next_run():
    assert charge_on(AUTOMATIC, D + timedelta(days=20)) == 3
    assert charge_on(AUTOMATIC, D + timedelta(days=21), {3}) is None


@pytest.mark.parametrize("offset", [44, 45])
def test_no_charge_once_cancelled(offset):
    expected = 3 if offset == 44 else None
    assert charge_on(AUTOMATIC, D + timedelta(days=offset)) == expected


@pytest.mark.parametrize(
    "f",
    [
        MANUAL,
        facts(auto_renew=True, payment_method="konbini", has_card=False),
        facts(auto_renew=True, has_card=False),
        facts(auto_renew=True, trial=True),
        facts(auto_renew=True, purchase_method="partner", has_card=False),
    ],
)
def test_no_automatic_charge_without_auto_renew_online_and_a_saved_card(f):
    assert charge_on(f, D) is None


def test_invoice_auto_renewal_is_invoiced_once_on_d_without_retries():
    f = facts(auto_renew=True, purchase_method="invoice", payment_method="invoice", has_card=False)
    assert charge_on(f, D - timedelta(days=1)) is None
    assert charge_on(f, D) == 0
    assert charge_on(f, D + timedelta(days=1), {0}) is None
    assert charge_on(f, D + timedelta(days=7), {0}) is None


def test_candidate_ranges_cover_every_step_of_the_window():
    since, today = date(2026, 5, 1), date(2026, 5, 4)
    ranges = schedule.candidate_ranges(since, today)
    assert ranges["renewal_date"][0] == (date(2026, 7, 31), date(2026, 8, 2))
    assert ranges["lapse_date"][0] == (date(2026, 5, 2), date(2026, 5, 4))
    assert ranges["lapse_date"][-1] == (date(2026, 3, 18), date(2026, 3, 20))


@given(
    d=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    term=st.sampled_from(["monthly", "annual", "three_year"]),
    auto=st.booleans(),
    trial=st.booleans(),
)
def test_a_daily_run_every_day_sends_each_step_exactly_once(d, term, auto, trial):
    f = facts(renewal_date=d, lapse_date=d, term=term, auto_renew=auto, trial=trial)
    sent: set[str] = set()
    names = []
    day = d - timedelta(days=100)
    while day <= d + timedelta(days=50):
        for step in schedule.due_notices(
            f, since=day - timedelta(days=1), today=day, sent=frozenset(sent)
        ):
            names.append(step.name)
            sent.add(step.name)
        day += timedelta(days=1)
    assert names == [s.name for s in schedule.notice_steps(f)]
    assert len(names) == len(set(names))
