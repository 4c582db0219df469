"""Money invariants of real orders, as hypothesis properties (R6, R7).

Random carts — several CSNs, currencies with 0, 2 and 3 decimals, seats, prices, tax rates —
are checked out through the real code (add_to_cart, place_order: create_order, the sandbox
card, fulfilment). For every order: total = sum of lines + tax, tax is the subtotal × rate
rounded half-up once per order, every amount has its currency's exponent, and no order mixes
currencies, CSNs or purchase methods. tests/core/test_money.py proves the same of `money()`.
"""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renewals.catalog.models import TaxRate
from renewals.checkout.cart import cart_groups
from renewals.checkout.cart_actions import add_to_cart
from renewals.checkout.models import Order
from renewals.core.money import exponent
from renewals.payments.checkout import place_order
from tests.factories import CustomerFactory, UserFactory, priced_subscription

from .helpers import PAID_CARD, TODAY

pytestmark = pytest.mark.django_db

CURRENCIES = ("EUR", "JPY", "USD", "KWD")
CUSTOMERS = (("5200000001", "US"), ("5200000002", "CA"), ("5200000003", "AU"))


class _Rollback(Exception):
    pass


def _amount(currency):
    places = exponent(currency)
    return st.integers(min_value=1, max_value=5_000_000 * 10**places).map(
        lambda units: Decimal(units).scaleb(-places)
    )


line = st.sampled_from(CURRENCIES).flatmap(
    lambda currency: st.tuples(
        st.just(currency),
        st.integers(min_value=0, max_value=len(CUSTOMERS) - 1),
        st.integers(min_value=1, max_value=1000),
        _amount(currency),
    )
)
rates = st.sampled_from(
    [Decimal(r) for r in ("0", "0.05", "0.08", "0.10", "0.0775", "0.20", "0.21", "0.2555")]
)


def _has_exponent(value: Decimal, currency: str) -> bool:
    return value == value.quantize(Decimal(1).scaleb(-exponent(currency)))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(line, min_size=1, max_size=8), rate=rates)
def test_every_order_totals_its_lines_plus_tax_in_one_currency_csn_and_method(lines, rate):
    try:
        with transaction.atomic():
            _check_out_and_verify(lines, rate)
            raise _Rollback
    except _Rollback:
        pass


def test_a_cent_total_that_floats_cannot_add_is_checked_out():
    """SQLite adds decimals as floats: the total constraint must still accept 0.17 + 0.01."""
    _check_out_and_verify([("USD", 0, 1, Decimal("0.17"))], Decimal("0.05"))


def _check_out_and_verify(lines, rate):
    user = UserFactory()
    customers = []
    for csn, country in CUSTOMERS:
        TaxRate.objects.update_or_create(country=country, defaults={"rate": rate})
        customers.append(CustomerFactory(csn=csn, country=country))
    subs = [
        priced_subscription(
            customer=customers[who],
            purchaser=user,
            currency=currency,
            seats=seats,
            list_price=str(price),
            renewal_price=str(price),
        )
        for currency, who, seats, price in lines
    ]
    assert add_to_cart(user=user, subscription_ids=[s.pk for s in subs], today=TODAY).rejected == []
    groups = cart_groups(user=user, today=TODAY)
    for group in groups:
        place_order(
            user=user,
            group_key=group.key,
            payment=PAID_CARD,
            idempotency_key=group.key,
            expected_total=group.total,
            today=TODAY,
        )

    orders = list(Order.objects.prefetch_related("lines__subscription__customer"))
    assert len(orders) == len({(c, w) for c, w, _s, _p in lines}) == len(groups)
    assert sum(len(o.lines.all()) for o in orders) == len(lines)
    for order in orders:
        currency = order.currency
        order_lines = list(order.lines.all())
        assert order.status == "paid"
        assert {line.subscription.currency for line in order_lines} == {currency}
        assert {line.subscription.customer_id for line in order_lines} == {order.customer_id}
        assert {line.subscription.purchase_method for line in order_lines} == {
            order.purchase_method
        }
        for line in order_lines:
            assert line.amount == line.unit_price * line.seats
            assert _has_exponent(line.amount, currency)
            assert _has_exponent(line.unit_price, currency)
        subtotal = sum((line.amount for line in order_lines), Decimal(0))
        assert order.subtotal == subtotal
        expected_tax = (subtotal * rate).quantize(
            Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP
        )
        assert order.tax == expected_tax
        assert order.total == order.subtotal + order.tax
        for value in (order.subtotal, order.tax, order.total):
            assert _has_exponent(value, currency)
