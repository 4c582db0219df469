"""Scheduling a change of the next renewal in a real Chromium (R21), at 390 px and 1366 px.

Screenshots go to test-results/screenshots/ like the other browser tests (`pages.SHOTS`;
RENEWALS_SCREENSHOTS overrides the folder), to be looked at.
"""

from datetime import date
from decimal import Decimal

import pytest

from renewals.subscriptions.models import Subscription
from tests.browser.pages import SHOTS
from tests.factories import (
    CustomerFactory,
    OfferingFactory,
    PriceFactory,
    SubscriptionFactory,
    TaxRateFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = date(2027, 2, 10)
WIDTHS = [(390, 844), (1366, 900)]


@pytest.fixture
def monthly(frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    user = UserFactory(email="marie@dupont.example", language="en")
    sub = SubscriptionFactory(
        id="SUB-1001",
        customer=CustomerFactory(csn="5100000001", name="Atelier Dupont", country="FR"),
        purchaser=user,
        term="monthly",
        seats=5,
        start_date=date(2027, 1, 31),
        renewal_date=date(2027, 2, 28),
        offering=OfferingFactory(code="ACAD", name="AutoCAD"),
    )
    for term, list_price, renewal_price in (
        ("monthly", "100.00", "90.00"),
        ("annual", "1100.00", "990.00"),
    ):
        PriceFactory(
            offering=sub.offering,
            term=term,
            currency="EUR",
            list_price=Decimal(list_price),
            renewal_price=Decimal(renewal_price),
        )
    return user, sub


def _shots():
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_schedule_then_cancel_the_change_of_the_next_renewal(monthly, signed_in, width, height):
    user, sub = monthly
    page = signed_in(user)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"/billing/subscriptions/{sub.pk}/")
    section = page.get_by_test_id("next-renewal")
    assert "The next term keeps 5 seats, Monthly." in section.inner_text()
    page.get_by_test_id("next-seats").fill("3")
    page.get_by_test_id("next-term").select_option("annual")
    page.get_by_test_id("next-renewal-save").click()
    page.wait_for_url(f"**/billing/subscriptions/{sub.pk}/")
    assert "The change is saved for the next renewal." in page.content()
    scheduled = page.get_by_test_id("scheduled-change").inner_text()
    assert scheduled.startswith("From the renewal on 28 February 2027: 3 seats, Annual.")
    # The renewal offer follows the scheduled term: annual, paid while active (R6).
    offer = page.get_by_test_id("price-why").inner_text()
    assert "Monthly terms always renew at the list price." not in offer
    assert "The special renewal price applies to renewals paid before the renewal date" in offer
    assert _fits(page), f"horizontal scroll at {width} px"
    shots = _shots()
    page.screenshot(path=str(shots / f"scheduled-change-{width}.png"), full_page=True)
    section.screenshot(path=str(shots / f"scheduled-change-{width}-section.png"))
    saved = Subscription.objects.get(pk=sub.pk)
    assert saved.scheduled_change == {"for": "2027-02-28", "seats": 3, "term": "annual"}
    assert (saved.seats, saved.term) == (5, "monthly")  # nothing changes before D

    page.get_by_test_id("next-renewal-cancel").click()
    page.wait_for_url(f"**/billing/subscriptions/{sub.pk}/")
    assert "The change of the next renewal is cancelled." in page.content()
    assert page.get_by_test_id("scheduled-change").count() == 0
    assert "Monthly terms always renew at the list price." in page.content()
    assert Subscription.objects.get(pk=sub.pk).scheduled_change is None


def test_a_refused_change_is_said_in_words(monthly, signed_in):
    user, sub = monthly
    page = signed_in(user)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/billing/subscriptions/{sub.pk}/")
    # Past the field's max (the browser would stop it): remove the bound as a script could.
    page.evaluate("document.getElementById('next-seats').removeAttribute('max')")
    page.get_by_test_id("next-seats").fill("10001")
    page.get_by_test_id("next-renewal-save").click()
    page.wait_for_url(f"**/billing/subscriptions/{sub.pk}/")
    assert "The next renewal was not changed:" in page.content()
    assert Subscription.objects.get(pk=sub.pk).scheduled_change is None
