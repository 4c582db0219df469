"""The cart's seats and term controls (R21): htmx answers the group priced for the change."""

from datetime import date
from decimal import Decimal

import pytest

from renewals.checkout.models import CartLine, CartLineChange, OrderLine
from renewals.subscriptions.models import Subscription
from tests.factories import (
    CustomerFactory,
    PriceFactory,
    SubscriptionFactory,
    TaxRateFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2027, 2, 10)
D = date(2027, 2, 28)
HTMX = {"HX-Request": "true"}


@pytest.fixture
def marie(client, frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    user = UserFactory(email="marie@dupont.example")
    client.force_login(user)
    return user


@pytest.fixture
def sub(marie, client):
    customer = CustomerFactory(csn="5100000001", name="Atelier Dupont", country="FR")
    sub = SubscriptionFactory(
        id="SUB-M",
        customer=customer,
        purchaser=marie,
        term="monthly",
        seats=5,
        start_date=date(2027, 1, 31),
        renewal_date=D,
        offering__code="ACAD",
        offering__name="AutoCAD",
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
    client.post("/billing/cart/add/", {"subscription_ids": ["SUB-M"]})
    return sub


def change(client, body, headers=HTMX, sub_id="SUB-M"):
    return client.post(f"/billing/cart/change/{sub_id}/", body, headers=headers)


def test_the_cart_shows_seats_and_the_terms_the_catalogue_sells(client, sub):
    html = client.get("/billing/cart/").content.decode()
    assert 'data-testid="seats-SUB-M"' in html and 'value="5"' in html
    assert '<option value="monthly" selected>Monthly</option>' in html
    assert '<option value="annual">Annual</option>' in html
    assert "three_year" not in html
    assert 'hx-post="/billing/cart/change/SUB-M/"' in html


def test_htmx_answers_the_group_with_line_subtotal_tax_total_and_dates(client, sub):
    response = change(client, {"seats": "3", "term": "annual"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(
        '<section class="card" data-testid="group-5100000001:EUR:online">'
    )
    assert "<html" not in html
    assert 'data-testid="amount-SUB-M">€2,970.00<' in html
    assert 'data-testid="subtotal">€2,970.00<' in html
    assert 'data-testid="tax">€594.00<' in html
    assert 'data-testid="total">€3,564.00<' in html
    assert "Special renewal price" in html
    assert "2/28/27 – 2/29/28" in html or "28/02/2027" in html or "Feb" in html
    assert "Now 5 seats, Monthly" in html
    assert '<option value="annual" selected>' in html
    line = CartLine.objects.get()
    assert (line.seats, line.term_end) == (3, date(2028, 2, 29))
    assert Subscription.objects.get().seats == 5  # nothing changes before payment


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"seats": "0"}, "A renewal needs at least 1 seat."),
        ({"seats": "10001"}, "A renewal can have at most 10000 seats."),
        ({"seats": "three"}, "Type the number of seats as a whole number."),
        ({"term": "three_year"}, "This term is not offered for this product and currency."),
        ({"term": "weekly"}, "Choose monthly, annual or 3 years."),
    ],
)
def test_a_refusal_is_shown_in_words_under_the_line_and_changes_nothing(client, sub, body, words):
    before = list(CartLine.objects.values())
    response = change(client, body)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="change-error-SUB-M"' in html
    assert words in html
    assert list(CartLine.objects.values()) == before
    assert not CartLineChange.objects.exists()


def test_the_refusal_is_in_the_users_language(client, sub, marie):
    client.post("/language/", {"language": "fr"})
    response = change(client, {"seats": "0"})
    assert "Un renouvellement demande au moins 1 poste." in response.content.decode()


def test_without_javascript_the_form_posts_and_comes_back_to_the_cart(client, sub):
    response = change(client, {"seats": "2", "term": "annual"}, headers={})
    assert (response.status_code, response["Location"]) == (302, "/billing/cart/")
    html = client.get("/billing/cart/").content.decode()
    assert "SUB-M: the next term is updated." in html
    assert 'data-testid="total">€2,376.00<' in html


def test_another_users_line_is_not_found_and_left_alone(client, sub):
    eve = UserFactory(email="eve@example.com")
    client.force_login(eve)
    assert change(client, {"seats": "1"}).status_code == 404
    response = change(client, {"seats": "1"}, headers={})
    assert response.status_code == 302
    client.force_login(sub.purchaser)
    assert CartLine.objects.get().seats == 5


def test_marie_renews_monthly_as_annual_with_fewer_seats_in_the_portal(client, sub):
    import re

    change(client, {"seats": "3", "term": "annual"})
    page = client.get("/billing/cart/checkout/5100000001:EUR:online/").content.decode()
    assert "3 · Annual" in page and "Now 5 seats, Monthly" in page
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    total = re.search(r'name="expected_total" value="([0-9.]+)"', page).group(1)
    assert total == "3564.00"
    response = client.post(
        "/billing/cart/checkout/5100000001:EUR:online/",
        {"method": "card", "card": "new", "card_number": "4242424242424242",
         "idempotency_key": key, "expected_total": total},
    )  # fmt: skip
    assert response.status_code == 302
    order_page = client.get(response["Location"]).content.decode()
    assert "Was 5 seats, Monthly" in order_page
    sub.refresh_from_db()
    assert (sub.seats, sub.term, sub.renewal_date) == (3, "annual", date(2028, 2, 29))
    line = OrderLine.objects.get()
    assert (line.seats, line.term) == (3, "annual")
    detail = client.get("/billing/subscriptions/SUB-M/").content.decode()
    assert "29 February 2028" in detail


def test_the_subscription_page_schedules_and_cancels_a_change_of_the_next_renewal(client, sub):
    page = client.get("/billing/subscriptions/SUB-M/").content.decode()
    assert 'data-testid="next-renewal-form"' in page
    assert "The next term keeps 5 seats, Monthly." in page
    response = client.post(
        "/billing/subscriptions/SUB-M/next-renewal/", {"seats": "3", "term": "annual"}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "The change is saved for the next renewal." in page
    assert "3 seats, Annual" in page
    assert "€990.00 × 3" in page  # the renewal offer follows the scheduled change
    sub.refresh_from_db()
    assert sub.scheduled_change == {"for": "2027-02-28", "seats": 3, "term": "annual"}
    client.post("/billing/subscriptions/SUB-M/next-renewal/", {"action": "cancel"})
    sub.refresh_from_db()
    assert sub.scheduled_change is None


def test_a_refused_scheduled_change_is_said_in_words(client, sub):
    response = client.post("/billing/subscriptions/SUB-M/next-renewal/", {"seats": "0"})
    page = client.get(response["Location"]).content.decode()
    assert "The next renewal was not changed: A renewal needs at least 1 seat." in page
    sub.refresh_from_db()
    assert sub.scheduled_change is None


def test_another_customers_subscription_page_form_is_a_404(client, sub):
    client.force_login(UserFactory(email="eve@example.com"))
    response = client.post("/billing/subscriptions/SUB-M/next-renewal/", {"seats": "2"})
    assert response.status_code == 404
