"""Signed deliveries to a real HTTP receiver on 127.0.0.1 (R22, interfaces.md §2).

The receiver (tests/events/receiver.py) is written from docs/integration.md: it verifies the
signature and deduplicates by Renewals-Event-Id. Whatever the outage — down, 500, slow, a
dropped connection — it processes every event once, in order.
"""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from renewals.events import deliveries, signing
from renewals.events.endpoints import add_endpoint
from renewals.events.models import Delivery, DeliveryAttempt, Endpoint, Event
from renewals.lifecycle import daily
from renewals.subscriptions.actions import renew_subscriptions
from tests.factories import UserFactory
from tests.payments.helpers import TODAY, eur_subscription

from .receiver import Receiver
from .test_emission import pay_by_card

pytestmark = pytest.mark.django_db

D = date(2027, 3, 31)


@pytest.fixture(autouse=True)
def _private_urls(settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = True  # the receiver listens on 127.0.0.1


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def endpoint(receiver):
    endpoint, secret = add_endpoint(receiver.url)
    receiver.secret = secret
    return endpoint


def later(minutes=0, days=0):
    return timezone.now() + timedelta(minutes=minutes, days=days)


def flush(endpoint, *, until_days=4):
    """Deliver as the periodic sweep would, jumping over each back-off delay."""
    moment = timezone.now()
    while Delivery.objects.filter(endpoint=endpoint, state="pending").exists():
        deliveries.deliver_endpoint(endpoint.pk, now=moment)
        moment += timedelta(hours=7)
        assert moment < timezone.now() + timedelta(days=until_days), "never delivered"


def test_a_checkout_is_delivered_signed_once_in_order(endpoint, receiver):
    sub = eur_subscription(renewal_date=D)
    order = pay_by_card([sub])
    assert deliveries.waiting_for_delivery() == 2
    assert deliveries.deliver_endpoint(endpoint.pk) == {"delivered": 2, "failed": 0}
    assert receiver.types() == ["subscription.renewed", "order.paid"]
    assert receiver.bad_signatures == 0
    post = receiver.posts[0]
    assert post["path"] == "/hooks/renewals?src=test"
    assert post["headers"]["content-type"] == "application/json"
    assert post["headers"]["renewals-event-id"] == receiver.processed[0]["id"]
    assert receiver.processed[1]["data"]["object"]["number"] == order.number
    assert deliveries.waiting_for_delivery() == 0
    log = DeliveryAttempt.objects.order_by("started", "pk")
    assert [a.status_code for a in log] == [200, 200]
    assert all(a.duration_ms < 5000 and len(a.response) <= 500 for a in log)


@pytest.mark.parametrize("outage", ["down", "500", "slow", "close"])
def test_through_an_outage_every_event_is_processed_once_and_in_order(
    endpoint, receiver, outage, monkeypatch
):
    monkeypatch.setattr(deliveries, "READ_TIMEOUT", 0.5)
    receiver.slow_seconds = 1.0
    subs = [eur_subscription(renewal_date=D) for _ in range(2)]
    if outage == "down":
        receiver.stop()
    else:
        receiver.mode = outage
    pay_by_card([subs[0]])
    renew_subscriptions([(subs[1].pk, D)], today=TODAY, source="test")
    result = deliveries.deliver_endpoint(endpoint.pk)
    assert result == {"delivered": 0, "failed": 1}  # the head fails; later ones wait behind it
    head = Delivery.objects.filter(endpoint=endpoint).order_by("position", "event_id").first()
    assert head.attempts == 1 and head.next_attempt > timezone.now()
    assert deliveries.deliver_endpoint(endpoint.pk) == {"delivered": 0, "failed": 0}  # backing off
    # Still failing an hour later; then the receiver comes back.
    deliveries.deliver_endpoint(endpoint.pk, now=later(minutes=60))
    if outage == "down":
        receiver.start()
    receiver.mode = "ok"
    flush(endpoint)
    expected = list(Event.objects.order_by("position", "pk").values_list("type", flat=True))
    assert (
        receiver.types()
        == expected
        == ["subscription.renewed", "order.paid", "subscription.renewed"]
    )
    assert [e["id"] for e in receiver.processed] == [
        f"evt_{pk}" for pk in Event.objects.order_by("position", "pk").values_list("pk", flat=True)
    ]
    codes = list(
        DeliveryAttempt.objects.order_by("started", "pk").values_list("status_code", flat=True)
    )
    assert codes[-3:] == [200, 200, 200]
    if outage == "500":
        assert 500 in codes
    if outage in ("down", "close", "slow"):
        assert None in codes
        assert DeliveryAttempt.objects.exclude(error="").exists()
    if outage == "slow":
        # Processed during the outage, then posted again: the receiver deduplicated it.
        ids = [p["headers"]["renewals-event-id"] for p in receiver.posts]
        assert len(ids) > len(set(ids))


def test_each_subscription_sequence_arrives_in_order(endpoint, receiver):
    sub = eur_subscription(renewal_date=D)
    receiver.mode = "500"
    daily.run_daily(D)
    renew_subscriptions([(sub.pk, D)], today=D + timedelta(days=3), source="test")
    deliveries.deliver_endpoint(endpoint.pk)
    receiver.mode = "ok"
    flush(endpoint)
    mine = [e for e in receiver.processed if e["subscription_id"] == sub.pk]
    assert [e["sequence"] for e in mine] == [1, 2, 3]
    assert [e["type"] for e in mine] == [
        "subscription.stage_changed",
        "subscription.renewed",
        "subscription.stage_changed",
    ]


def test_back_off_doubles_and_is_retried_for_more_than_three_days(settings):
    delays = [deliveries.retry_delay(n) for n in range(1, 30)]
    assert delays == sorted(delays) and delays[0] == 10
    assert sum(delays) > 3 * 86400
    assert delays[-1] == delays[-2]  # keeps trying: nothing is dropped


def test_an_endpoint_failing_for_three_days_is_disabled_with_one_staff_email(
    endpoint, receiver, settings
):
    UserFactory(email="ops@renewals.example", is_staff=True)
    UserFactory(email="customer@example.com")
    receiver.mode = "500"
    renew_subscriptions([(eur_subscription(renewal_date=D).pk, D)], today=TODAY, source="test")
    moment = timezone.now()
    for _ in range(30):
        deliveries.deliver_endpoint(endpoint.pk, now=moment)
        moment += timedelta(hours=6, seconds=1)
    endpoint.refresh_from_db()
    assert endpoint.enabled is False and endpoint.disabled_reason == "failing"
    assert endpoint.consecutive_failures >= settings.EVENTS_DISABLE_AFTER_FAILURES
    from renewals.notifications.models import Email

    emails = Email.objects.filter(kind="endpoint-disabled")
    assert [e.to for e in emails] == ["ops@renewals.example"]
    assert receiver.url in emails[0].subject
    # Disabled: nothing more is sent, nothing is lost; enabling delivers what waited.
    posts = len(receiver.posts)
    deliveries.deliver_endpoint(endpoint.pk, now=moment + timedelta(days=1))
    assert len(receiver.posts) == posts
    renew_subscriptions([(eur_subscription(renewal_date=D).pk, D)], today=TODAY, source="test")
    receiver.mode = "ok"
    deliveries.enable(endpoint.pk)
    deliveries.deliver_endpoint(endpoint.pk)
    assert receiver.types() == ["subscription.renewed", "subscription.renewed"]


def test_replay_of_one_event_and_of_a_range(endpoint, receiver):
    subs = [eur_subscription(renewal_date=D) for _ in range(3)]
    for sub in subs:
        renew_subscriptions([(sub.pk, D)], today=TODAY, source="test")
    deliveries.deliver_endpoint(endpoint.pk)
    ids = list(Event.objects.order_by("pk").values_list("pk", flat=True))
    assert deliveries.replay(endpoint.pk, first_event_id=ids[1]) == 1
    deliveries.deliver_endpoint(endpoint.pk)
    assert deliveries.replay(endpoint.pk, first_event_id=ids[0], last_event_id=ids[2]) == 3
    deliveries.deliver_endpoint(endpoint.pk)
    sent = [p["headers"]["renewals-event-id"] for p in receiver.posts]
    assert sent == [f"evt_{i}" for i in ids + [ids[1]] + ids]
    assert len(receiver.processed) == 3  # the receiver's dedupe keeps it harmless
    assert DeliveryAttempt.objects.filter(replay=True).count() == 4


def test_a_replay_reaches_an_endpoint_added_after_the_event(receiver):
    renew_subscriptions([(eur_subscription(renewal_date=D).pk, D)], today=TODAY, source="test")
    endpoint, secret = add_endpoint(receiver.url)
    receiver.secret = secret
    assert Delivery.objects.count() == 0
    deliveries.replay(endpoint.pk, first_event_id=Event.objects.get().pk)
    deliveries.deliver_endpoint(endpoint.pk)
    assert receiver.types() == ["subscription.renewed"]


def test_an_endpoint_gets_only_the_types_it_asked_for(receiver):
    endpoint, secret = add_endpoint(receiver.url, types="order.paid")
    receiver.secret = secret
    pay_by_card([eur_subscription(renewal_date=D)])
    deliveries.deliver_endpoint(endpoint.pk)
    assert receiver.types() == ["order.paid"]


def test_two_workers_never_post_the_same_head_at_once(endpoint, receiver):
    renew_subscriptions([(eur_subscription(renewal_date=D).pk, D)], today=TODAY, source="test")
    now = timezone.now()
    first = deliveries.claim_head(endpoint.pk, now=now)
    assert first is not None
    assert deliveries.claim_head(endpoint.pk, now=now) is None
    # A worker that died: its lease runs out and the delivery is taken over.
    second = deliveries.claim_head(endpoint.pk, now=now + timedelta(seconds=61))
    assert second is not None and second.lease != first.lease
    late = deliveries.Answer(200, "", "ok", 10)
    assert deliveries.record(first, late, now=now) == "delivered"
    assert Delivery.objects.get().state == "pending"  # the stale lease decides nothing
    assert deliveries.record(second, late, now=now) == "delivered"
    assert Delivery.objects.get().state == "delivered"


def test_the_signature_is_the_documented_scheme():
    body = b'{"id":"evt_1"}'
    header = signing.signature_header("whsec_test", 1767225600, body)
    assert header == (
        "t=1767225600,v1="
        + __import__("hmac").new(b"whsec_test", b'1767225600.{"id":"evt_1"}', "sha256").hexdigest()
    )
    assert signing.verify("whsec_test", header, body, now=1767225600 + 299)
    assert not signing.verify("whsec_test", header, body, now=1767225600 + 301)
    assert not signing.verify("whsec_other", header, body, now=1767225600)
    assert not signing.verify("whsec_test", header, body + b" ", now=1767225600)


def test_the_endpoints_command_adds_lists_and_removes(capsys, receiver):
    call_command("endpoints", "add", receiver.url, "--types", "order.paid,subscription.renewed")
    out = capsys.readouterr().out
    endpoint = Endpoint.objects.get()
    assert f"id: {endpoint.pk}" in out
    secret = out.split("secret: ")[1].strip()
    assert secret.startswith("whsec_") and secret == endpoint.secret
    call_command("endpoints", "list")
    listed = capsys.readouterr().out
    assert receiver.url in listed and secret not in listed
    call_command("endpoints", "remove", str(endpoint.pk))
    assert not Endpoint.objects.exists()


def test_the_endpoints_command_refuses_bad_types_and_urls(settings):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown event types"):
        call_command("endpoints", "add", "http://127.0.0.1:9/x", "--types", "order.exploded")
    settings.EVENTS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(CommandError, match="private"):
        call_command("endpoints", "add", "http://127.0.0.1:9/x")
    with pytest.raises(CommandError, match="http and https"):
        call_command("endpoints", "add", "file:///etc/passwd")
    assert not Endpoint.objects.exists()


def test_metrics_count_the_events_waiting_for_delivery(receiver, settings):
    from tests.operations.test_metrics import sample, staff_client

    endpoint, _secret = add_endpoint(receiver.url)
    receiver.stop()
    renew_subscriptions([(eur_subscription(renewal_date=D).pk, D)], today=TODAY, source="test")
    renew_subscriptions([(eur_subscription(renewal_date=D).pk, D)], today=TODAY, source="test")
    deliveries.deliver_endpoint(endpoint.pk)
    text = staff_client().get("/metrics").content.decode()
    assert sample(text, "renewals_events_waiting_for_delivery") == 2


def test_a_receiver_answering_a_huge_body_is_read_only_as_far_as_the_log_keeps(endpoint):
    # Bodies bounded (#19): a 2 MB answer is read up to RESPONSE_READ_BYTES, 500 characters are
    # kept in the log, and the delivery counts as delivered (a 2xx).
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    sent = {}

    class Huge(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", str(2 * 1024 * 1024))
            self.end_headers()
            try:
                for _ in range(2 * 1024):
                    self.wfile.write(b"x" * 1024)
                    sent["bytes"] = sent.get("bytes", 0) + 1024
            except OSError:
                pass  # the sender closed after what it reads

    server = HTTPServer(("127.0.0.1", 0), Huge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        Endpoint.objects.filter(pk=endpoint.pk).update(
            url=f"http://127.0.0.1:{server.server_address[1]}/hooks"
        )
        pay_by_card([eur_subscription(renewal_date=D)])
        assert deliveries.deliver_endpoint(endpoint.pk) == {"delivered": 2, "failed": 0}
    finally:
        server.shutdown()
        server.server_close()
    log = list(DeliveryAttempt.objects.values_list("status_code", "response"))
    assert [code for code, _ in log] == [200, 200]
    assert all(len(text) == 500 and set(text) == {"x"} for _, text in log)
    assert deliveries.RESPONSE_READ_BYTES <= 4096


def test_an_answer_trickling_in_is_cut_at_the_total_time_out(endpoint, monkeypatch):
    # Each read is under READ_TIMEOUT, but the whole answer never ends: the exchange is cut at
    # TOTAL_TIMEOUT and counted as a failure (retried later), so a worker is never held.
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, HTTPServer

    monkeypatch.setattr(deliveries, "READ_TIMEOUT", 1.0)
    monkeypatch.setattr(deliveries, "TOTAL_TIMEOUT", 1.5)
    stop = threading.Event()

    class Trickle(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                while not stop.is_set():  # one header byte at a time, forever
                    self.wfile.write(b"X")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass

    server = HTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        Endpoint.objects.filter(pk=endpoint.pk).update(
            url=f"http://127.0.0.1:{server.server_address[1]}/hooks"
        )
        pay_by_card([eur_subscription(renewal_date=D)])
        assert deliveries.deliver_endpoint(endpoint.pk) == {"delivered": 0, "failed": 1}
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
    (attempt,) = DeliveryAttempt.objects.all()
    assert attempt.status_code is None
    assert "no complete answer within 1.5 s" in attempt.error
