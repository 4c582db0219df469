"""Fixtures of the acceptance walks: a real SMTP server on loopback, a signed-in French
purchaser and her customer."""

import socket
from decimal import Decimal
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from tests.factories import (
    CustomerFactory,
    TaxRateFactory,
    UserFactory,
)


class Inbox:
    """Collect what a real SMTP server on 127.0.0.1 receives."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


@pytest.fixture
def marie(client):
    """A French purchaser of a French customer (VAT 20%), signed in."""
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    user = UserFactory(email="marie@dupont.example", name="Marie Dupont", language="fr")
    client.force_login(user)
    return user


@pytest.fixture
def dupont(marie):
    return CustomerFactory(csn="5100000001", name="Atelier Dupont", country="FR")
