"""A customer signs in, opens Subscriptions and contracts, switches to Japanese, signs out (R17)."""

from datetime import date

import pytest

from renewals.accounts.models import User
from tests.factories import OfferingFactory, UserFactory, priced_subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def customer_user(frozen_today):
    frozen_today(date(2026, 6, 1))
    user = UserFactory(email="marie@dupont.example", name="Marie Dupont", language="en")
    priced_subscription(
        id="SUB-1001",
        purchaser=user,
        renewal_date=date(2026, 7, 31),
        offering=OfferingFactory(code="ACAD", name="AutoCAD"),
    )
    return user


def test_sign_in_see_subscriptions_switch_to_japanese_and_sign_out(browser_page, customer_user):
    page = browser_page
    page.goto("/")
    page.wait_for_url("**/accounts/login/?next=/")

    page.get_by_test_id("email").fill("marie@dupont.example")
    page.get_by_test_id("password").fill("correct horse battery")
    page.get_by_test_id("sign-in").click()
    page.wait_for_url("**/")
    assert page.locator("h1").inner_text() == "Summary"

    page.get_by_role("link", name="Subscriptions and contracts").click()
    page.wait_for_url("**/billing/subscriptions/")
    assert page.locator("h1").inner_text() == "Subscriptions and contracts"
    assert "AutoCAD" in page.get_by_test_id("subscriptions").inner_text()

    page.get_by_test_id("language-select").select_option("ja")
    page.locator("form.langswitch button").click()
    page.wait_for_url("**/billing/subscriptions/")
    assert page.locator("h1").inner_text() == "サブスクリプションと契約"
    assert "請求と注文" in page.locator(".breadcrumb").inner_text()
    assert User.objects.get(pk=customer_user.pk).language == "ja"

    page.get_by_test_id("sign-out").click()
    page.wait_for_url("**/accounts/login/")
    assert page.locator("h1").inner_text() == "ログイン"
    page.goto("/billing/subscriptions/")
    page.wait_for_url("**/accounts/login/?next=/billing/subscriptions/")


def test_signed_in_page_fixture_opens_a_signed_in_session(signed_in_page, customer_user):
    page = signed_in_page(customer_user)

    page.goto("/billing/subscriptions/SUB-1001/")

    assert page.get_by_test_id("stage").inner_text() == "Active"
    assert "Renew now in checkout" in page.get_by_test_id("renewal").inner_text()
