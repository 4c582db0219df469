"""A subscription moved to another customer takes none of the old customer's orders along.

The probe moved a subscription from customer A to customer B: B's purchaser then saw A's order
that had renewed it — its other subscriptions' lines, the totals and the payment reference.
An order is visible to whoever may see its customer (the CSN's admins, the purchasers of its
subscriptions still at that customer) and to the person who placed it (issue #14).
"""

import pytest

from renewals.accounts.models import Customer
from renewals.api.tokens import create_token
from renewals.checkout.models import Order
from renewals.subscriptions.models import Subscription
from tests.factories import UserFactory

from .world import PASSWORD, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def moved(frozen_today):
    """SUB-A2 (renewed by a paid order of customer A) now belongs to B and its purchaser."""
    from .world import TODAY

    frozen_today(TODAY)
    world = build_world()
    b = Customer.objects.get(csn="5300000002")
    # What a re-import or the back office does when a contract changes hands.
    Subscription.objects.filter(pk="SUB-A2").update(customer=b, purchaser=world.users["stranger"])
    return world


def _signed_in(client, user):
    assert client.login(username=user.email, password=PASSWORD)
    return client


def _api(client, user):
    _token, raw = create_token(user=user, name="probe")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_the_new_purchaser_does_not_see_the_old_customers_order_on_the_portal(client, moved):
    _signed_in(client, moved.users["stranger"])

    assert client.get(f"/billing/orders/{moved.order}/").status_code == 404
    listing = client.get("/billing/orders/").content.decode()
    assert moved.order not in listing
    # The subscription itself is theirs now.
    assert client.get("/billing/subscriptions/SUB-A2/").status_code == 200


def test_the_new_purchaser_does_not_see_the_old_customers_order_in_the_api(client, moved):
    headers = _api(client, moved.users["stranger"])

    detail = client.get(f"/api/v1/orders/{moved.order}", **headers)
    assert detail.status_code == 404
    assert detail.json()["error"]["code"] == "not_found"
    numbers = [o["number"] for o in client.get("/api/v1/orders", **headers).json()["results"]]
    assert moved.order not in numbers
    assert client.get("/api/v1/subscriptions/SUB-A2", **headers).status_code == 200


def test_the_old_customer_and_the_placer_still_see_it(client, moved):
    for role in ("purchaser", "admin"):  # the placer, and the admin of customer A
        client.logout()
        _signed_in(client, moved.users[role])
        assert client.get(f"/billing/orders/{moved.order}/").status_code == 200, role
        headers = _api(client, moved.users[role])
        assert client.get(f"/api/v1/orders/{moved.order}", **headers).status_code == 200, role


def test_a_purchaser_of_a_subscription_still_at_the_customer_sees_an_order_placed_by_nobody(
    client, moved
):
    # An automatic order has no placer: the purchaser of a subscription it renews sees it while
    # that subscription is at the order's customer, and not once it moved.
    order = Order.objects.get(number=moved.order)
    order.placed_by = None
    order.automatic = True
    order.save(update_fields=["placed_by", "automatic"])
    newcomer = UserFactory(email="newcomer@a.example")
    newcomer.set_password(PASSWORD)
    newcomer.save()
    Subscription.objects.filter(pk="SUB-A2").update(customer=order.customer, purchaser=newcomer)
    _signed_in(client, newcomer)
    assert client.get(f"/billing/orders/{moved.order}/").status_code == 200

    Subscription.objects.filter(pk="SUB-A2").update(customer=Customer.objects.get(csn="5300000002"))
    assert client.get(f"/billing/orders/{moved.order}/").status_code == 404
    client.logout()
    _signed_in(client, moved.users["purchaser"])  # no longer its placer either
    assert client.get(f"/billing/orders/{moved.order}/").status_code == 404


def test_the_new_purchaser_cannot_open_the_old_customers_invoice(client, moved):
    b = Customer.objects.get(csn="5300000002")
    Subscription.objects.filter(pk="SUB-A4").update(customer=b, purchaser=moved.users["stranger"])
    _signed_in(client, moved.users["stranger"])
    assert client.get(f"/billing/invoices/{moved.invoice}.pdf").status_code == 404
    client.logout()
    _signed_in(client, moved.users["admin"])
    assert client.get(f"/billing/invoices/{moved.invoice}.pdf").status_code == 200
