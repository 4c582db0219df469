"""The newcomer path of #17: what the README's demo steps need, and what waiting payments say."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command

from renewals.checkout.models import Order
from renewals.operations import served_at
from renewals.payments import actions
from renewals.payments.models import Payment
from tests.factories import UserFactory
from tests.payments.helpers import TODAY, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def today(frozen_today):
    return frozen_today(TODAY)


def waiting(method, *, price="12000"):
    user = UserFactory(language="en")
    sub = jpy_subscriptions(user=user, price=price)[0]
    order = order_for([sub], method=method)
    payment = actions.start_payment(order, method=method, user=user, today=TODAY)
    return user, order, payment


@pytest.mark.parametrize(
    "pick",
    [
        lambda p, o: p.instructions["konbini"]["payment_code"],
        lambda p, o: p.instructions["konbini"]["confirmation_number"],
        lambda p, o: o.number,
        lambda p, o: p.reference,
    ],
    ids=["payment-code", "confirmation-number", "order-number", "gateway-reference"],
)
def test_sandbox_pay_takes_what_the_order_page_shows(today, pick):
    _user, order, payment = waiting("konbini")

    call_command("sandbox", "pay", pick(payment, order))

    order.refresh_from_db()
    assert order.status == "paid"


def test_sandbox_pay_takes_the_transfer_reference(today):
    _user, order, payment = waiting("bank_transfer")

    call_command("sandbox", "pay", payment.instructions["bank_transfer"]["reference"])

    assert Order.objects.get(pk=order.pk).status == "paid"


def test_sandbox_pay_with_an_unknown_code_says_what_to_give(today):
    with pytest.raises(CommandError, match="konbini payment code, the transfer reference"):
        call_command("sandbox", "pay", "00000000000")


def test_order_page_shows_the_sandbox_command_with_the_payment_code(client, today):
    user, order, payment = waiting("konbini")
    client.force_login(user)

    html = client.get(f"/billing/orders/{order.number}/").content.decode()

    code = payment.instructions["konbini"]["payment_code"]
    assert f"<code>.venv/bin/renewals sandbox pay {code}</code>" in html


def test_short_transfer_says_what_arrived_what_is_owed_and_what_happens(client, today):
    user, order, payment = waiting("bank_transfer")
    reference = payment.instructions["bank_transfer"]["reference"]
    call_command("sandbox", "pay", reference, "--amount", "5000")  # of ¥13,200
    client.force_login(user)

    html = client.get(f"/billing/orders/{order.number}/").content.decode()

    assert Payment.objects.get(pk=payment.pk).status == "partially_funded"
    assert (
        "We received ¥5,000 of the ¥13,200 owed. Transfer the remaining ¥8,200 with the same "
        "reference" in html
    )
    assert "our billing team refunds what arrived" in html


def test_excess_transfer_says_the_excess_is_refunded(client, today):
    user, order, payment = waiting("bank_transfer")
    reference = payment.instructions["bank_transfer"]["reference"]
    call_command("sandbox", "pay", reference, "--amount", "15000")
    client.force_login(user)

    html = client.get(f"/billing/orders/{order.number}/").content.decode()

    assert "We received ¥15,000 for the ¥13,200 owed (¥1,800 too much)" in html
    assert Payment.objects.get(pk=payment.pk).received_amount == Decimal("15000")


def test_emails_of_commands_link_to_the_address_the_demo_serves_on(settings, tmp_path, monkeypatch):
    settings.DEBUG = True
    settings.DATA_DIR = tmp_path
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    served_at.record("http://127.0.0.1:8001")

    assert served_at.apply() == "http://127.0.0.1:8001"
    assert settings.PORTAL_BASE_URL == "http://127.0.0.1:8001"


def test_a_configured_portal_url_wins_and_production_reads_no_file(settings, tmp_path, monkeypatch):
    settings.DATA_DIR = tmp_path
    (tmp_path / "demo-portal-url").write_text("http://127.0.0.1:8001\n")
    settings.PORTAL_BASE_URL = "https://renewals.example.com"
    settings.DEBUG = False
    assert served_at.apply() == "https://renewals.example.com"
    settings.DEBUG = True
    monkeypatch.setenv("PORTAL_BASE_URL", "https://renewals.example.com")
    assert served_at.apply() == "https://renewals.example.com"


def test_api_docs_use_the_swagger_files_served_by_the_app(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    # Found by the static files finders: runserver (demo) and collectstatic (production) serve it.
    assert finders.find("ninja/swagger-ui-bundle.js") is not None
    assert finders.find("ninja/swagger-ui.css") is not None


def test_demo_with_debug_shows_the_portal_404_not_the_technical_page(client, settings):
    settings.DEBUG = True
    client.force_login(UserFactory(language="en"))
    for path in ("/billing/subscriptions/NOT-MINE/", "/no/such/page/"):
        response = client.get(path)
        html = response.content.decode()
        assert response.status_code == 404
        assert "Page not found" in html and "URLconf" not in html and "Traceback" not in html


def test_debug_pages_can_be_asked_for(client, settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setenv("RENEWALS_DEBUG_PAGES", "1")
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "URLconf" in response.content.decode()


def test_frozen_business_date_banner(client, frozen_today):
    frozen_today(date(2027, 1, 15))
    html = client.get("/accounts/login/").content.decode()
    assert 'data-testid="frozen-banner"' in html
    assert "15 January 2027" in html


def test_no_banner_on_the_real_clock(client):
    assert 'data-testid="frozen-banner"' not in client.get("/accounts/login/").content.decode()


def test_checkout_preselects_the_saved_card_and_says_why_methods_are_missing(client, today):
    from renewals.accounts.models import Card

    user = UserFactory(language="en")
    card = Card.objects.create(user=user, token="pm_sandbox_4242424242424242", last4="4242")
    Card.objects.create(user=user, token="pm_sandbox_4000000000003220", last4="3220")
    sub = jpy_subscriptions(user=user, price="330000", payment_method="card", card=card)[0]
    client.force_login(user)
    client.post(f"/billing/subscriptions/{sub.pk}/renew/")
    key = f"{sub.customer.csn}:JPY:online"

    html = client.get(f"/billing/cart/checkout/{key}/").content.decode()

    assert 'value="card" data-testid="method-card" checked' in html
    assert f'name="card" value="{card.pk}" checked' in html
    assert "Konbini: only for orders from ¥120 to ¥300,000; this order is ¥363,000." in html
    assert "Invoice: only for customers billed by invoice." in html
    assert f"A new card saved now pays the automatic renewals of {sub.pk} from then on." in html
