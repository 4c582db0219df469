"""Fixtures of the API tests: a user with a real token and a client that sends it."""

from datetime import date

import pytest
from django.core.cache import cache
from django.test import Client

from renewals.api.tokens import create_token
from tests.factories import CustomerFactory, UserFactory

TODAY = date(2026, 11, 26)


@pytest.fixture(autouse=True)
def _fresh_rate_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def today(frozen_today):
    return frozen_today(TODAY)


@pytest.fixture
def user(db):
    return UserFactory(email="marie@dupont.example")


@pytest.fixture
def customer(db):
    return CustomerFactory(csn="5100000001", name="Atelier Dupont", country="FR")


def client_for(user, name="test") -> Client:
    _token, raw = create_token(user=user, name=name)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def api(user):
    """A test client authenticated with a real token of `user`."""
    return client_for(user)


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    return body["error"]
