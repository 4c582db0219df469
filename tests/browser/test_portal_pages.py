"""Every portal page as each demo user, at 390 px and 1366 px, in a real Chromium (#17).

Each page must have zero serious or critical axe-core violations and no sideways scroll; the
walk also checks the phone layout (header behind "Menu", rows as cards), the skip link and the
live count of the bulk toolbar. Screenshots go to test-results/screenshots/ (see pages.py).
"""

from datetime import date

import pytest

from renewals.accounts.models import User
from renewals.operations import demo_data
from renewals.subscriptions.importing import import_bytes
from tests.browser.pages import WIDTHS, check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = date(2027, 3, 1)
PORTAL_USERS = [email for email, *_ in demo_data.USERS]


@pytest.fixture
def demo(frozen_today):
    frozen_today(TODAY)
    result = import_bytes(demo_data.demo_file(TODAY), today=TODAY, actor_label="demo")
    assert not result.errors, result.errors


def short(email: str) -> str:
    return email.split("@")[0]


def walk(page, email: str, width: int) -> list[str]:
    """Visit every page a customer reaches from the menu, renew one subscription through the
    cart and checkout to its order page, and open an invoice if there is one; return the
    problems found."""
    name = short(email)
    problems = []
    page.set_viewport_size({"width": width, "height": 900})

    def visit(path, label):
        page.goto(path)
        problems.extend(check_page(page, f"{name}-{label}"))

    visit("/", "summary")
    visit("/billing/subscriptions/", "subscriptions")
    first = page.locator("[data-testid=subscriptions] tbody tr").first
    sub_id = first.get_attribute("data-subscription")
    visit(f"/billing/subscriptions/{sub_id}/", "subscription")
    renew = page.locator("[data-testid^=renew-]").first
    page.goto("/billing/subscriptions/")
    if page.locator("[data-testid^=renew-]").count():
        page.locator("[data-testid^=renew-]").first.click()
        page.wait_for_url("**/renew/")
        problems.extend(check_page(page, f"{name}-renew"))
        page.get_by_test_id("add-to-cart").click()
        page.wait_for_url("**/billing/cart/")
        problems.extend(check_page(page, f"{name}-cart"))
        page.locator("[data-testid^=checkout-]").first.click()
        page.wait_for_url("**/billing/cart/checkout/**")
        problems.extend(check_page(page, f"{name}-checkout"))
        # Pay with what the page pre-selects: the order page (paid, waiting for a konbini or
        # transfer payment, invoiced, or failed with Try again) or the gateway's page.
        with page.expect_navigation():
            page.get_by_test_id("pay").click()
        page.wait_for_load_state()
        landed = "order" if "/billing/orders/" in page.url else "payment-step"
        problems.extend(check_page(page, f"{name}-{landed}"))
    del renew
    visit("/billing/orders/", "orders")
    visit("/billing/invoices/", "invoices")
    invoice = page.locator("[data-testid=invoices] tbody tr a").first
    if invoice.count():
        visit(invoice.get_attribute("href"), "invoice")
    visit("/billing/payment-methods/", "payment-methods")
    visit("/account/tokens/", "tokens")
    visit("/billing/subscriptions/NOT-A-SUBSCRIPTION/", "404")
    return problems


@pytest.mark.parametrize("email", PORTAL_USERS, ids=short)
def test_every_page_passes_axe_and_fits_both_widths(demo, signed_in_page, email):
    page = signed_in_page(User.objects.get(email=email))
    problems = []
    for width in WIDTHS:
        problems += walk(page, email, width)
    assert problems == []


def test_signed_out_pages(demo, browser_page):
    page = browser_page
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path, label in (
            ("/accounts/login/", "login"),
            ("/accounts/password-reset/", "password-reset"),
            ("/accounts/password-reset/sent/", "password-reset-sent"),
            ("/nowhere/", "404-signed-out"),
        ):
            page.goto(path)
            problems += check_page(page, label)
        # A sign-in form sent after its CSRF cookie went (cookies cleared, another tab): the
        # product's "form has expired" page, not Django's.
        page.goto("/accounts/login/")
        page.context.clear_cookies()
        page.get_by_test_id("email").fill("john@acme.example")
        page.get_by_test_id("password").fill("not-the-password")
        with page.expect_navigation():
            page.get_by_test_id("sign-in").click()
        assert page.get_by_test_id("csrf-failure").is_visible()
        problems += check_page(page, "403-csrf")
    assert problems == []


def test_phone_header_collapses_and_rows_are_cards(demo, signed_in_page):
    page = signed_in_page(User.objects.get(email="john@acme.example"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/billing/subscriptions/")
    menu = page.locator("[data-navtoggle]")
    nav = page.locator("nav.mainnav")
    assert menu.is_visible() and not nav.is_visible()
    menu.click()
    assert nav.is_visible() and menu.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    assert not nav.is_visible()
    # A row is a card: its cells are stacked and each says what it is.
    row = page.locator("[data-testid=subscriptions] tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    assert row.locator("td[data-label]").first.get_attribute("data-label") == "Product"
    page.set_viewport_size({"width": 1366, "height": 900})
    assert not menu.is_visible() and nav.is_visible()
    assert row.evaluate("r => getComputedStyle(r).display") == "table-row"


def test_skip_link_is_first_and_moves_to_the_content(demo, signed_in_page):
    page = signed_in_page(User.objects.get(email="john@acme.example"))
    page.goto("/billing/subscriptions/")
    page.keyboard.press("Tab")
    skip = page.get_by_test_id("skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_bulk_toolbar_counts_the_selection_aloud(demo, signed_in_page):
    page = signed_in_page(User.objects.get(email="john@acme.example"))
    page.goto("/billing/subscriptions/")
    count = page.get_by_test_id("selection-count")
    assert count.get_attribute("aria-live") == "polite"
    assert count.inner_text() == "No subscription selected"
    assert page.get_by_test_id("bulk-renew").is_disabled()
    ids = page.locator("[data-testid=subscriptions] tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.subscription)"
    )
    page.get_by_test_id(f"select-{ids[0]}").check()
    assert count.inner_text() == "1 subscription selected"
    assert page.get_by_test_id("bulk-renew").is_enabled()
    page.get_by_test_id(f"select-{ids[1]}").check()
    assert count.inner_text() == "2 subscriptions selected"
    page.get_by_test_id("select-page").check()
    assert count.inner_text() == f"{len(ids)} subscriptions selected"
    total = page.get_by_test_id("bulk-form").get_attribute("data-total")
    page.get_by_test_id("select-all-matching").check()
    assert count.inner_text() == f"{total} subscriptions selected"
