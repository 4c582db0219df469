"""R2 stages, R3 window, R5 eligibility, R6 price kind, R11 auto-renew: pure decisions."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewals.subscriptions import periods, rules
from renewals.subscriptions.rules import ACTIVE, CANCELLED, EXPIRED, STAGES, SUSPENDED

D = date(2027, 3, 31)


def day(offset: int) -> date:
    return D + timedelta(days=offset)


@pytest.mark.parametrize(
    ("term", "offset", "stage"),
    [
        pytest.param(term, offset, stage, id=f"{term}-D{offset:+d}-{stage}")
        for term, grace in [("monthly", 30), ("annual", 45), ("three_year", 45)]
        for offset, stage in [
            (-365, ACTIVE),
            (-1, ACTIVE),
            (0, EXPIRED),
            (14, EXPIRED),
            (15, SUSPENDED),
            (grace - 1, SUSPENDED),
            (grace, CANCELLED),
            (grace + 1000, CANCELLED),
        ]
    ]
    + [
        pytest.param("annual", 29, SUSPENDED, id="annual-D+29-still-suspended"),
        pytest.param("annual", 30, SUSPENDED, id="annual-D+30-still-suspended"),
        pytest.param("monthly", 44, CANCELLED, id="monthly-D+44-cancelled"),
    ],
)
def test_stage_follows_the_days_since_the_renewal_date(term, offset, stage):
    assert rules.stage_on(D, term, trial=False, today=day(offset)) == stage


@pytest.mark.parametrize(
    ("offset", "stage"),
    [(-1, ACTIVE), (0, CANCELLED), (1, CANCELLED), (14, CANCELLED), (60, CANCELLED)],
    ids=["D-1", "D", "D+1", "D+14", "D+60"],
)
@pytest.mark.parametrize("term", ["monthly", "annual", "three_year"])
def test_a_trial_is_active_until_d_and_cancelled_from_d(term, offset, stage):
    assert rules.stage_on(D, term, trial=True, today=day(offset)) == stage


@pytest.mark.parametrize(
    ("offset", "stage"),
    [(-1, ACTIVE), (0, EXPIRED), (14, EXPIRED), (15, SUSPENDED), (44, SUSPENDED), (45, CANCELLED)],
    ids=["due-1", "due", "due+14", "due+15", "due+44", "due+45"],
)
def test_an_overdue_invoice_starts_the_expiry_process_at_its_due_date(offset, stage):
    due = D - timedelta(days=20)  # the lapse date, earlier than D (R9)
    assert rules.stage_on(due, "annual", trial=False, today=due + timedelta(days=offset)) == stage


def test_stage_dates_give_the_first_day_of_each_stage():
    assert rules.stage_dates(D, "monthly", trial=False) == {
        EXPIRED: D,
        SUSPENDED: day(15),
        CANCELLED: day(30),
    }
    assert rules.stage_dates(D, "three_year", trial=False)[CANCELLED] == day(45)
    assert rules.stage_dates(D, "annual", trial=True) == {CANCELLED: D}


@pytest.mark.parametrize(
    ("stage", "access"), [(ACTIVE, True), (EXPIRED, True), (SUSPENDED, False), (CANCELLED, False)]
)
def test_product_access_ends_with_suspension(stage, access):
    assert rules.has_access(stage) is access


@pytest.mark.parametrize(
    ("term", "last_day"),
    [("monthly", date(2027, 4, 29)), ("annual", date(2027, 5, 14)), ("three_year", day(44))],
)
def test_the_window_opens_at_d_minus_90_and_closes_the_day_before_cancellation(term, last_day):
    assert rules.window_opens(D) == date(2026, 12, 31)
    assert rules.window_closes(D, term) == last_day
    assert rules.stage_on(D, term, trial=False, today=last_day) == SUSPENDED
    assert rules.stage_on(D, term, trial=False, today=last_day + timedelta(days=1)) == CANCELLED


def eligibility(today=D, *, renewal_date=D, lapse_date=None, term="annual", **overrides):
    lapse_date = lapse_date or renewal_date
    values = dict(
        is_purchaser=True,
        purchase_method="online",
        trial=False,
        payment_pending=False,
        sellable=True,
    )
    values.update(overrides)
    stage = values.pop("stage", None) or rules.stage_on(
        lapse_date, term, trial=values["trial"], today=today
    )
    return rules.renewal_eligibility(
        stage=stage,
        renewal_date=renewal_date,
        lapse_date=lapse_date,
        term=term,
        today=today,
        **values,
    )


@pytest.mark.parametrize(
    ("term", "offset", "reasons"),
    [
        pytest.param("annual", -91, ("too_early",), id="D-91-too-early"),
        pytest.param("annual", -90, (), id="D-90-opens"),
        pytest.param("annual", -1, (), id="D-1"),
        pytest.param("annual", 0, (), id="D-expired"),
        pytest.param("annual", 44, (), id="annual-D+44-last-day"),
        pytest.param("annual", 45, ("cancelled",), id="annual-D+45-cancelled"),
        pytest.param("three_year", 44, (), id="three-year-D+44-last-day"),
        pytest.param("three_year", 45, ("cancelled",), id="three-year-D+45-cancelled"),
        pytest.param("monthly", 29, (), id="monthly-D+29-last-day"),
        pytest.param("monthly", 30, ("cancelled",), id="monthly-D+30-cancelled"),
    ],
)
def test_the_renewal_window_runs_from_d_minus_90_until_cancellation(term, offset, reasons):
    result = eligibility(day(offset), term=term)
    assert result.reasons == reasons
    assert result.eligible is (reasons == ())
    assert result.window_opens == date(2026, 12, 31)


def test_every_failing_reason_is_reported_at_once_in_a_stable_order():
    result = eligibility(
        day(-200),
        is_purchaser=False,
        purchase_method="partner",
        trial=True,
        stage=CANCELLED,  # not reachable with too_early in practice: each condition is independent
        payment_pending=True,
        sellable=False,
    )
    assert result.eligible is False
    assert result.reasons == (
        "not_purchaser",
        "partner_managed",
        "trial",
        "cancelled",
        "too_early",
        "payment_pending",
        "not_sellable",
    )
    assert result.window_opens == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("overrides", "reasons"),
    [
        pytest.param({"is_purchaser": False}, ("not_purchaser",), id="admin-not-purchaser"),
        pytest.param({"purchase_method": "partner"}, ("partner_managed",), id="partner"),
        pytest.param({"purchase_method": "invoice"}, (), id="invoice-purchase-renews"),
        pytest.param({"trial": True}, ("trial",), id="trial-before-d"),
        pytest.param({"payment_pending": True}, ("payment_pending",), id="payment-pending"),
        pytest.param({"sellable": False}, ("not_sellable",), id="no-active-price"),
        pytest.param(
            {"is_purchaser": False, "sellable": False},
            ("not_purchaser", "not_sellable"),
            id="two-reasons",
        ),
    ],
)
def test_each_condition_of_r5_has_its_own_reason(overrides, reasons):
    assert eligibility(day(-10), **overrides).reasons == reasons


def test_a_trial_on_its_renewal_date_is_both_trial_and_cancelled():
    assert eligibility(D, trial=True).reasons == ("trial", "cancelled")


@pytest.mark.parametrize("term", ["monthly", "annual", "three_year"])
def test_a_trials_window_closes_the_day_before_its_renewal_date(term):
    assert rules.window_closes(D, term, trial=True) == day(-1)
    assert eligibility(day(-1), term=term, trial=True).window_closes == day(-1)


def test_an_overdue_invoice_closes_the_window_earlier_but_the_opening_stays_at_d_minus_90():
    due = D - timedelta(days=50)
    result = eligibility(due + timedelta(days=45), lapse_date=due)
    assert result.reasons == ("cancelled",)
    assert result.window_closes == due + timedelta(days=44)
    assert result.window_opens == date(2026, 12, 31)


def auto_renew(**overrides):
    values = dict(
        turn_on=True,
        is_purchaser=True,
        purchase_method="online",
        trial=False,
        stage=ACTIVE,
        payment_method="card",
    )
    values.update(overrides)
    return rules.auto_renew_change_reasons(**values)


@pytest.mark.parametrize(
    ("overrides", "reasons"),
    [
        pytest.param({}, (), id="card-on"),
        pytest.param({"turn_on": False}, (), id="card-off"),
        pytest.param({"stage": EXPIRED}, (), id="expired-may-turn-on"),
        pytest.param({"stage": SUSPENDED}, (), id="suspended-may-turn-on"),
        pytest.param({"stage": CANCELLED}, ("cancelled",), id="cancelled"),
        pytest.param({"stage": CANCELLED, "turn_on": False}, ("cancelled",), id="cancelled-off"),
        pytest.param({"is_purchaser": False}, ("not_purchaser",), id="admin"),
        pytest.param(
            {"purchase_method": "partner", "payment_method": None},
            ("partner_managed", "payment_method_not_recurring"),
            id="partner",
        ),
        pytest.param({"trial": True}, ("trial",), id="trial"),
        pytest.param(
            {"payment_method": "konbini"}, ("payment_method_not_recurring",), id="konbini-on"
        ),
        pytest.param(
            {"payment_method": "bank_transfer"},
            ("payment_method_not_recurring",),
            id="bank-transfer-on",
        ),
        pytest.param({"payment_method": "konbini", "turn_on": False}, (), id="konbini-off"),
        pytest.param({"payment_method": None}, ("payment_method_not_recurring",), id="none-on"),
        pytest.param(
            {"purchase_method": "invoice", "payment_method": "invoice"},
            (),
            id="invoice-purchase-on-is-invoiced-on-d",
        ),
        pytest.param(
            {"is_purchaser": False, "trial": True, "payment_method": "konbini"},
            ("not_purchaser", "trial", "payment_method_not_recurring"),
            id="every-reason",
        ),
    ],
)
def test_auto_renew_change_reasons(overrides, reasons):
    assert auto_renew(**overrides) == reasons


@pytest.mark.parametrize(
    ("term", "offset", "automatic", "kind"),
    [
        pytest.param("monthly", -30, False, "list", id="monthly-early-list"),
        pytest.param("monthly", -30, True, "list", id="monthly-automatic-list"),
        pytest.param("annual", -90, False, "renewal", id="annual-D-90-renewal"),
        pytest.param("annual", -1, False, "renewal", id="annual-D-1-renewal"),
        pytest.param("annual", 0, False, "list", id="annual-D-list"),
        pytest.param("annual", 20, False, "list", id="annual-suspended-list"),
        pytest.param("annual", 0, True, "renewal", id="annual-automatic-D-renewal"),
        pytest.param("annual", 7, True, "renewal", id="annual-retry-D+7-renewal"),
        pytest.param("three_year", -1, False, "renewal", id="three-year-D-1-renewal"),
        pytest.param("three_year", 0, False, "list", id="three-year-D-list"),
    ],
)
def test_price_kind(term, offset, automatic, kind):
    assert rules.price_kind(term=term, renewal_date=D, automatic=automatic, today=day(offset)) == (
        kind
    )


# Properties --------------------------------------------------------------------------------


@given(
    lapse=st.dates(min_value=date(2000, 1, 1), max_value=date(2080, 1, 1)),
    term=st.sampled_from(["monthly", "annual", "three_year"]),
    trial=st.booleans(),
    a=st.integers(min_value=-400, max_value=400),
    b=st.integers(min_value=-400, max_value=400),
)
def test_stage_never_goes_back_in_time(lapse, term, trial, a, b):
    earlier, later = sorted((a, b))
    first = rules.stage_on(lapse, term, trial=trial, today=lapse + timedelta(days=earlier))
    second = rules.stage_on(lapse, term, trial=trial, today=lapse + timedelta(days=later))
    assert STAGES.index(first) <= STAGES.index(second)
    if first == CANCELLED:
        assert second == CANCELLED


@given(
    renewal_date=st.dates(min_value=date(2000, 1, 1), max_value=date(2080, 1, 1)),
    term=st.sampled_from(["annual", "three_year"]),
    late=st.integers(min_value=-90, max_value=44),
)
def test_an_annual_or_three_year_renewal_anywhere_in_the_window_makes_it_active(
    renewal_date, term, late
):
    today = renewal_date + timedelta(days=late)
    new_d = periods.next_renewal_date(renewal_date, term, renewal_date.day)
    assert rules.stage_on(new_d, term, trial=False, today=today) == ACTIVE


@pytest.mark.parametrize(
    ("renewal_date", "paid_on", "stage"),
    [
        pytest.param(date(2027, 1, 31), date(2027, 2, 27), ACTIVE, id="D+27-active"),
        pytest.param(date(2027, 1, 31), date(2027, 2, 28), EXPIRED, id="D+28-term-already-over"),
        pytest.param(date(2027, 1, 31), date(2027, 3, 1), EXPIRED, id="D+29-last-day"),
        pytest.param(date(2028, 1, 31), date(2028, 2, 28), ACTIVE, id="leap-D+28-active"),
        pytest.param(date(2028, 1, 31), date(2028, 2, 29), EXPIRED, id="leap-D+29-last-day"),
    ],
)
def test_a_monthly_renewal_paid_at_the_end_of_grace_can_buy_a_term_already_over(
    renewal_date, paid_on, stage
):
    # R4: paying late gives no free days. With a 28-day February, [31 Jan, 28 Feb) may be over
    # by the time it is paid, so the subscription stays expired (with access) for the new term.
    new_d = periods.next_renewal_date(renewal_date, "monthly", 31)
    assert rules.stage_on(new_d, "monthly", trial=False, today=paid_on) == stage
