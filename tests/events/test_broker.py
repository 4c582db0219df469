"""Deliveries through a real Celery worker on Redis, against PostgreSQL (R22).

Run with: BROKER_TEST_URL=redis://127.0.0.1:6379/13 DATABASE_URL=postgres://…/r_x pytest -m broker
The worker is a subprocess on a queue of its own (tests/lifecycle/test_broker.py); the receiver
listens in this process on 127.0.0.1.
"""

import time

import pytest
from django.db import transaction

from renewals.events import deliveries
from renewals.events.endpoints import add_endpoint
from renewals.events.jobs import deliver_due_job
from renewals.events.models import Delivery, Event
from renewals.subscriptions.actions import renew_subscriptions
from tests.lifecycle.test_broker import worker_queue  # noqa: F401
from tests.payments.helpers import TODAY, eur_subscription

from .receiver import Receiver
from .test_emission import D, pay_by_card

pytestmark = [pytest.mark.broker, pytest.mark.postgres]


# Deliveries wait for every older writing transaction of the PostgreSQL server to end (see
# Event.position): on a server shared with other test runs that can take minutes.
def wait_for(condition, timeout=300.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def checkout_and_renewal(prefix: str) -> None:
    """A card checkout of one subscription, then a renewal by another path, each committed."""
    first = eur_subscription(id=f"{prefix}-1", renewal_date=D)
    second = eur_subscription(id=f"{prefix}-2", renewal_date=D)
    with transaction.atomic():
        pay_by_card([first])
    with transaction.atomic():
        renew_subscriptions([(second.pk, D)], today=TODAY, source="test")


def view(receiver: Receiver) -> list[tuple[str, str]]:
    """What the receiver processed, with the run's prefix taken off the subscription ids."""
    return [(e["type"], e["subscription_id"].split("-", 1)[1]) for e in receiver.processed]


def test_a_worker_delivers_what_the_in_process_path_delivers_through_an_outage(
    worker_queue,  # noqa: F811
    settings,
    monkeypatch,
):
    settings.EVENTS_ALLOW_PRIVATE_URLS = True
    monkeypatch.setenv("EVENTS_ALLOW_PRIVATE_URLS", "1")  # the worker process's setting too
    receiver = Receiver().start()
    try:
        endpoint, receiver.secret = add_endpoint(receiver.url)
        # In-process, as without a broker (no worker yet: the queued jobs wait on Redis).
        checkout_and_renewal("inproc")
        # Events become deliverable once every older writing transaction of the server has
        # finished (Event.position): other sessions' open transactions delay them a moment.
        assert wait_for(
            lambda: deliveries.deliver_endpoint(endpoint.pk) and len(receiver.processed) == 3
        )
        in_process = view(receiver)
        assert in_process == [
            ("subscription.renewed", "1"),
            ("order.paid", "1"),
            ("subscription.renewed", "2"),
        ]
        receiver.processed.clear()

        # Through the worker, the receiver failing at first: nothing lost, nothing reordered.
        receiver.mode = "500"
        worker_queue()
        checkout_and_renewal("worker")
        assert wait_for(
            lambda: Delivery.objects.filter(state="pending", attempts__gte=1).exists()
        ), "the worker never tried"
        assert receiver.processed == []
        receiver.mode = "ok"
        time.sleep(deliveries.retry_delay(1) + 1)  # the first back-off delay

        def swept() -> bool:
            deliver_due_job.delay()  # what `renewals scheduler` sends every 10 s
            time.sleep(2)
            return not Delivery.objects.filter(state="pending").exists()

        assert wait_for(swept)
        assert view(receiver) == in_process
        assert receiver.bad_signatures == 0
        worker_events = Event.objects.filter(subjects__subscription_id__startswith="worker-")
        expected = list(
            worker_events.distinct().order_by("position", "pk").values_list("pk", flat=True)
        )
        assert [e["id"] for e in receiver.processed] == [f"evt_{pk}" for pk in expected]
    finally:
        receiver.stop()
