"""The "Done when" lists of the issues, walked end to end as a customer and an operator would.

Each test drives the portal through Django's test client (the same forms a browser posts), the
management commands through call_command, and delivers email through the outbox to a real SMTP
server on loopback. Scenarios already pinned end to end elsewhere are referenced, not repeated:
the two-tabs concurrency case (tests/checkout/test_place_order.py, PostgreSQL) and the API-only
script (tests/api/test_end_to_end.py).
"""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from renewals.checkout.models import CartLine, Order
from renewals.core.formatting import money_text
from renewals.core.money import money
from renewals.notifications import outbox
from renewals.payments.models import Payment
from renewals.subscriptions.models import Subscription, Term
from tests.factories import (
    CustomerFactory,
    UserFactory,
)

from .walks import (  # noqa: F401 (_pay_group is read by test_portal_words)
    CARD_OK,
    D,
    _annual_eur,
    _bulk_post,
    _messages,
    _pay_group,
    _subject,
    _text_part,
)

pytestmark = pytest.mark.django_db


# (a) Issue 3: renew an annual subscription 60 days before D, in French, email over SMTP.


def test_french_purchaser_renews_60_days_before_d_at_the_renewal_price_with_one_french_email(
    client, frozen_today, marie, dupont, smtp
):
    today = frozen_today(D - timedelta(days=60))
    _annual_eur("SUB-1001", marie, dupont)

    renew_page = client.get("/billing/subscriptions/SUB-1001/renew/").content.decode()
    assert "Prix de renouvellement spécial" in renew_page
    assert client.post("/billing/subscriptions/SUB-1001/renew/")["Location"] == "/billing/cart/"
    response = _pay_group(
        client, "5100000001:EUR:online", method="card", card="new", card_number=CARD_OK
    )
    order = Order.objects.get()
    assert response["Location"] == f"/billing/orders/{order.number}/"

    # The order: special renewal price 1 890,00 € × 3, VAT 20% on 5 670,00 €, new term from old D.
    assert (order.status, order.subtotal, order.tax, order.total) == (
        "paid",
        Decimal("5670.00"),
        Decimal("1134.00"),
        Decimal("6804.00"),
    )
    line = order.lines.get()
    assert (line.price_kind, line.unit_price, line.term_start, line.term_end) == (
        "renewal",
        Decimal("1890.00"),
        D,
        date(2028, 3, 31),
    )
    page = client.get(response["Location"]).content.decode()
    assert money_text(money("1890.00", "EUR"), "fr") in page
    assert money_text(money("1134.00", "EUR"), "fr") in page
    assert money_text(money("6804.00", "EUR"), "fr") in page
    assert "20 %" in page
    assert "31 mars 2027 – 31 mars 2028" in page

    # Exactly one confirmation, in French, on a real SMTP server.
    assert smtp.messages == []  # nothing leaves before the outbox delivers it
    assert outbox.deliver_due() == {"sent": 1}
    assert outbox.deliver_due() == {}
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "marie@dupont.example"
    assert mail["X-Renewals-Event"] == "order-confirmation"
    assert mail["X-Renewals-Order"] == order.number
    assert mail["X-Renewals-Subscriptions"] == "SUB-1001"
    assert mail["Message-ID"]
    assert order.number in _subject(mail)
    body = _text_part(mail)
    assert "31 mars 2028" in body
    assert money_text(money("6804.00", "EUR"), "fr") in body
    assert {p.get_content_type() for p in mail.walk()} >= {"text/plain", "text/html"}

    # The subscription page: next renewal date one year later, active, term recorded.
    detail = client.get("/billing/subscriptions/SUB-1001/").content.decode()
    assert re.search(r'data-testid="renewal-date">31 mars 2028<', detail)
    assert re.search(r'data-testid="stage">Actif<', detail)
    terms = Term.objects.filter(subscription_id="SUB-1001").order_by("start")
    assert list(terms.values_list("start", "end")) == [
        (date(2026, 3, 31), D),
        (D, date(2028, 3, 31)),
    ]
    assert today == date(2027, 1, 30)


# (b) Issue 3: the same at D+10 (expired) pays the list price and reactivates.


def test_expired_subscription_renewed_at_d_plus_10_pays_the_list_price_and_is_active_again(
    client, frozen_today, marie, dupont, smtp
):
    frozen_today(D + timedelta(days=10))
    _annual_eur("SUB-1002", marie, dupont)
    detail = client.get("/billing/subscriptions/SUB-1002/").content.decode()
    assert re.search(r'data-testid="stage">Expiré<', detail)

    client.post("/billing/subscriptions/SUB-1002/renew/")
    response = _pay_group(
        client, "5100000001:EUR:online", method="card", card="new", card_number=CARD_OK
    )
    order = Order.objects.get()
    assert response["Location"] == f"/billing/orders/{order.number}/"
    line = order.lines.get()
    assert (line.price_kind, line.unit_price, line.term_start, line.term_end) == (
        "list",
        Decimal("2100.00"),
        D,  # paying late gives no free days (R4)
        date(2028, 3, 31),
    )
    assert (order.subtotal, order.tax, order.total) == (
        Decimal("6300.00"),
        Decimal("1260.00"),
        Decimal("7560.00"),
    )
    page = client.get(response["Location"]).content.decode()
    assert "Prix catalogue" in page
    assert money_text(money("7560.00", "EUR"), "fr") in page

    detail = client.get("/billing/subscriptions/SUB-1002/").content.decode()
    assert re.search(r'data-testid="stage">Actif<', detail)
    assert re.search(r'data-testid="access">Oui<', detail)
    assert outbox.deliver_due() == {"sent": 1}
    assert [m["X-Renewals-Event"] for m in smtp.messages] == ["order-confirmation"]


# (c) Issue 3: another customer's user gets 404s, never 403s, and changes nothing.


def test_a_user_of_another_customer_gets_404_for_the_subscription_its_order_and_cart_actions(
    client, frozen_today, marie, dupont
):
    frozen_today(D - timedelta(days=60))
    _annual_eur("SUB-1003", marie, dupont)
    client.post("/billing/subscriptions/SUB-1003/renew/")
    _pay_group(client, "5100000001:EUR:online", method="card", card="new", card_number=CARD_OK)
    order = Order.objects.get()
    _annual_eur("SUB-1004", marie, dupont, renewal_date=date(2027, 2, 28))
    client.post("/billing/subscriptions/SUB-1004/renew/")
    before = (
        list(CartLine.objects.values_list("user_id", "subscription_id")),
        list(Subscription.objects.order_by("pk").values_list("pk", "renewal_date", "auto_renew")),
        Order.objects.count(),
    )
    marie_subs = ["SUB-1003", "SUB-1004"]

    other_customer = CustomerFactory(csn="5200000009", name="Autre SA", country="FR")
    stranger = UserFactory(email="paul@autre.example", language="fr")
    _annual_eur("SUB-2001", stranger, other_customer)
    client.force_login(stranger)
    for url in (
        "/billing/subscriptions/SUB-1003/",
        "/billing/subscriptions/SUB-1003/renew/",
        f"/billing/orders/{order.number}/",
        "/billing/cart/checkout/5100000001:EUR:online/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post("/billing/subscriptions/SUB-1004/renew/").status_code == 404
    assert client.post("/billing/subscriptions/SUB-1004/auto-renew/").status_code == 404
    review = _bulk_post(client, "renew", ["SUB-1004"])
    assert 'data-testid="bulk-line-SUB-1004"' not in review.content.decode()
    assert not CartLine.objects.filter(user=stranger).exists()
    client.post("/billing/cart/add/", {"subscription_ids": ["SUB-1004"]})
    client.post("/billing/cart/remove/SUB-1004/")
    client.post(
        "/billing/cart/checkout/5100000001:EUR:online/",
        {"idempotency_key": "x" * 32, "method": "card", "card_number": CARD_OK},
    )
    assert not CartLine.objects.filter(user=stranger).exists()
    after = (
        list(CartLine.objects.values_list("user_id", "subscription_id")),
        list(
            Subscription.objects.filter(pk__in=marie_subs)
            .order_by("pk")
            .values_list("pk", "renewal_date", "auto_renew")
        ),
        Order.objects.count(),
    )
    assert after == before


def test_a_french_checkout_refuses_a_price_that_changed_since_the_page_was_shown(
    client, frozen_today, marie, dupont
):
    # The form's expected total must not be localised ("6804,00"): it would be unreadable and the
    # R6 price check silently skipped for French customers.
    frozen_today(D - timedelta(days=1))
    _annual_eur("SUB-1005", marie, dupont)
    client.post("/billing/subscriptions/SUB-1005/renew/")
    page = client.get("/billing/cart/checkout/5100000001:EUR:online/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    assert 'name="expected_total" value="6804.00"' in page

    frozen_today(D)  # D passed: the list price applies now (R6)
    response = client.post(
        "/billing/cart/checkout/5100000001:EUR:online/",
        {
            "idempotency_key": key,
            "expected_total": "6804.00",
            "method": "card",
            "card": "new",
            "card_number": CARD_OK,
        },
    )
    assert response.status_code == 409
    assert "Le prix a changé depuis votre consultation." in response.content.decode()
    assert money_text(money("7560.00", "EUR"), "fr") in response.content.decode()
    assert (Order.objects.count(), Payment.objects.count()) == (0, 0)
    assert Subscription.objects.get(pk="SUB-1005").renewal_date == D
