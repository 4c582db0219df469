"""Exact money: ISO 4217 exponents, half-up rounding, never a float."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewals.core.money import (
    Money,
    MoneyError,
    exponent,
    format_money,
    from_minor,
    is_currency,
    money,
    money_json,
    quantize,
    to_minor,
    zero,
)


@pytest.mark.parametrize(
    ("currency", "digits"),
    [
        ("JPY", 0),
        ("KRW", 0),
        ("EUR", 2),
        ("USD", 2),
        ("GBP", 2),
        ("KWD", 3),
        ("BHD", 3),
        ("IQD", 3),  # CLDR says 0 for display; ISO 4217 says 3
        ("RSD", 2),  # CLDR says 0; ISO 4217 says 2
        ("CLF", 4),
    ],
)
def test_exponent_is_the_iso_4217_minor_unit(currency, digits):
    assert exponent(currency) == digits


@pytest.mark.parametrize("code", ["eur", "EURO", "XYZ", "", None, 978])
def test_an_unknown_currency_code_is_refused(code):
    assert is_currency(code) is False
    with pytest.raises(MoneyError, match="is not an ISO 4217 currency code"):
        money("1", code)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        pytest.param("1.005", "EUR", "1.01", id="eur-half-up"),
        pytest.param("1.004", "EUR", "1.00", id="eur-down"),
        pytest.param("2.5", "JPY", "3", id="jpy-half-up"),
        pytest.param("3.5", "JPY", "4", id="jpy-half-up-odd"),
        pytest.param("-2.5", "JPY", "-3", id="jpy-negative-away-from-zero"),
        pytest.param("1.0005", "KWD", "1.001", id="kwd-half-up"),
        pytest.param(" 12.3 ", "EUR", "12.30", id="string-with-spaces"),
        pytest.param(Decimal("52800"), "JPY", "52800", id="decimal"),
        pytest.param(52800, "JPY", "52800", id="int"),
        pytest.param(7, "KWD", "7.000", id="int-kwd"),
        pytest.param("-0.004", "EUR", "0.00", id="no-negative-zero"),
        pytest.param("-0", "JPY", "0", id="no-negative-zero-jpy"),
        pytest.param("-0.005", "EUR", "-0.01", id="negative-half-up"),
    ],
)
def test_money_is_quantized_half_up_to_the_currency_exponent(amount, currency, expected):
    value = money(amount, currency)
    assert isinstance(value, Money)
    assert str(value.amount) == expected
    assert value.currency.code == currency


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        pytest.param(1.1, "never floats", id="float"),
        pytest.param(True, "not an amount", id="bool"),
        pytest.param("1,5", "not a decimal amount", id="comma"),
        pytest.param("", "not a decimal amount", id="empty"),
        pytest.param(None, "not a decimal amount", id="none"),
        pytest.param([1], "not a decimal amount", id="list"),
        pytest.param("NaN", "not a finite amount", id="nan"),
        pytest.param("Infinity", "not a finite amount", id="infinity"),
        pytest.param("1e40", "too large", id="too-large"),
    ],
)
def test_money_refuses_what_is_not_an_exact_amount(amount, message):
    with pytest.raises(MoneyError, match=message):
        money(amount, "EUR")


def test_money_error_is_a_value_error():
    assert issubclass(MoneyError, ValueError)


@pytest.mark.parametrize(
    ("value", "units"),
    [
        (money("12.34", "EUR"), 1234),
        (money("0.01", "USD"), 1),
        (money("52800", "JPY"), 52800),
        (money("1.234", "KWD"), 1234),
        (money("0", "EUR"), 0),
    ],
    ids=str,
)
def test_minor_units_round_trip(value, units):
    assert to_minor(value) == units
    assert from_minor(units, value.currency.code) == value


def test_to_minor_quantizes_a_money_built_outside_the_helper():
    assert to_minor(Money(Decimal("12.345"), "EUR")) == 1235


@pytest.mark.parametrize("units", [12.5, "1234", True, Decimal("12")])
def test_from_minor_takes_only_whole_numbers(units):
    with pytest.raises(MoneyError, match="not a whole number of minor units"):
        from_minor(units, "EUR")


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        (money("1234", "EUR"), {"amount": "1234.00", "currency": "EUR"}),
        (money("52800", "JPY"), {"amount": "52800", "currency": "JPY"}),
        (money("1.5", "KWD"), {"amount": "1.500", "currency": "KWD"}),
        (Money(Decimal("9.999"), "EUR"), {"amount": "10.00", "currency": "EUR"}),
        (None, None),
    ],
    ids=str,
)
def test_money_json_is_the_api_shape(value, shape):
    assert money_json(value) == shape


def test_zero_has_the_currency_exponent():
    assert str(zero("EUR").amount) == "0.00"
    assert str(zero("JPY").amount) == "0"
    assert str(zero("KWD").amount) == "0.000"


def test_quantize_rounds_half_up_not_half_even():
    assert quantize(Decimal("0.125"), "EUR") == Decimal("0.13")
    assert quantize(Decimal("0.5"), "JPY") == Decimal("1")


@pytest.mark.parametrize(
    ("amount", "currency", "language", "text"),
    [
        pytest.param("1890", "EUR", "fr", "1\u202f890,00\u00a0€", id="fr-eur"),
        pytest.param("1890", "USD", "en", "$1,890.00", id="en-usd"),
        pytest.param("1890", "EUR", "en", "€1,890.00", id="en-eur"),
        pytest.param("52800", "JPY", "ja", "￥52,800", id="ja-jpy"),
        pytest.param("52800", "JPY", "en", "¥52,800", id="en-jpy"),
        pytest.param("52800", "JPY", "fr", "52\u202f800\u00a0JPY", id="fr-jpy"),
        pytest.param("1.5", "KWD", "en", "KWD1.500", id="en-kwd"),
        pytest.param("1.5", "IQD", "en", "IQD1.500", id="en-iqd-keeps-iso-digits"),
        pytest.param("1500", "RSD", "fr", "1\u202f500,00\u00a0RSD", id="fr-rsd-keeps-iso-digits"),
        pytest.param("1890", "USD", "en-gb", "$1,890.00", id="region-falls-back"),
        pytest.param("1890", "USD", "xx", "$1,890.00", id="unknown-language"),
        pytest.param("1890", "USD", "", "$1,890.00", id="no-language"),
    ],
)
def test_format_money_for_people(amount, currency, language, text):
    assert format_money(money(amount, currency), language) == text


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_money_never_accepts_a_float(amount):
    with pytest.raises(MoneyError):
        money(amount, "EUR")


@given(
    st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, allow_infinity=False),
    st.sampled_from(["JPY", "EUR", "USD", "KWD"]),
)
def test_money_always_has_its_currency_exponent_and_is_within_half_a_unit(amount, currency):
    value = money(amount, currency)
    unit = Decimal(1).scaleb(-exponent(currency))
    assert value.amount.as_tuple().exponent == -exponent(currency)
    assert abs(value.amount - amount) <= unit / 2


@pytest.mark.parametrize("text", ["0.00", "-0.00", "1890.0", "1890.00", "-5", "52800"])
@pytest.mark.parametrize("language", ["en", "fr", "ja"])
def test_cached_money_formatting_answers_what_formatting_answers(text, language):
    """The daily run formats amounts through a cache keyed by the amount's exact text (-0 is
    not 0 for it): the cached answer is the computed one."""
    from moneyed import Money

    from renewals.core.money import _format_amount

    value = Money(Decimal(text), "EUR")
    format_money(Money(Decimal(text.lstrip("-")), "EUR"), language)  # an equal Decimal first
    assert format_money(value, language) == _format_amount.__wrapped__(text, "EUR", language)
