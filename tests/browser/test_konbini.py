"""A Japanese purchaser checks out a JPY cart group with konbini and sees the voucher (R9, R17).

Marker `browser`: needs Chromium. Uses the shared `tests/browser/conftest.py` fixtures when they
exist (`browser_page`/`signed_in` defined there take precedence by name); local ones otherwise.
"""

import os
import shutil
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from renewals.checkout.models import Order
from renewals.payments.models import Payment
from renewals.subscriptions.models import Subscription
from tests.conftest import need
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
def konbini_page(live_server, monkeypatch, client):
    """Yield a function signing a user in on a Playwright page in Japanese, or skip without Chromium."""
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    path = (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=path)
        except Exception as exc:  # no browser installed
            need(False, f"needs Chromium for Playwright: {exc}"[:200])
        context = browser.new_context(base_url=live_server.url, locale="ja-JP")
        page = context.new_page()
        page.set_default_timeout(15_000)

        def sign_in(user):
            client.force_login(user)
            context.add_cookies(
                [
                    {
                        "name": "sessionid",
                        "value": client.cookies["sessionid"].value,
                        "url": live_server.url,
                    }
                ]
            )
            return page

        yield sign_in
        context.close()
        browser.close()


@pytest.fixture
def japanese_purchaser(frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="JP", rate=Decimal("0.10"))
    user = UserFactory(email="tanaka@sample.example", language="ja", name="田中 太郎")
    customer = CustomerFactory(csn="5200000001", name="株式会社サンプル", country="JP")
    sub = priced_subscription(
        id="SUB-JP-1",
        purchaser=user,
        customer=customer,
        seats=2,
        currency="JPY",
        payment_method="konbini",
        list_price="60000",
        renewal_price="52800",
        offering=OfferingFactory(code="ACAD", name="AutoCAD"),
    )
    return user, sub


def test_japanese_purchaser_pays_by_konbini_and_sees_the_voucher(konbini_page, japanese_purchaser):
    user, sub = japanese_purchaser
    page = konbini_page(user)
    page.goto("/billing/subscriptions/SUB-JP-1/renew/")
    page.get_by_test_id("add-to-cart").click()
    page.wait_for_url("**/billing/cart/")
    page.get_by_test_id("checkout-5200000001:JPY:online").click()
    page.wait_for_url("**/billing/cart/checkout/**")
    # ¥52,800 × 2 = ¥105,600, tax 10 % = ¥10,560: ¥116,160 (within konbini's ¥120–¥300,000).
    assert "116,160" in page.get_by_test_id("checkout-summary").get_by_test_id("total").inner_text()
    page.get_by_test_id("method-card").check()
    assert page.get_by_test_id("new-card-note").is_visible()
    page.get_by_test_id("method-konbini").check()
    # The card's fields belong to the card: with konbini chosen they are not shown (#17).
    assert not page.get_by_test_id("new-card-note").is_visible()
    assert not page.get_by_test_id("save-card").is_visible()
    page.get_by_test_id("pay").click()
    page.wait_for_url("**/billing/orders/R-2027-*/")

    payment = Payment.objects.get()
    voucher = payment.instructions["konbini"]
    shown = page.get_by_test_id("payment-instructions")
    assert "コンビニ払込票" in shown.inner_text()
    assert page.get_by_test_id("konbini-payment-code").inner_text() == voucher["payment_code"]
    assert (
        page.get_by_test_id("konbini-confirmation-number").inner_text()
        == voucher["confirmation_number"]
    )
    assert page.get_by_test_id("payment-deadline").inner_text() == "2027年3月4日"
    assert Order.objects.get().status == "pending_payment"
    assert Subscription.objects.get().renewal_date == date(2027, 3, 31)

    call_command("sandbox", "pay", payment.reference)
    page.reload()
    assert Order.objects.get().status == "paid"
    assert Subscription.objects.get().renewal_date == date(2028, 3, 31)
    assert not page.get_by_test_id("payment-instructions").count()
