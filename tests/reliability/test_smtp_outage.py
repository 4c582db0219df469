"""The mail server down for hours, then back: every email delivered exactly once (R15).

tests/notifications/test_outbox_smtp.py covers a server that answers "451 try later" and one
that is down for one attempt. Here nothing listens on the port through several sweeps, then a
server starts on that port: each queued email arrives once, and on PostgreSQL two sweepers
running at the same moment still send each email once.
"""

import socket
import threading
from datetime import timedelta
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone

from renewals.notifications import outbox
from renewals.notifications.models import Email

EMAILS = 20


class Recorder:
    def __init__(self):
        self.received = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def down_smtp(settings):
    """An SMTP setting pointing at a port nobody listens on yet; `.start()` brings it up."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    recorder.start = controller.start
    yield recorder
    if controller._thread is not None:
        controller.stop()


def _queue_many():
    return [
        outbox.queue_email(
            kind="auto-renew-changed",
            to=f"buyer{n}@example.com",
            language=("en", "fr", "ja")[n % 3],
            context={"name": f"Buyer {n}", "turned_on": True, "subscriptions": []},
            dedupe_key=f"outage:{n}",
            headers={"X-Renewals-Subscriptions": f"SUB-{n}"},
        )
        for n in range(EMAILS)
    ]


def _assert_each_arrived_once(recorder, emails):
    ids = sorted(m["Message-ID"] for m in recorder.received)
    assert ids == sorted(e.message_id for e in emails)
    assert set(Email.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_emails_queued_during_an_outage_arrive_once_when_the_server_returns(down_smtp):
    emails = _queue_many()
    start = timezone.now()
    for hours in (0, 1, 3):  # three sweeps while the server is down
        counts = outbox.deliver_due(start + timedelta(hours=hours))
        assert counts == {"pending": EMAILS}
    assert set(Email.objects.values_list("attempts", flat=True)) == {3}
    assert set(Email.objects.values_list("status", flat=True)) == {"pending"}

    down_smtp.start()
    assert outbox.deliver_due(start + timedelta(days=1)) == {"sent": EMAILS}
    assert outbox.deliver_due(start + timedelta(days=2)) == {}
    for email in emails:
        assert outbox.deliver(email.pk) == "sent"
    _assert_each_arrived_once(down_smtp, emails)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweepers_after_an_outage_send_each_email_once(down_smtp):
    emails = _queue_many()  # committed: each delivery was tried after commit, and refused
    outbox.deliver_due(timezone.now() + timedelta(hours=1))
    assert set(Email.objects.values_list("status", "attempts")) == {("pending", 2)}
    down_smtp.start()
    later = timezone.now() + timedelta(days=1)
    barrier = threading.Barrier(2)

    def sweep():
        try:
            barrier.wait(10)
            outbox.deliver_due(later)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    _assert_each_arrived_once(down_smtp, emails)
