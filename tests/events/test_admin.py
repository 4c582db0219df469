"""Back office of events (R22): endpoints with the secret shown once, the delivery log,
replay, and API tokens with the staff kind."""

from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from renewals.api.models import ApiToken
from renewals.events import deliveries
from renewals.events.models import Delivery, DeliveryAttempt, Endpoint, Event
from renewals.subscriptions.actions import renew_subscriptions
from tests.factories import UserFactory
from tests.payments.helpers import TODAY, eur_subscription

from .receiver import Receiver

pytestmark = pytest.mark.django_db

D = date(2027, 3, 31)


@pytest.fixture
def staff():
    client = Client()
    client.force_login(UserFactory(email="ops@renewals.example", is_staff=True, is_superuser=True))
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_adding_an_endpoint_shows_its_secret_once(staff, settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = True
    response = staff.post(
        "/admin/events/endpoint/add/",
        {
            "url": "http://127.0.0.1:9/hook",
            "description": "ERP",
            "types": ["order.paid"],
            "enabled": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    endpoint = Endpoint.objects.get()
    assert endpoint.types == ["order.paid"] and endpoint.secret.startswith("whsec_")
    shown = [m for m in messages_of(response) if endpoint.secret in m]
    assert len(shown) == 1
    page = staff.get(f"/admin/events/endpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page


def test_a_private_url_is_refused_in_the_form(staff, settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = False
    response = staff.post(
        "/admin/events/endpoint/add/", {"url": "http://10.0.0.8/hook", "enabled": "on"}
    )
    assert response.status_code == 200
    assert "private" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_the_delivery_log_and_replay_from_the_back_office(staff, settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = True
    receiver = Receiver().start()
    try:
        staff.post("/admin/events/endpoint/add/", {"url": receiver.url, "enabled": "on"})
        endpoint = Endpoint.objects.get()
        receiver.secret = endpoint.secret
        renew_subscriptions([(eur_subscription(renewal_date=D).pk, D)], today=TODAY, source="t")
        deliveries.deliver_endpoint(endpoint.pk)
        log = staff.get(f"/admin/events/deliveryattempt/?delivery__endpoint={endpoint.pk}")
        assert log.status_code == 200 and "200" in log.content.decode()
        delivery = Delivery.objects.get()
        staff.post(
            "/admin/events/delivery/",
            {"action": "replay", "_selected_action": [delivery.pk]},
        )
        deliveries.deliver_endpoint(endpoint.pk)
        assert [p["headers"]["renewals-event-id"] for p in receiver.posts] == [
            Event.objects.get().public_id
        ] * 2
        assert DeliveryAttempt.objects.filter(replay=True).count() == 1
        for path in ("/admin/events/event/", "/admin/events/endpoint/", "/admin/events/delivery/"):
            assert staff.get(path).status_code == 200
    finally:
        receiver.stop()


def test_staff_tokens_from_the_back_office(staff):
    plain = UserFactory(email="marie@dupont.example")
    refused = staff.post("/admin/api/apitoken/add/", {"user": plain.pk, "name": "x", "staff": "on"})
    assert refused.status_code == 200 and not ApiToken.objects.exists()
    ops = UserFactory(email="erp@renewals.example", is_staff=True)
    response = staff.post(
        "/admin/api/apitoken/add/", {"user": ops.pk, "name": "ERP", "staff": "on"}, follow=True
    )
    token = ApiToken.objects.get()
    assert token.staff and token.user == ops
    raw = next(m.split(": ", 1)[1] for m in messages_of(response) if "rnw_" in m)
    answer = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/events")
    assert answer.status_code == 200
