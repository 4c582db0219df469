"""Property-based fuzzing of the API from its own OpenAPI document (schemathesis).

Every generated request, authenticated with a real token, must answer without a 5xx and with a
response that conforms to the documented schema (status code, content type, body).
"""

from datetime import date

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from renewals.api.api import api as ninja_api
from renewals.api.tokens import create_token
from tests.factories import (
    CustomerFactory,
    TaxRateFactory,
    UserFactory,
    priced_subscription,
)

# django-ninja writes OpenAPI 3.1 (nullable as anyOf ... null); schemathesis 3 reads it when asked.
schemathesis.experimental.OPEN_API_3_1.enable()
schema = schemathesis.from_dict(
    ninja_api.get_openapi_schema(path_prefix="/api/v1/"), app=get_wsgi_application()
)


@pytest.fixture
def fuzz_token(db, settings, frozen_today):
    """A purchaser with renewable subscriptions in the cart, and the token for them."""
    settings.API_RATE_LIMIT = 1_000_000
    frozen_today(date(2026, 11, 26))
    user = UserFactory(email="fuzz@example.com")
    customer = CustomerFactory(csn="5100000009", country="FR")
    TaxRateFactory(country="FR", rate="0.20")
    for n in range(3):
        priced_subscription(
            id=f"SUB-F{n}", customer=customer, purchaser=user, renewal_date=date(2027, 1, 31)
        )
    _token, raw = create_token(user=user, name="fuzz")
    return raw


@pytest.fixture
def keep_test_connection():
    """As Django's test client does: keep the test's connection (and transaction) open."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_openapi_document(case, fuzz_token, keep_test_connection):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {fuzz_token}"}
    response = case.call()
    assert response.status_code < 500, response.get_data(as_text=True)
    case.validate_response(response)
