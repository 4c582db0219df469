"""Exact money: a py-moneyed `Money` quantized to its currency's ISO 4217 exponent.

Amounts are `Decimal`, rounded half-up (JPY 0 decimals, EUR 2, KWD 3); never `float`. Integer
minor units appear only at the payment-gateway boundary (`to_minor` / `from_minor`).
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache

from babel import Locale
from babel.numbers import format_currency, get_currency_precision, list_currencies
from moneyed import Money

__all__ = [
    "Money",
    "MoneyError",
    "exact_money",
    "exponent",
    "format_money",
    "from_minor",
    "is_currency",
    "money",
    "money_json",
    "quantize",
    "to_minor",
    "zero",
]


class MoneyError(ValueError):
    pass


@cache
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def is_currency(code: str) -> bool:
    """Tell whether `code` is an ISO 4217 currency code (upper case, e.g. EUR)."""
    return isinstance(code, str) and code.isupper() and code in _currencies()


# CLDR (what Babel knows) rounds these currencies for display with fewer digits than their
# ISO 4217 minor unit; amounts are exact to the ISO exponent, so ISO wins here.
ISO_EXPONENTS_DIFFERING_FROM_CLDR = {
    "AFN": 2,
    "ALL": 2,
    "IQD": 3,
    "IRR": 2,
    "KPW": 2,
    "LAK": 2,
    "LBP": 2,
    "MGA": 2,
    "MMK": 2,
    "RSD": 2,
    "SOS": 2,
    "SYP": 2,
    "YER": 2,
}


@cache
def exponent(currency: str) -> int:
    """Return the number of decimals of `currency` (ISO 4217): JPY 0, EUR 2, KWD 3."""
    if not is_currency(currency):
        raise MoneyError(f"{currency!r} is not an ISO 4217 currency code")
    return ISO_EXPONENTS_DIFFERING_FROM_CLDR.get(currency, get_currency_precision(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round `amount` half-up to the exponent of `currency`."""
    try:
        return amount.quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        # More digits than the decimal context holds (28): no real price is that large.
        raise MoneyError(f"{amount} {currency} is too large an amount") from None


def money(amount, currency: str) -> Money:
    """Build an exact Money from a Decimal, int or decimal string (never a float)."""
    if isinstance(amount, float):
        raise MoneyError("money amounts are never floats")
    if isinstance(amount, bool):
        raise MoneyError("a true/false value is not an amount")
    try:
        value = Decimal(amount.strip() if isinstance(amount, str) else amount)
    except (InvalidOperation, TypeError, ValueError):
        raise MoneyError(f"{amount!r} is not a decimal amount") from None
    if not value.is_finite():
        raise MoneyError(f"{amount!r} is not a finite amount")
    exact = quantize(value, currency)
    # -0.004 EUR rounds to -0.00; nobody should ever read "-0.00" on a page or an invoice.
    return Money(exact.copy_abs() if exact.is_zero() else exact, currency)


def exact_money(amount, currency: str) -> Money:
    """Build a Money from outside input that must already be exact: never rounded (webhooks).

    Refuses (MoneyError) what `money` refuses, and also a negative amount or one with more
    decimals than the currency has (JPY 12000.5, EUR 10.001): such an amount is no payment.
    """
    value = money(amount, currency)
    raw = Decimal(amount.strip() if isinstance(amount, str) else amount)
    if raw != value.amount:
        raise MoneyError(f"{amount!r} has more decimals than {currency} allows")
    if value.amount < 0:
        raise MoneyError(f"{amount!r} is negative")
    return value


def zero(currency: str) -> Money:
    """Return nothing in `currency`, at its exponent (JPY 0, EUR 0.00)."""
    return money(0, currency)


def to_minor(value: Money) -> int:
    """Return the amount in integer minor units (for gateways): EUR 12.34 → 1234, JPY 500 → 500."""
    code = value.currency.code
    return int(quantize(value.amount, code).scaleb(exponent(code)))


def from_minor(units: int, currency: str) -> Money:
    """Build a Money from integer minor units (from gateways): 1234 EUR → EUR 12.34."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise MoneyError(f"{units!r} is not a whole number of minor units")
    return money(Decimal(units).scaleb(-exponent(currency)), currency)


def money_json(value: Money | None) -> dict | None:
    """Return the API shape {"amount": "1234.00", "currency": "EUR"}."""
    if value is None:
        return None
    code = value.currency.code
    return {"amount": str(quantize(value.amount, code)), "currency": code}


# The portal's languages; anything else (a stray header, "en-gb") falls back to English.
MONEY_LOCALES = {"en": "en_US", "fr": "fr_FR", "ja": "ja_JP"}


def format_money(value: Money, language: str = "en") -> str:
    """Format for people in a language: fr `1 890,00 €`, en `$1,890.00`, ja `￥52,800`."""
    # Keyed by the amount's exact text (not the Decimal: -0 equals 0, 1.0 equals 1.00).
    return _format_amount(str(value.amount), value.currency.code, (language or "en")[:2])


@lru_cache(maxsize=4096)  # pure: a digest run formats the same few amounts thousands of times
def _format_amount(text: str, code: str, language: str) -> str:
    locale = MONEY_LOCALES.get(language, "en_US")
    amount = quantize(Decimal(text), code)
    if exponent(code) == get_currency_precision(code):
        return format_currency(amount, code, locale=locale, currency_digits=True)
    # CLDR would round IQD 1.500 to "IQD 2" on display; show every ISO digit instead.
    digits = exponent(code)
    pattern = re.sub(
        r"\.0+",
        "." + "0" * digits if digits else "",
        Locale.parse(locale).currency_formats["standard"].pattern,
    )
    return format_currency(amount, code, format=pattern, locale=locale, currency_digits=False)
