"""Password reset under a flood and a stopwatch (issue #14).

The probe sent 41 emails to one person with 40 requests, and told addresses with an account
from those without by the page's time (36 ms vs 16 ms). Now each request counts against a limit
per address and per client address (in the database, shared by every process), does the same
work whatever the address, and queues the email — in the account's language — in the outbox,
sent after the response.
"""

import statistics
import time

import pytest
from django.core import mail
from django.test import Client

from renewals.core.models import RateCounter
from renewals.notifications import background
from renewals.notifications.models import Email
from tests.factories import UserFactory
from tests.security.test_email_delivery import smtp  # noqa: F401  (the aiosmtpd fixture)

pytestmark = pytest.mark.django_db
URL = "/accounts/password-reset/"


@pytest.fixture
def marie():
    return UserFactory(email="marie@dupont.example", language="en", name="Marie")


def ask(client, email, **extra):
    return client.post(URL, {"email": email}, **extra)


def test_a_flood_of_40_requests_sends_three_emails(
    client, marie, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answers = [ask(client, "marie@dupont.example").status_code for _ in range(40)]

    assert answers[:3] == [302] * 3
    assert set(answers[3:]) == {429}
    assert len(mail.outbox) == 3
    assert Email.objects.filter(kind="password-reset").count() == 3
    refused = ask(client, "marie@dupont.example")
    # The limiter's clock stands 30 s into its hour: the three requests weigh 3 x (1 - t/3600)
    # in the next hour, under 2.5 from t = 10 minutes, 70 minutes from now.
    assert refused["Retry-After"] == str(3570 + 600 + 1)
    minutes = 70
    assert f"Too many password reset requests. Try again in {minutes} minutes." in (
        refused.content.decode()
    )


def test_the_limit_is_the_same_for_an_unknown_address(client, marie):
    known = [ask(client, "marie@dupont.example").status_code for _ in range(5)]
    unknown = [ask(client, "nobody@dupont.example").status_code for _ in range(5)]
    assert known == unknown == [302, 302, 302, 429, 429]


def test_case_and_spaces_do_not_reset_the_count(client, marie):
    for spelling in ("marie@dupont.example", "MARIE@dupont.example", " Marie@Dupont.Example "):
        assert ask(client, spelling).status_code == 302
    assert ask(client, "marie@DUPONT.example").status_code == 429


def test_one_client_address_cannot_spray_many_addresses(client, settings):
    settings.PASSWORD_RESET_PER_IP = 5
    answers = [ask(client, f"person{n}@example.com").status_code for n in range(8)]
    assert answers == [302] * 5 + [429] * 3
    other_client = Client(REMOTE_ADDR="10.0.0.9")
    assert ask(other_client, "person9@example.com").status_code == 302
    # Refused requests are not counted: the allowance comes back as the admitted ones age.
    assert RateCounter.objects.filter(key="reset-ip:127.0.0.1").get().count == 5


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("fr", "Réinitialisez votre mot de passe Renewals", "Bonjour Marie,"),
        ("ja", "Renewals のパスワード再設定", "Marie"),
    ],
)
def test_the_email_is_in_the_accounts_language_through_the_outbox(
    client, marie, language, subject, words, django_capture_on_commit_callbacks
):
    marie.language = language
    marie.save()
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "marie@dupont.example", HTTP_ACCEPT_LANGUAGE="en")

    (row,) = Email.objects.filter(kind="password-reset")
    assert (row.language, row.to) == (language, "marie@dupont.example")
    (message,) = mail.outbox
    assert message.subject == subject
    assert words in message.body
    assert message.extra_headers["Message-ID"] == row.message_id
    assert "/accounts/password-reset/" in message.body


def test_known_and_unknown_addresses_render_the_same_templates(client, marie):
    known = ask(client, "marie@dupont.example")
    unknown = ask(client, "nobody@dupont.example")
    names = [sorted({t.name for t in r.templates if t.name}) for r in (known, unknown)]
    assert names[0] == names[1]
    assert "emails/password-reset.txt" in names[0]


@pytest.mark.django_db(transaction=True)
def test_a_slow_mail_server_does_not_tell_known_addresses_apart(
    smtp,  # noqa: F811
    settings,
    monkeypatch,
):
    """The timing probe, against an SMTP server that takes 0.3 s to accept a message.

    The background sender starts once the requests are timed: SQLite's in-memory test database
    refuses a second connection's writes at the same moment (a file database waits instead).
    """
    settings.EMAIL_DELIVERY = "background"
    settings.PASSWORD_RESET_PER_ADDRESS = settings.PASSWORD_RESET_PER_IP = 100
    smtp.delay = 0.3
    UserFactory(email="marie@dupont.example")
    client = Client()
    timings = {"known": [], "unknown": []}
    start_sender = background.start
    monkeypatch.setattr(background, "start", lambda: None)
    try:
        for n in range(6):
            for kind, email in (("known", "marie@dupont.example"), ("unknown", f"x{n}@d.example")):
                started = time.perf_counter()
                assert ask(client, email).status_code == 302
                timings[kind].append(time.perf_counter() - started)
        start_sender()
        assert background.drain(timeout=30)
    finally:
        background.stop()
    known, unknown = (statistics.median(timings[k]) for k in ("known", "unknown"))
    assert abs(known - unknown) < 0.1, timings
    assert known < 0.25, timings  # the SMTP server's 0.3 s never reaches the page
    assert len(smtp.received) == 6
