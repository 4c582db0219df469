"""Concurrent webhook deliveries on PostgreSQL: fulfilment happens exactly once (R4, R10)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connection

from renewals.notifications.models import Email
from renewals.payments import actions
from renewals.payments.gateways.sandbox import SandboxGateway, event_body
from renewals.payments.models import Payment, WebhookEvent
from renewals.payments.webhooks import receive_webhook
from renewals.subscriptions.models import Subscription, Term

from .helpers import TODAY, jpy_subscriptions, order_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _deliver(body):
    try:
        return receive_webhook("sandbox", body, SandboxGateway().signed_headers(body), today=TODAY)[
            0
        ]
    finally:
        connection.close()


def test_the_same_and_different_success_events_racing_fulfil_once():
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini")
    payment = actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    same = event_body("payment.succeeded", payment.reference)
    bodies = [same] * 6 + [event_body("payment.succeeded", payment.reference) for _ in range(6)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(_deliver, bodies))
    assert statuses == [200] * 12
    assert WebhookEvent.objects.count() == 7
    assert Payment.objects.get().status == "succeeded"
    assert Subscription.objects.get().renewal_date == date(2028, 3, 31)
    assert Term.objects.filter(subscription=sub).count() == 2
    assert Email.objects.filter(kind="order-confirmation").count() == 1
