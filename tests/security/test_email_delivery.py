"""Email delivery under faults (issue #14, R15), against a real SMTP server on 127.0.0.1.

Claim-before-send with a lease: a row being sent is never sent by a second sender; a sender
that dies leaves a lease that expires, and the email is sent again with the same Message-ID —
delivery is at-least-once, and these tests show exactly when a second copy can happen.
Permanent refusals end as `failed` after EMAIL_MAX_REFUSALS tries, temporary ones at the
maximum age; staff retry or stop from the admin. Without a broker a slow server never slows the
request that queued the email: a background thread sends it after the response.
"""

import asyncio
import io
import time
from datetime import date, timedelta
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from renewals.api.tokens import create_token
from renewals.core.models import AuditEvent
from renewals.notifications import background, outbox
from renewals.notifications.models import Email
from tests.factories import CustomerFactory, TaxRateFactory, UserFactory, priced_subscription
from tests.notifications.test_outbox_smtp import free_port

pytestmark = pytest.mark.django_db


class Server:
    """An aiosmtpd handler whose answers a test chooses: refuse, delay, or accept."""

    def __init__(self):
        self.received: list = []
        self.data_answer = "250 OK"
        self.rcpt_answer = None
        self.delay = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_answer.startswith("250"):
            self.received.append(message_from_bytes(envelope.content))
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.data_answer


@pytest.fixture
def smtp(settings):
    server = Server()
    controller = Controller(server, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 1
    settings.EMAIL_RETRY_DELAYS = [60, 300, 900]
    settings.EMAIL_LEASE_SECONDS = 300
    settings.EMAIL_MAX_REFUSALS = 3
    yield server
    controller.stop()


def queue(n: int = 0) -> Email:
    return outbox.queue_email(
        kind="auto-renew-changed",
        to=f"marie{n}@dupont.example",
        language="fr",
        context={"name": "Marie", "turned_on": True, "subscriptions": []},
        dedupe_key=f"delivery:{n}",
    )


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def test_a_leased_email_is_never_sent_by_a_second_sender(smtp):
    email = queue()
    claimed = outbox._claim(email.pk, timezone.now())  # the first sender is talking to SMTP
    assert claimed.status == "sending"

    assert outbox.deliver(email.pk) == "sending"
    assert outbox.deliver_due(later(120)) == {}  # past its retry time, still within its lease
    assert smtp.received == []


def test_a_sender_that_dies_after_the_server_accepted_is_sent_again_with_the_same_message_id(
    smtp, monkeypatch
):
    email = queue()

    def die(*args, **kwargs):
        raise SystemExit("killed after the SMTP server said 250")

    monkeypatch.setattr(outbox, "_record", die)
    with pytest.raises(SystemExit):
        outbox.deliver(email.pk)
    monkeypatch.undo()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sending", 1)
    assert len(smtp.received) == 1

    assert outbox.deliver_due(later(299)) == {}  # the lease still holds it
    assert outbox.deliver_due(later(301)) == {"sent": 1}  # the lease expired: taken over
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 2)
    # At-least-once: the second copy carries the same Message-ID, so clients show it once.
    assert [m["Message-ID"] for m in smtp.received] == [email.message_id] * 2
    assert outbox.deliver_due(later(3600)) == {}


def test_a_sender_that_dies_before_the_server_answered_sends_it_once(smtp, monkeypatch):
    email = queue()

    def die(*args, **kwargs):
        raise SystemExit("killed before the SMTP conversation")

    monkeypatch.setattr(outbox, "_send", die)
    with pytest.raises(SystemExit):
        outbox.deliver(email.pk)
    monkeypatch.undo()
    assert outbox.deliver_due(later(301)) == {"sent": 1}
    assert [m["Message-ID"] for m in smtp.received] == [email.message_id]


def test_a_server_answering_after_the_time_out_is_the_other_duplicate(smtp):
    smtp.delay = 2  # accepts the message, answers 250 after EMAIL_TIMEOUT (1 s)
    email = queue()
    assert outbox.deliver(email.pk) == "pending"
    email.refresh_from_db()
    assert "timed out" in email.last_error.lower() or "Timeout" in email.last_error
    smtp.delay = 0
    assert outbox.deliver_due(later(61)) == {"sent": 1}
    assert [m["Message-ID"] for m in smtp.received] == [email.message_id] * 2


@pytest.mark.parametrize(
    "refusal",
    [
        {"data_answer": "554 5.7.1 Message rejected"},
        {"rcpt_answer": "550 5.1.1 No such mailbox"},
    ],
    ids=["5xx-to-data", "recipient-refused"],
)
def test_a_permanent_refusal_ends_as_failed_after_n_tries(smtp, refusal):
    for name, value in refusal.items():
        setattr(smtp, name, value)
    email = queue()
    assert outbox.deliver(email.pk) == "pending"
    assert outbox.deliver_due(later(61)) == {"pending": 1}
    assert outbox.deliver_due(later(61 + 301)) == {"failed": 1}
    email.refresh_from_db()
    assert (email.status, email.attempts, email.refusals) == ("failed", 3, 3)
    assert "55" in email.last_error
    assert outbox.deliver_due(later(86400)) == {}  # never tried again by itself
    assert smtp.received == []


def test_a_temporary_refusal_is_retried_until_the_maximum_age(smtp, settings):
    settings.EMAIL_MAX_AGE_HOURS = 1
    smtp.data_answer = "451 4.3.0 Try again later"
    email = queue()
    assert outbox.deliver(email.pk) == "pending"
    assert outbox.deliver_due(later(61)) == {"pending": 1}
    assert outbox.deliver_due(later(3601)) == {"failed": 1}
    email.refresh_from_db()
    assert email.status == "failed"
    assert email.refusals == 0
    assert "EMAIL_MAX_AGE_HOURS" in email.last_error


def test_staff_retry_a_failed_email_and_stop_a_waiting_one(
    smtp, client, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_DELIVERY = "inline"
    staff = UserFactory(email="ops@vendor.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    smtp.data_answer = "554 5.7.1 Rejected"
    failed, waiting = queue(1), queue(2)
    for _try in range(3):
        outbox.deliver(failed.pk, later(_try * 1000))
    failed.refresh_from_db()
    assert failed.status == "failed"
    smtp.data_answer = "250 OK"

    changelist = "/admin/notifications/email/"
    page = client.get(changelist)
    assert "Retry now" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "retry_now", "_selected_action": [failed.pk]}, follow=True
        )
    assert response.status_code == 200
    assert "1 email will be sent again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == "sent"
    assert [m["To"] for m in smtp.received] == ["marie1@dupont.example"]

    client.post(changelist, {"action": "stop_delivery", "_selected_action": [waiting.pk]})
    waiting.refresh_from_db()
    assert waiting.status == "failed"
    assert "stopped by ops@vendor.example" in waiting.last_error
    assert outbox.deliver_due(later(86400)) == {}
    assert len(smtp.received) == 1
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"email_retry", "email_stopped"} <= actions


def test_the_outbox_command_delivers_what_is_due(smtp):
    smtp.data_answer = "451 4.3.0 Try again later"
    email = queue()
    outbox.deliver(email.pk)
    smtp.data_answer = "250 OK"
    Email.objects.filter(pk=email.pk).update(next_attempt=timezone.now())
    out = io.StringIO()
    call_command("outbox", stdout=out)
    assert out.getvalue() == "Outbox: 1 sent\n"
    assert len(smtp.received) == 1


@pytest.mark.django_db(transaction=True)
def test_a_slow_smtp_server_does_not_slow_a_checkout(smtp, settings, frozen_today, monkeypatch):
    """The probe: an SMTP server answering in seconds made a checkout take 8.2 s.

    The background sender starts once the checkout answered: SQLite's in-memory test database
    refuses a second connection's writes at the same moment (a file database waits instead).
    """
    settings.EMAIL_DELIVERY = "background"
    settings.EMAIL_TIMEOUT = 10
    smtp.delay = 3
    frozen_today(date(2026, 11, 26))
    TaxRateFactory(country="FR", rate="0.20")
    user = UserFactory(email="marie@dupont.example")
    customer = CustomerFactory(csn="5100000001", country="FR")
    priced_subscription(
        id="SUB-1", customer=customer, purchaser=user, renewal_date=date(2027, 1, 31)
    )
    _token, raw = create_token(user=user, name="probe")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    api.post("/api/v1/cart/items", {"subscription_ids": ["SUB-1"]}, content_type="application/json")
    start_sender = background.start
    monkeypatch.setattr(background, "start", lambda: None)
    try:
        started = time.monotonic()
        response = api.post(
            "/api/v1/checkout",
            {
                "group": "5100000001:EUR:online",
                "payment": {"method": "card", "card_number": "4242424242424242"},
            },
            content_type="application/json",
            headers={"Idempotency-Key": "slow-smtp"},
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 201, response.content
        assert elapsed < 2, f"the checkout waited for the SMTP server: {elapsed:.1f} s"
        assert Email.objects.get().status == "pending"  # queued, handed over, not yet sent
        start_sender()
        assert background.drain(timeout=30)
    finally:
        background.stop()
    (message,) = smtp.received
    assert message["X-Renewals-Event"] == "order-confirmation"
    assert Email.objects.get().status == "sent"
