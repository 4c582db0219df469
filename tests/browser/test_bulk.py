"""Bulk renewal in a real Chromium (R7, R8): select rows, review the groups, pay one group."""

from datetime import date
from decimal import Decimal

import pytest

from renewals.checkout.models import Order
from renewals.notifications.models import Email
from renewals.subscriptions.models import Subscription
from tests.factories import (
    CustomerFactory,
    OfferingFactory,
    TaxRateFactory,
    UserFactory,
    priced_subscription,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = date(2027, 3, 1)


@pytest.fixture
def three(frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    user = UserFactory(email="marie@dupont.example")
    customer = CustomerFactory(csn="5100000001", name="Atelier Dupont", country="FR")
    acad = OfferingFactory(code="ACAD", name="AutoCAD")
    for sub_id, currency, seats in (("SUB-1", "EUR", 3), ("SUB-2", "EUR", 1), ("SUB-3", "JPY", 2)):
        priced_subscription(
            id=sub_id,
            purchaser=user,
            customer=customer,
            offering=acad,
            seats=seats,
            currency=currency,
            payment_method="card" if currency == "EUR" else "konbini",
            list_price="2100.00" if currency == "EUR" else "330000",
            renewal_price="1890.00" if currency == "EUR" else "297000",
        )
    return user


def test_select_three_rows_renew_and_pay_one_group_by_card(three, signed_in_page):
    page = signed_in_page(three)
    page.goto("/billing/subscriptions/")
    for sub_id in ("SUB-1", "SUB-2", "SUB-3"):
        page.get_by_test_id(f"select-{sub_id}").check()
    page.get_by_test_id("bulk-renew").click()

    eur = page.get_by_test_id("bulk-group-5100000001:EUR:online")
    jpy = page.get_by_test_id("bulk-group-5100000001:JPY:online")
    eur.wait_for()
    # (3 + 1) seats × €1,890.00 = €7,560.00, + 20 % tax.
    assert eur.get_by_test_id("total").inner_text() == "€9,072.00"
    assert jpy.get_by_test_id("total").inner_text() == "¥712,800"  # 2 × ¥297,000 + 20 %

    eur.get_by_test_id("checkout-group-5100000001:EUR:online").click()
    page.wait_for_url("**/billing/cart/checkout/5100000001:EUR:online/")
    page.get_by_test_id("method-card").check()
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("pay").click()

    page.wait_for_url("**/billing/orders/R-2027-*/")
    assert page.get_by_test_id("order-status").inner_text() == "Paid"
    lines = page.get_by_test_id("order-lines").inner_text()
    assert "SUB-1" in lines and "SUB-2" in lines and "SUB-3" not in lines
    order = Order.objects.get()
    assert (order.status, order.total) == ("paid", Decimal("9072.00"))
    assert Email.objects.filter(kind="order-confirmation").count() == 1
    assert dict(Subscription.objects.values_list("pk", "renewal_date")) == {
        "SUB-1": date(2028, 3, 31),
        "SUB-2": date(2028, 3, 31),
        "SUB-3": date(2027, 3, 31),
    }


def test_select_all_on_this_page_ticks_every_row_and_unticking_one_clears_it(three, signed_in_page):
    page = signed_in_page(three)
    page.goto("/billing/subscriptions/")
    page.get_by_test_id("select-page").check()
    assert [page.get_by_test_id(f"select-SUB-{n}").is_checked() for n in (1, 2, 3)] == [True] * 3
    page.get_by_test_id("select-SUB-2").uncheck()
    assert not page.get_by_test_id("select-page").is_checked()
    page.get_by_test_id("bulk-renew").click()
    page.get_by_test_id("bulk-group-5100000001:EUR:online").wait_for()
    assert page.get_by_test_id("bulk-line-SUB-1").is_visible()
    assert page.get_by_test_id("bulk-line-SUB-2").count() == 0
