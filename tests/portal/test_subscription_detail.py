"""Subscription detail (R17): facts, renewal options or every R5 reason in words, auto-renew."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from renewals.checkout.models import Order, OrderLine
from renewals.core.models import AuditEvent
from renewals.notifications.models import Email
from renewals.subscriptions.models import Subscription, Term
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    OfferingFactory,
    PartnerFactory,
    SubscriptionFactory,
    UserFactory,
    priced_subscription,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 1)


@pytest.fixture
def today(frozen_today):
    return frozen_today(TODAY)


@pytest.fixture
def user():
    return UserFactory(email="marie@dupont.example", name="Marie Dupont")


def page(client, sub_id):
    response = client.get(f"/billing/subscriptions/{sub_id}/")
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</section>", start)]


def test_eligible_subscription_offers_renew_now_with_the_special_renewal_price(client, today, user):
    sub = priced_subscription(
        id="SUB-1001",
        purchaser=user,
        seats=3,
        renewal_date=date(2026, 7, 31),
        offering=OfferingFactory(code="ACAD", name="AutoCAD"),
    )
    client.force_login(user)

    html = page(client, sub.pk)

    renewal = section(html, "renewal")
    assert "Special renewal price" in renewal
    assert "€1,890.00 × 3 = <strong>€5,670.00</strong>" in renewal
    assert "31 July 2026 until 31 July 2027" in renewal
    assert 'action="/billing/subscriptions/SUB-1001/renew/"' in renewal
    assert "Renew now in checkout" in renewal
    assert 'data-testid="access">Yes<' in html


def test_expired_subscription_pays_the_list_price_and_keeps_access(client, today, user):
    sub = priced_subscription(purchaser=user, seats=2, renewal_date=TODAY - timedelta(days=14))
    client.force_login(user)

    html = page(client, sub.pk)

    assert "List price" in section(html, "renewal")
    assert "€2,100.00 × 2 = <strong>€4,200.00</strong>" in html
    assert 'data-testid="access">Yes<' in html
    assert "stage-expired" in html


def test_suspended_subscription_has_no_access(client, today, user):
    sub = priced_subscription(purchaser=user, renewal_date=TODAY - timedelta(days=15))
    client.force_login(user)

    html = page(client, sub.pk)

    assert 'data-testid="access">No<' in html
    assert "Renew now in checkout" in html


@pytest.mark.parametrize(("days_before", "renewable"), [(91, False), (90, True), (89, True)])
def test_too_early_says_the_date_the_window_opens(client, today, user, days_before, renewable):
    sub = priced_subscription(purchaser=user, renewal_date=TODAY + timedelta(days=days_before))
    client.force_login(user)

    html = page(client, sub.pk)

    if renewable:
        assert "Renew now in checkout" in html
    else:
        assert "Renewal opens on 2 June 2026." in section(html, "renewal")
        assert "Renew now in checkout" not in html


def test_too_early_date_is_in_the_language_of_the_page(client, today, user):
    user.language = "fr"
    user.save()
    sub = priced_subscription(purchaser=user, renewal_date=date(2026, 12, 1))
    client.force_login(user)

    html = page(client, sub.pk)

    assert "2 septembre 2026" in section(html, "renewal")


def test_not_purchaser_names_the_purchaser(client, today, user):
    purchaser = UserFactory(email="kenji@kobayashi.example", name="Kenji Kobayashi")
    customer = CustomerFactory()
    MembershipFactory(user=user, customer=customer)
    sub = priced_subscription(customer=customer, purchaser=purchaser, renewal_date=date(2026, 7, 1))
    client.force_login(user)

    html = page(client, sub.pk)

    reasons = section(html, "renewal")
    assert (
        "Only the purchaser, Kenji Kobayashi &lt;kenji@kobayashi.example&gt;, can renew this "
        "subscription." in reasons
    )
    assert "Renew now in checkout" not in html
    assert 'data-testid="auto-renew-toggle"' not in html


def test_partner_managed_shows_the_partner_contact(client, today, user):
    partner = PartnerFactory(
        name="CAD Partners SARL", email="renew@cadpartners.example", phone="+33 1 23 45 67 89"
    )
    sub = priced_subscription(
        purchaser=user, purchase_method="partner", partner=partner, renewal_date=date(2026, 7, 1)
    )
    client.force_login(user)

    html = page(client, sub.pk)

    assert (
        "This subscription is renewed through your partner CAD Partners SARL "
        "(renew@cadpartners.example, +33 1 23 45 67 89)." in section(html, "renewal")
    )


def test_every_failing_reason_is_listed(client, today, user):
    sub = SubscriptionFactory(
        purchaser=user, trial=True, renewal_date=TODAY - timedelta(days=1)
    )  # a trial, cancelled from D, and no catalogue price
    client.force_login(user)

    html = page(client, sub.pk)

    reasons = section(html, "reasons")
    assert "A trial cannot be renewed." in reasons
    assert "This subscription is cancelled and can no longer be renewed." in reasons
    assert "This product is no longer offered for this term and currency." in reasons
    assert reasons.count("<li>") == 3


def test_payment_pending_links_to_the_waiting_order(client, today, user):
    sub = priced_subscription(purchaser=user, renewal_date=date(2026, 7, 1))
    order = Order.objects.create(
        number="R-2026-000042",
        customer=sub.customer,
        currency="EUR",
        purchase_method="online",
        payment_method="konbini",
        status="pending_payment",
        placed_by=user,
        subtotal=Decimal("5670"),
        tax=Decimal("0"),
        total=Decimal("5670"),
        tax_rate=Decimal("0"),
        business_date=TODAY,
    )
    OrderLine.objects.create(
        order=order,
        subscription=sub,
        seats=3,
        unit_price=Decimal("1890"),
        price_kind="renewal",
        amount=Decimal("5670"),
        term_start=sub.renewal_date,
        term_end=date(2027, 7, 1),
    )
    client.force_login(user)

    html = page(client, sub.pk)

    renewal = section(html, "renewal")
    assert "Order R-2026-000042 for its next term is waiting for payment." in renewal
    assert 'href="/billing/orders/R-2026-000042/"' in renewal


def test_term_history_links_terms_to_their_orders(client, today, user):
    sub = priced_subscription(purchaser=user, renewal_date=date(2027, 3, 31))
    Term.objects.create(
        subscription=sub, start=date(2027, 3, 31), end=date(2028, 3, 31), order_number="R-7"
    )
    client.force_login(user)

    html = page(client, sub.pk)

    terms = section(html, "terms")
    assert 'href="/billing/orders/R-7/">R-7</a>' in terms
    assert "31 March 2026" in terms and "31 March 2028" in terms
    assert terms.count("<tr>") == 3  # header + imported term + paid term


def test_detail_uses_a_fixed_number_of_queries(client, today, user, django_assert_max_num_queries):
    sub = priced_subscription(purchaser=user, renewal_date=date(2026, 7, 1))
    client.force_login(user)

    with django_assert_max_num_queries(9):
        client.get(f"/billing/subscriptions/{sub.pk}/")


def test_turning_auto_renew_on_changes_it_and_confirms(client, today, user):
    sub = priced_subscription(purchaser=user, renewal_date=date(2026, 7, 1))
    client.force_login(user)

    response = client.post(
        f"/billing/subscriptions/{sub.pk}/auto-renew/", {"auto_renew": "on"}, follow=True
    )

    assert response.status_code == 200
    assert Subscription.objects.get(pk=sub.pk).auto_renew is True
    assert "Automatic renewal is now on." in response.content.decode()
    assert AuditEvent.objects.filter(object_id=sub.pk, action="auto_renew_on").count() == 1
    assert list(Email.objects.values_list("kind", "to")) == [
        ("auto-renew-changed", "marie@dupont.example")
    ]


def test_turning_auto_renew_off(client, today, user):
    sub = priced_subscription(purchaser=user, renewal_date=date(2026, 7, 1), auto_renew=True)
    client.force_login(user)

    client.post(f"/billing/subscriptions/{sub.pk}/auto-renew/", {"auto_renew": "off"})

    assert Subscription.objects.get(pk=sub.pk).auto_renew is False


def test_auto_renew_refusal_is_shown_in_words_and_changes_nothing(client, today, user):
    sub = priced_subscription(
        purchaser=user, renewal_date=date(2026, 7, 1), payment_method="konbini", currency="JPY"
    )
    client.force_login(user)

    response = client.post(
        f"/billing/subscriptions/{sub.pk}/auto-renew/", {"auto_renew": "on"}, follow=True
    )

    assert Subscription.objects.get(pk=sub.pk).auto_renew is False
    assert (
        "Automatic renewal was not changed: Automatic renewal needs a saved card as the payment "
        "method." in response.content.decode()
    )
    assert Email.objects.count() == 0


@pytest.mark.parametrize("value", ["", "yes", "ON", "1"])
def test_auto_renew_with_a_malformed_choice_changes_nothing(client, today, user, value):
    sub = priced_subscription(purchaser=user, renewal_date=date(2026, 7, 1))
    client.force_login(user)

    response = client.post(
        f"/billing/subscriptions/{sub.pk}/auto-renew/", {"auto_renew": value}, follow=True
    )

    assert response.status_code == 200
    assert Subscription.objects.get(pk=sub.pk).auto_renew is False
    assert "Choose whether automatic renewal should be on or off." in response.content.decode()


def test_auto_renew_needs_post(client, today, user):
    sub = priced_subscription(purchaser=user)
    client.force_login(user)

    assert client.get(f"/billing/subscriptions/{sub.pk}/auto-renew/").status_code == 405
