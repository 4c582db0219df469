"""Outbox delivery against a real SMTP server on loopback: retried with backoff, never lost,
never sent twice (R15)."""

import socket
from datetime import timedelta
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from renewals.notifications import outbox
from renewals.notifications.models import Email

pytestmark = pytest.mark.django_db


class FlakyHandler:
    """Answers "451 try later" to the first `refuse` messages, then accepts."""

    def __init__(self, refuse: int):
        self.refuse = refuse
        self.received: list = []

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        self.received.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    handler = FlakyHandler(refuse=0)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield handler
    controller.stop()


def queue(n: int = 0) -> Email:
    return outbox.queue_email(
        kind="auto-renew-changed",
        to=f"marie{n}@dupont.example",
        language="fr",
        context={"name": "Marie", "turned_on": True, "subscriptions": []},
        dedupe_key=f"test:{n}",
        headers={"X-Renewals-Subscriptions": "SUB-1,SUB-2"},
    )


def test_refused_email_is_retried_with_backoff_then_sent_once(smtp, settings):
    settings.EMAIL_RETRY_DELAYS = [60, 300]
    smtp.refuse = 2
    email = queue()

    assert outbox.deliver(email.pk) == "pending"
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("pending", 1)
    assert "451" in email.last_error
    first_retry = email.next_attempt
    assert outbox.deliver_due() == {}  # not due before its backoff delay

    later = timezone.now() + timedelta(seconds=61)
    assert outbox.deliver_due(later) == {"pending": 1}
    email.refresh_from_db()
    assert email.attempts == 2
    assert email.next_attempt - first_retry >= timedelta(seconds=240)  # second delay is longer

    assert outbox.deliver_due(later + timedelta(seconds=301)) == {"sent": 1}
    assert outbox.deliver_due(later + timedelta(days=1)) == {}
    assert outbox.deliver(email.pk) == "sent"

    (message,) = smtp.received
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("sent", 3, "")
    assert message["X-Renewals-Event"] == "auto-renew-changed"
    assert message["X-Renewals-Subscriptions"] == "SUB-1,SUB-2"
    assert message["Message-ID"] == email.message_id
    assert message["To"] == "marie0@dupont.example"


def test_a_sweep_delivers_every_due_email_exactly_once(smtp):
    smtp.refuse = 3
    emails = [queue(n) for n in range(5)]

    assert outbox.deliver_due() == {"pending": 3, "sent": 2}
    assert outbox.deliver_due(timezone.now() + timedelta(hours=1)) == {"sent": 3}
    assert outbox.deliver_due(timezone.now() + timedelta(days=2)) == {}

    assert sorted(m["To"] for m in smtp.received) == sorted(e.to for e in emails)
    assert set(Email.objects.values_list("status", flat=True)) == {"sent"}


def test_smtp_server_down_keeps_the_email_pending(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    email = queue()
    assert outbox.deliver(email.pk) == "pending"
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("pending", 1)
    assert email.last_error


def test_queueing_the_same_dedupe_key_twice_is_one_email():
    first = queue(7)
    again = queue(7)
    assert first.pk == again.pk
    assert Email.objects.count() == 1
