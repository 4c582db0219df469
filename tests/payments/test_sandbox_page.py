"""The sandbox 3-D Secure challenge page (R9, R10): scoped, answered once, returns to the order."""

from datetime import date

import pytest

from renewals.checkout.models import Order
from renewals.payments import actions
from tests.factories import UserFactory

from .helpers import TODAY, eur_subscription, order_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def challenged():
    sub = eur_subscription()
    order = order_for([sub])
    return actions.start_payment(
        order,
        method="card",
        user=order.placed_by,
        card_token="4000000000003220",
        today=TODAY,
        return_url=f"/billing/orders/{order.number}/",
    )


def test_challenge_page_shows_both_buttons_to_the_buyer(client, challenged):
    client.force_login(challenged.order.placed_by)
    page = client.get(challenged.action_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Complete authentication" in html and "Fail authentication" in html
    assert "3220" in html


def test_completing_the_challenge_pays_and_returns_to_the_order(client, challenged):
    client.force_login(challenged.order.placed_by)
    response = client.post(challenged.action_url, {"answer": "complete"})
    assert response.status_code == 302
    assert response["Location"] == f"/billing/orders/{challenged.order.number}/"
    challenged.refresh_from_db()
    assert challenged.status == "succeeded"
    sub = challenged.order.lines.get().subscription
    sub.refresh_from_db()
    assert sub.renewal_date == date(2028, 3, 31)


def test_failing_the_challenge_fails_the_order(client, challenged):
    client.force_login(challenged.order.placed_by)
    client.post(challenged.action_url, {"answer": "fail"})
    challenged.refresh_from_db()
    assert (challenged.status, challenged.failure_code) == ("failed", "authentication_failed")
    assert Order.objects.get().status == "failed"


def test_answering_twice_changes_nothing_the_second_time(client, challenged):
    client.force_login(challenged.order.placed_by)
    client.post(challenged.action_url, {"answer": "complete"})
    client.post(challenged.action_url, {"answer": "fail"})
    challenged.refresh_from_db()
    assert challenged.status == "succeeded"


def test_another_user_gets_a_404_and_changes_nothing(client, challenged):
    client.force_login(UserFactory())
    assert client.get(challenged.action_url).status_code == 404
    assert client.post(challenged.action_url, {"answer": "complete"}).status_code == 404
    challenged.refresh_from_db()
    assert challenged.status == "requires_action"


def test_an_external_return_url_is_not_followed(client):
    sub = eur_subscription()
    order = order_for([sub])
    payment = actions.start_payment(
        order,
        method="card",
        user=order.placed_by,
        card_token="4000000000003220",
        today=TODAY,
        return_url="https://evil.example/",
    )
    client.force_login(order.placed_by)
    response = client.post(payment.action_url, {"answer": "complete"})
    assert response["Location"] == f"/billing/orders/{order.number}/?return=1"
