"""What renewals cost (R6): pure functions on exact money, no database, clock or settings."""

from dataclasses import dataclass
from decimal import Decimal

from renewals.core.money import Money, money, quantize, zero

EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT to be accounted for by the recipient (Art. 196, Directive 2006/112/EC)."
)


def line_amount(unit_price: Money, seats: int) -> Money:
    """Return unit price × seats, exact in the currency's exponent."""
    if seats < 1:
        raise ValueError("seats must be at least 1")
    return money(unit_price.amount * seats, unit_price.currency.code)


@dataclass(frozen=True)
class TaxDecision:
    rate: Decimal
    reverse_charge: bool


def tax_decision(
    *, customer_country: str, vat_id_validated: bool, seller_country: str, rates: dict[str, Decimal]
) -> TaxDecision:
    """Decide the tax rate of an order (R6).

    A customer with a validated EU VAT id in another EU country than the seller's is charged 0%
    under the reverse-charge rule; everyone else pays the rate of their country (0 if none).
    """
    customer_country, seller_country = customer_country.upper(), seller_country.upper()
    if (
        vat_id_validated
        and customer_country in EU_COUNTRIES
        and seller_country in EU_COUNTRIES
        and customer_country != seller_country
    ):
        return TaxDecision(rate=Decimal(0), reverse_charge=True)
    return TaxDecision(rate=rates.get(customer_country, Decimal(0)), reverse_charge=False)


def tax_percent(rate: Decimal) -> str:
    """Write a tax rate as people read it: 0.2 → "20", 0.085 → "8.5", 0 → "0"."""
    return f"{rate * 100:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Totals:
    subtotal: Money
    tax: Money
    total: Money


def order_totals(amounts: list[Money], currency: str, rate: Decimal) -> Totals:
    """Sum the lines and tax the subtotal once, rounded half-up to the currency (R6).

    Tax is computed once per order and rate on the subtotal — not per line — as the Japanese
    qualified-invoice rules require.
    """
    subtotal = zero(currency)
    for amount in amounts:
        if amount.currency.code != currency:
            raise ValueError("an order never mixes currencies")
        subtotal += amount
    tax = money(quantize(subtotal.amount * rate, currency), currency)
    return Totals(
        subtotal=money(subtotal.amount, currency),
        tax=tax,
        total=money(subtotal.amount + tax.amount, currency),
    )


KONBINI_MIN = Decimal(120)
KONBINI_MAX = Decimal(300_000)


def payment_methods_for_group(
    *, currency: str, purchase_method: str, total: Money, invoice_customer: bool
) -> list[str]:
    """Return the payment methods a cart group may be paid with (R9), in display order.

    Konbini is JPY only, ¥120–¥300,000 per order; bank transfer is JPY only; invoice only for a
    customer that already has a subscription paid by invoice (or an invoice purchase method).
    """
    methods = ["card"]
    if currency == "JPY":
        if KONBINI_MIN <= total.amount <= KONBINI_MAX:
            methods.append("konbini")
        methods.append("bank_transfer")
    if invoice_customer or purchase_method == "invoice":
        methods.append("invoice")
    return methods
