import json
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import priced_subscription

pytestmark = pytest.mark.django_db

D = date(2027, 3, 31)


def show(sub_id, *args):
    out = StringIO()
    call_command("show", sub_id, *args, stdout=out)
    return json.loads(out.getvalue())


def money(amount, currency="EUR"):
    return {"amount": amount, "currency": currency}


@pytest.mark.parametrize(
    ("term", "offset", "stage", "reasons", "kind", "unit", "price"),
    [
        ("annual", -91, "active", ["too_early"], "renewal", "1890.00", "5670.00"),
        ("annual", -90, "active", [], "renewal", "1890.00", "5670.00"),
        ("annual", -1, "active", [], "renewal", "1890.00", "5670.00"),
        ("annual", 0, "expired", [], "list", "2100.00", "6300.00"),
        ("annual", 14, "expired", [], "list", "2100.00", "6300.00"),
        ("annual", 15, "suspended", [], "list", "2100.00", "6300.00"),
        ("annual", 44, "suspended", [], "list", "2100.00", "6300.00"),
        ("annual", 45, "cancelled", ["cancelled"], "list", "2100.00", "6300.00"),
        ("monthly", -1, "active", [], "list", "2100.00", "6300.00"),
        ("monthly", 29, "suspended", [], "list", "2100.00", "6300.00"),
        ("monthly", 30, "cancelled", ["cancelled"], "list", "2100.00", "6300.00"),
    ],
)
def test_show_reports_stage_reasons_window_and_price_on_each_boundary(
    term, offset, stage, reasons, kind, unit, price
):
    # Anchored on the 31st (R1): the monthly term after 31 March ends on 30 April.
    start = date(2027, 1, 31) if term == "monthly" else date(2026, 3, 31)
    sub = priced_subscription(id="SUB-1", term=term, start_date=start, renewal_date=D, seats=3)
    shown = show("SUB-1", "--date", (D + timedelta(days=offset)).isoformat())
    grace = 30 if term == "monthly" else 45
    next_end = date(2027, 4, 30) if term == "monthly" else date(2028, 3, 31)
    assert shown["stage"] == stage
    assert shown["access"] is (stage in ("active", "expired"))
    assert shown["renewal"] == {
        "eligible": not reasons,
        "reasons": reasons,
        "window_opens": (D - timedelta(days=90)).isoformat(),
        "window_closes": (D + timedelta(days=grace - 1)).isoformat(),
        "unit_price": money(unit),
        "price": money(price),
        "price_kind": kind,
        # R21: the seats and term the next term is priced for (no change scheduled here).
        "seats": 3,
        "term": term,
        "next_term": {"start": D.isoformat(), "end": next_end.isoformat()},
    }
    assert shown["purchaser"] == sub.purchaser.email
    assert shown["renewal_date"] == "2027-03-31"


def test_show_prints_the_whole_api_shape_in_jpy_without_decimals():
    sub = priced_subscription(
        id="SUB-JP",
        currency="JPY",
        list_price="52800",
        renewal_price="48000",
        seats=2,
        payment_method="konbini",
        renewal_date=D,
    )
    shown = show("SUB-JP", "--date", "2027-01-15")
    assert shown["payment_method"] == {"type": "konbini", "last4": None}
    assert shown["renewal"]["unit_price"] == money("48000", "JPY")
    assert shown["renewal"]["price"] == money("96000", "JPY")
    # R21: each term of the history says its term (from its dates) and seats (null: a row made
    # by the factory, with no seats recorded).
    assert shown["terms"] == [
        {"start": "2026-03-31", "end": "2027-03-31", "order": None, "seats": None, "term": "annual"}
    ]
    assert shown["csn"] == sub.customer.csn and shown["product"]["code"] == sub.offering.code


def test_show_uses_the_business_clock_without_date(frozen_today):
    priced_subscription(id="SUB-2", renewal_date=D)
    frozen_today(D)
    assert show("SUB-2")["stage"] == "expired"


def test_show_of_an_unknown_id_is_a_clear_error():
    with pytest.raises(CommandError, match="no subscription with id 'NOPE'") as exc:
        call_command("show", "NOPE")
    assert exc.value.returncode == 1


def test_show_with_a_bad_date_is_a_clear_error():
    priced_subscription(id="SUB-3")
    with pytest.raises(
        CommandError, match="--date: '2027-02-30' is not a valid date in the form YYYY-MM-DD"
    ):
        call_command("show", "SUB-3", "--date", "2027-02-30")
