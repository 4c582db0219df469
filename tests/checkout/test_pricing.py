"""R6 prices and tax, R9 payment methods of a cart group: exact money, pure decisions."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewals.checkout import pricing
from renewals.checkout.pricing import REVERSE_CHARGE_NOTE, TaxDecision
from renewals.core.money import exponent, money


def m(amount: str, currency: str):
    return money(Decimal(amount), currency)


def exact_in_currency(value) -> bool:
    return value.amount.as_tuple().exponent == -exponent(value.currency.code)


@pytest.mark.parametrize(
    ("unit", "currency", "seats", "expected"),
    [
        pytest.param("52800", "JPY", 3, "158400", id="jpy"),
        pytest.param("1890.00", "EUR", 3, "5670.00", id="eur"),
        pytest.param("0.10", "EUR", 7, "0.70", id="eur-cents"),
        pytest.param("1.234", "KWD", 3, "3.702", id="kwd-three-decimals"),
        pytest.param("99.99", "USD", 100, "9999.00", id="usd-hundred-seats"),
    ],
)
def test_line_amount_is_unit_price_times_seats_in_the_currency_exponent(
    unit, currency, seats, expected
):
    amount = pricing.line_amount(m(unit, currency), seats)
    assert amount == m(expected, currency)
    assert str(amount.amount) == expected


@pytest.mark.parametrize("seats", [0, -1])
def test_line_amount_refuses_fewer_than_one_seat(seats):
    with pytest.raises(ValueError, match="at least 1"):
        pricing.line_amount(m("10.00", "EUR"), seats)


@pytest.mark.parametrize(
    ("lines", "currency", "rate", "subtotal", "tax", "total"),
    [
        pytest.param(["1234"] * 3, "JPY", "0.10", "3702", "370", "4072", id="jpy-10pct"),
        pytest.param(["1005"], "JPY", "0.10", "1005", "101", "1106", id="jpy-half-up"),
        pytest.param(["52800", "26400"], "JPY", "0.10", "79200", "7920", "87120", id="jpy-even"),
        pytest.param(["10.03"] * 3, "EUR", "0.20", "30.09", "6.02", "36.11", id="eur-20pct"),
        pytest.param(["0.25"], "EUR", "0.10", "0.25", "0.03", "0.28", id="eur-half-up"),
        pytest.param(["1890.00"], "EUR", "0", "1890.00", "0.00", "1890.00", id="eur-zero-rate"),
        pytest.param(["1.005"], "KWD", "0.10", "1.005", "0.101", "1.106", id="kwd-half-up"),
        pytest.param(["0.333"] * 3, "KWD", "0.15", "0.999", "0.150", "1.149", id="kwd-three"),
        pytest.param([], "EUR", "0.20", "0.00", "0.00", "0.00", id="empty-eur"),
        pytest.param([], "JPY", "0.10", "0", "0", "0", id="empty-jpy"),
    ],
)
def test_order_totals_tax_the_subtotal_once_rounded_half_up(
    lines, currency, rate, subtotal, tax, total
):
    totals = pricing.order_totals([m(a, currency) for a in lines], currency, Decimal(rate))
    assert (str(totals.subtotal.amount), str(totals.tax.amount), str(totals.total.amount)) == (
        subtotal,
        tax,
        total,
    )
    assert {t.currency.code for t in (totals.subtotal, totals.tax, totals.total)} == {currency}


@pytest.mark.parametrize(
    ("line", "currency", "rate", "per_order_tax", "per_line_tax"),
    [
        # Three lines of ¥1,234 at 10%: 370.2 → ¥370 on the subtotal, but 3 × 123 = ¥369.
        pytest.param("1234", "JPY", "0.10", "370", "369", id="jpy"),
        # Three lines of €10.03 at 20%: 6.018 → €6.02 on the subtotal, but 3 × 2.01 = €6.03.
        pytest.param("10.03", "EUR", "0.20", "6.02", "6.03", id="eur"),
    ],
)
def test_tax_is_rounded_once_on_the_subtotal_not_per_line(
    line, currency, rate, per_order_tax, per_line_tax
):
    lines = [m(line, currency)] * 3
    totals = pricing.order_totals(lines, currency, Decimal(rate))
    rounded_per_line = sum(m(str(a.amount * Decimal(rate)), currency).amount for a in lines)
    assert str(totals.tax.amount) == per_order_tax
    assert str(rounded_per_line) == per_line_tax  # what the rule forbids, for contrast


def test_an_order_never_mixes_currencies():
    with pytest.raises(ValueError, match="never mixes currencies"):
        pricing.order_totals([m("10.00", "EUR"), m("10.00", "USD")], "EUR", Decimal("0.2"))


RATES = {"FR": Decimal("0.20"), "DE": Decimal("0.19"), "JP": Decimal("0.10"), "GB": Decimal("0.20")}


@pytest.mark.parametrize(
    ("country", "validated", "seller", "decision"),
    [
        pytest.param("DE", True, "FR", TaxDecision(Decimal(0), True), id="eu-b2b-reverse-charge"),
        pytest.param("BE", True, "FR", TaxDecision(Decimal(0), True), id="eu-no-rate-row"),
        pytest.param("DE", False, "FR", TaxDecision(Decimal("0.19"), False), id="unvalidated"),
        pytest.param("FR", True, "FR", TaxDecision(Decimal("0.20"), False), id="same-country"),
        pytest.param("JP", True, "FR", TaxDecision(Decimal("0.10"), False), id="non-eu-rate"),
        pytest.param("GB", True, "FR", TaxDecision(Decimal("0.20"), False), id="uk-not-eu"),
        pytest.param("US", False, "FR", TaxDecision(Decimal(0), False), id="no-rate-is-zero"),
        pytest.param("DE", True, "JP", TaxDecision(Decimal("0.19"), False), id="non-eu-seller"),
        pytest.param("de", True, "fr", TaxDecision(Decimal(0), True), id="lower-case-codes"),
        pytest.param("fr", False, "FR", TaxDecision(Decimal("0.20"), False), id="lower-case-rate"),
    ],
)
def test_tax_decision_applies_the_eu_reverse_charge_only_across_eu_borders(
    country, validated, seller, decision
):
    assert (
        pricing.tax_decision(
            customer_country=country, vat_id_validated=validated, seller_country=seller, rates=RATES
        )
        == decision
    )


def test_the_reverse_charge_note_cites_the_directive():
    assert "Art. 196" in REVERSE_CHARGE_NOTE
    assert "2006/112/EC" in REVERSE_CHARGE_NOTE


@pytest.mark.parametrize(
    ("currency", "total", "purchase_method", "invoice_customer", "methods"),
    [
        pytest.param("JPY", "119", "online", False, ["card", "bank_transfer"], id="jpy-119"),
        pytest.param(
            "JPY", "120", "online", False, ["card", "konbini", "bank_transfer"], id="jpy-120"
        ),
        pytest.param(
            "JPY", "300000", "online", False, ["card", "konbini", "bank_transfer"], id="jpy-300000"
        ),
        pytest.param("JPY", "300001", "online", False, ["card", "bank_transfer"], id="jpy-300001"),
        pytest.param("EUR", "150.00", "online", False, ["card"], id="eur-card-only"),
        pytest.param("USD", "150.00", "online", True, ["card", "invoice"], id="invoice-customer"),
        pytest.param("EUR", "150.00", "invoice", False, ["card", "invoice"], id="invoice-group"),
        pytest.param(
            "JPY",
            "5000",
            "invoice",
            True,
            ["card", "konbini", "bank_transfer", "invoice"],
            id="jpy-everything",
        ),
    ],
)
def test_payment_methods_for_group(currency, total, purchase_method, invoice_customer, methods):
    assert (
        pricing.payment_methods_for_group(
            currency=currency,
            purchase_method=purchase_method,
            total=m(total, currency),
            invoice_customer=invoice_customer,
        )
        == methods
    )


# Properties --------------------------------------------------------------------------------

currencies = st.sampled_from(["JPY", "EUR", "USD", "KWD"])


@given(
    currency=currencies,
    units=st.lists(st.integers(min_value=0, max_value=10**9), max_size=100),
    seats=st.integers(min_value=1, max_value=500),
    rate=st.sampled_from(["0", "0.05", "0.08", "0.10", "0.19", "0.20", "0.255"]),
)
def test_totals_are_the_sum_of_lines_plus_tax_in_the_currency_exponent(
    currency, units, seats, rate
):
    scale = Decimal(1).scaleb(-exponent(currency))
    lines = [pricing.line_amount(money(u * scale, currency), seats) for u in units]
    totals = pricing.order_totals(lines, currency, Decimal(rate))
    assert totals.subtotal.amount == sum((a.amount for a in lines), Decimal(0))
    assert totals.total.amount == totals.subtotal.amount + totals.tax.amount
    assert abs(totals.tax.amount - totals.subtotal.amount * Decimal(rate)) <= scale / 2
    assert all(exact_in_currency(v) for v in [*lines, totals.subtotal, totals.tax, totals.total])
