"""Try again after a failed 3-D Secure check, the Summary's links and the list's pickers (#17).

In a real Chromium at 390 px and 1366 px, each page checked by axe-core and for sideways scroll
(tests/browser/pages.py, screenshots under test-results/screenshots/).
"""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from renewals.checkout.models import Order
from renewals.payments.models import SandboxPayment
from renewals.subscriptions.models import Subscription
from tests.browser.pages import WIDTHS, check_page
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
def account(frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    user = UserFactory(email="marie@dupont.example")
    paris = CustomerFactory(csn="5100000001", name="Atelier Dupont", country="FR")
    tokyo = CustomerFactory(csn="5200000002", name="Tanaka KK", country="JP")
    acad = OfferingFactory(code="ACAD", name="AutoCAD")
    priced_subscription(id="SUB-1001", purchaser=user, customer=paris, seats=3, offering=acad)
    priced_subscription(
        id="SUB-1002", purchaser=user, customer=paris, renewal_date=TODAY + timedelta(days=20)
    )
    priced_subscription(
        id="SUB-YEN", purchaser=user, customer=tokyo, currency="JPY", renewal_date=TODAY
    )
    priced_subscription(
        id="SUB-GONE", purchaser=user, customer=paris, renewal_date=TODAY - timedelta(days=200)
    )
    return user


@pytest.mark.parametrize("width", WIDTHS)
def test_a_failed_3ds_check_then_try_again_pays_with_a_new_order(account, signed_in, width):
    page = signed_in(account)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/billing/subscriptions/SUB-1001/renew/")
    page.get_by_test_id("add-to-cart").click()
    page.wait_for_url("**/billing/cart/")
    page.get_by_test_id("checkout-5100000001:EUR:online").click()
    page.wait_for_url("**/billing/cart/checkout/**")
    page.get_by_test_id("method-card").check()
    page.get_by_test_id("card-new").check()
    page.get_by_test_id("card-number").fill("4000 0000 0000 3220")
    page.get_by_test_id("pay").click()
    page.wait_for_url("**/sandbox/3ds/**")
    page.get_by_test_id("3ds-fail").click()
    page.wait_for_url("**/billing/orders/R-2027-*/")
    problems = check_page(page, "try-again-failed-order")
    assert page.get_by_test_id("order-status").inner_text() == "Failed"
    # The reason is said once, with Try again beside it (no second flash message above).
    assert page.content().count("was not completed") == 1
    failed = Order.objects.get()

    page.get_by_test_id("try-again").click()
    page.wait_for_url("**/billing/cart/")
    problems += check_page(page, "try-again-cart")
    page.get_by_test_id("checkout-5100000001:EUR:online").click()
    page.wait_for_url("**/billing/cart/checkout/**")
    page.get_by_test_id("method-card").check()
    page.get_by_test_id("card-new").check()
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r".*/billing/orders/R-2027-\d+/$"))
    assert page.get_by_test_id("order-status").inner_text() == "Paid"
    paid = Order.objects.exclude(pk=failed.pk).get()
    assert paid.number in page.url and paid.status == "paid"
    assert SandboxPayment.objects.filter(status="succeeded").count() == 1
    assert Subscription.objects.get(pk="SUB-1001").renewal_date == date(2028, 3, 31)

    page.goto(f"/billing/orders/{failed.number}/")
    assert page.get_by_test_id("try-again").count() == 0
    assert paid.number in page.get_by_test_id("renewed-by").inner_text()
    problems += check_page(page, "try-again-renewed-by")
    assert problems == []


@pytest.mark.parametrize("width", WIDTHS)
def test_summary_links_open_lists_of_the_count_shown_and_pickers_filter(account, signed_in, width):
    page = signed_in(account)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/")
    problems = check_page(page, "summary-links")
    shown = int(page.get_by_test_id("upcoming-count").inner_text().strip("()"))
    page.get_by_test_id("upcoming-link").click()
    page.wait_for_url("**/billing/subscriptions/?*")
    assert page.locator("[data-testid=subscriptions] tbody tr").count() == shown == 2

    page.goto("/billing/subscriptions/")
    assert "SUB-GONE" not in page.get_by_test_id("subscriptions").inner_text()
    assert (
        "1 cancelled subscription is not shown." in page.get_by_test_id("result-count").inner_text()
    )
    page.locator("select[name=csn]").select_option("5200000002")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**csn=5200000002**")
    rows = page.locator("[data-testid=subscriptions] tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-subscription") == "SUB-YEN"
    problems += check_page(page, "subscriptions-picked")
    page.goto("/billing/subscriptions/?stage=all")
    assert "SUB-GONE" in page.get_by_test_id("subscriptions").inner_text()
    assert problems == []
