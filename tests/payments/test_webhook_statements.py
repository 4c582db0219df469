"""The webhook hot path, counted (#15): the dedupe insert first, one commit per event.

Statements are counted without the SAVEPOINT / RELEASE pairs the test's own transaction turns
nested blocks into (on a real deployment the event's block is the outermost transaction).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renewals.core.models import AuditEvent
from renewals.payments import actions
from renewals.payments.gateways.sandbox import event_body, sign
from renewals.payments.models import WebhookEvent

from .helpers import TODAY, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db
SECRET = "whsec_sandbox_development"


def post(client, body):
    return client.post(
        "/webhooks/sandbox", body, content_type="application/json",
        HTTP_RENEWALS_SIGNATURE=sign(body, secret=SECRET),
    )  # fmt: skip


def statements(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.fixture
def konbini_payment():
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini")
    return actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)


def test_a_duplicate_costs_one_statement_and_changes_nothing(client, konbini_payment):
    body = event_body("payment.succeeded", konbini_payment.reference)
    assert post(client, body).json()["outcome"] == "applied"
    audits = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        answer = post(client, body).json()
    assert answer == {"received": True, "duplicate": True}
    sql = statements(queries)
    assert len(sql) == 1, sql
    assert "ON CONFLICT" in sql[0] and "RETURNING" in sql[0]
    assert AuditEvent.objects.count() == audits
    assert WebhookEvent.objects.count() == 1


def test_a_duplicate_transfer_with_its_amount_costs_at_most_two_statements(client):
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="bank_transfer")
    payment = actions.start_payment(
        order, method="bank_transfer", user=order.placed_by, today=TODAY
    )
    body = event_body("transfer.received", payment.reference, amount=str(int(payment.amount)))
    assert post(client, body).json()["outcome"] == "applied"
    with CaptureQueriesContext(connection) as queries:
        assert post(client, body).json()["duplicate"] is True
    # The sandbox reads the payment's currency to check the amount's exponent, then the insert.
    assert len(statements(queries)) <= 2, statements(queries)


def test_a_settling_event_is_stored_processed_and_audited_in_one_insert(client, konbini_payment):
    body = event_body("payment.succeeded", konbini_payment.reference)
    with CaptureQueriesContext(connection) as queries:
        assert post(client, body).json()["outcome"] == "applied"
    sql = statements(queries)
    assert sql[0].startswith("INSERT INTO") and "webhookevent" in sql[0]
    audit_inserts = [s for s in sql if s.startswith('INSERT INTO "core_auditevent"')]
    assert len(audit_inserts) == 1, audit_inserts
    assert AuditEvent.objects.filter(action="payment_succeeded").count() == 1
    assert AuditEvent.objects.filter(action="renewed").count() == 1
    assert not [s for s in sql if s.startswith('UPDATE "payments_webhookevent"')]
    assert WebhookEvent.objects.get().processed is not None
    # The payment's own (currency read, dedupe insert, match, lock, 2 UPDATEs), the order's
    # fulfilment (lock with its customer and placer, cart lines, lines, the door's lock, term,
    # subscription, order, cart lines deleted), the tax invoice (R20, #13: idempotency look-up,
    # the year's counter — 1 UPDATE … RETURNING, 3 on the year's first invoice as here — and
    # its insert), the shapes of subscription.renewed and order.paid, the email, the events
    # outbox (#19) once for both events (position on PostgreSQL, sequences, events, subjects,
    # endpoints) and the audit rows. -1 (#15): order.paid is shaped from the
    # fulfilment's order and lines in memory, reading only its payment and invoice. -1: the
    # email is one INSERT … ON CONFLICT DO NOTHING (no look-up first, no savepoint). -1:
    # subscription.renewed reads its open-order facts with the subscriptions' row; -1:
    # order.paid takes the payment and invoice fulfilment holds (nothing read for it).
    assert len(sql) <= 27, "\n".join(sql)  # 26 on SQLite, 27 on PostgreSQL
    # No savepoint of the payment, order, door, invoice or email blocks (#15): the event's own
    # block (a savepoint inside the test's transaction) and on PostgreSQL the events' numbering
    # (retried on a concurrent writer's number).
    savepoints = [q for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) <= (2 if connection.vendor == "postgresql" else 1), savepoints


def test_an_event_for_an_unknown_payment_stores_nothing(client):
    body = event_body("payment.succeeded", "sbx_nobody")
    response = post(client, body)
    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()
    assert post(client, body).status_code == 404  # the gateway's retry is not a duplicate
