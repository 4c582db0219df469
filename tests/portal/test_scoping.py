"""Every portal page starts from the user's visible subscriptions: others' ids are 404 (R5)."""

from datetime import date

import pytest

from renewals.subscriptions.models import Subscription
from tests.factories import UserFactory, priced_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_sub(frozen_today):
    frozen_today(date(2026, 6, 1))
    return priced_subscription(id="THEIRS-1", renewal_date=date(2026, 7, 1))


@pytest.fixture
def stranger(client):
    user = UserFactory(email="stranger@example.com")
    client.force_login(user)
    return user


def test_another_customers_subscription_detail_is_404(client, other_sub, stranger):
    assert client.get("/billing/subscriptions/THEIRS-1/").status_code == 404


def test_another_customers_auto_renew_is_404_and_unchanged(client, other_sub, stranger):
    response = client.post("/billing/subscriptions/THEIRS-1/auto-renew/", {"auto_renew": "on"})

    assert response.status_code == 404
    assert Subscription.objects.get(pk="THEIRS-1").auto_renew is False


def test_another_customers_subscription_renew_path_is_404(client, other_sub, stranger):
    assert client.post("/billing/subscriptions/THEIRS-1/renew/").status_code == 404


@pytest.mark.parametrize("sub_id", ["NOPE", "x" * 65, "%00", "..%2f..", "THEIRS-1%27%20OR%201%3D1"])
def test_unknown_or_malformed_ids_are_404(client, other_sub, stranger, sub_id):
    assert client.get(f"/billing/subscriptions/{sub_id}/").status_code == 404


def test_another_customers_subscription_is_not_listed(client, other_sub, stranger):
    response = client.get("/billing/subscriptions/?q=THEIRS")

    assert response.context["rows"] == []


def test_anonymous_visitors_are_sent_to_sign_in_everywhere(client, other_sub):
    for method, path in [
        ("get", "/"),
        ("get", "/billing/subscriptions/"),
        ("get", "/billing/subscriptions/THEIRS-1/"),
        ("post", "/billing/subscriptions/THEIRS-1/auto-renew/"),
        ("get", "/billing/payment-methods/"),
        ("post", "/billing/payment-methods/add/"),
        ("post", "/billing/payment-methods/assign/"),
        ("post", "/billing/payment-methods/1/remove/"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path
