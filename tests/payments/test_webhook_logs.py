"""#20: every log line of an inbound webhook names its payment and its order, not only the request.

The order is read by the same query that finds the payment (match_notice), so the hot path's
statement count (tests/payments/test_webhook_statements.py) is unchanged.
"""

import json
import logging

import pytest

from renewals.core import logs
from renewals.payments import actions
from renewals.payments.gateways.sandbox import event_body, sign

from .helpers import TODAY, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db
SECRET = "whsec_sandbox_development"


@pytest.fixture
def lines():
    """The JSON lines the `renewals` loggers write while the test runs."""
    captured = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.addFilter(logs.ContextFilter())
    handler.emit = lambda record: captured.append(json.loads(logs.JsonFormatter().format(record)))
    logger = logging.getLogger("renewals")
    logger.addHandler(handler)
    try:
        yield captured
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def konbini_payment():
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini")
    return actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)


def post(client, body):
    return client.post(
        "/webhooks/sandbox",
        body,
        content_type="application/json",
        HTTP_RENEWALS_SIGNATURE=sign(body, secret=SECRET),
        HTTP_X_REQUEST_ID="req-webhook-1",
    )


def webhook_lines(lines):
    return [line for line in lines if line["logger"] == "renewals.payments.webhooks"]


def test_an_applied_event_logs_its_payment_order_and_request(client, konbini_payment, lines):
    body = event_body("payment.succeeded", konbini_payment.reference)
    assert post(client, body).json()["outcome"] == "applied"
    [line] = webhook_lines(lines)
    assert line["message"].endswith("(payment.succeeded): applied")
    assert line["request_id"] == "req-webhook-1"
    assert line["payment"] == konbini_payment.reference
    assert line["order"] == konbini_payment.order.number
    # Every line written while the event is applied (emails, events, renewals) names them too.
    for other in lines:
        assert other["order"] == konbini_payment.order.number, other
        assert other["payment"] == konbini_payment.reference, other


def test_a_duplicate_delivery_logs_its_payment(client, konbini_payment, lines):
    body = event_body("payment.succeeded", konbini_payment.reference)
    post(client, body)
    lines.clear()
    assert post(client, body).json()["duplicate"] is True
    [line] = webhook_lines(lines)
    assert "duplicate" in line["message"]
    assert line["payment"] == konbini_payment.reference


def test_an_event_for_no_known_payment_is_logged_with_its_reference(client, db, lines):
    body = event_body("payment.succeeded", "py_not_ours")
    assert post(client, body).status_code == 404
    [line] = webhook_lines(lines)
    assert (line["level"], line["payment"], line["request_id"]) == (
        "WARNING",
        "py_not_ours",
        "req-webhook-1",
    )
    assert "order" not in line
    assert logs.current() == {}  # nothing stays bound after the request
