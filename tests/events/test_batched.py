"""`outbox.batched()` (#15): the block's events are written together when it ends, in order."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from renewals.events import outbox
from renewals.events.models import Event, EventSubscription
from tests.payments.helpers import eur_subscription

pytestmark = pytest.mark.django_db


def test_the_blocks_events_are_numbered_in_order_and_inserted_once_at_its_end():
    sub = eur_subscription()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        with outbox.batched():
            outbox.emit("subscription.renewed", [sub])
            outbox.emit("subscription.auto_renew_changed", [sub], previous={sub.pk: {}})
            assert not Event.objects.exists()  # nothing written before the block ends
        inserts = [
            q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "events_event"')
        ]
    assert len(inserts) == 1
    events = list(Event.objects.order_by("sequence"))
    assert [(e.type, e.sequence) for e in events] == [
        ("subscription.renewed", 1),
        ("subscription.auto_renew_changed", 2),
    ]
    assert EventSubscription.objects.filter(subscription_id=sub.pk).count() == 2


def test_an_exception_in_the_block_writes_nothing():
    sub = eur_subscription()
    with pytest.raises(RuntimeError), transaction.atomic(), outbox.batched():
        outbox.emit("subscription.renewed", [sub])
        raise RuntimeError("the fact failed")
    assert not Event.objects.exists()


def test_a_block_whose_transaction_is_marked_for_rollback_writes_nothing_and_raises_nothing():
    # The webhook's 404 paths mark the event's transaction for rollback and leave normally.
    from renewals.core import audit
    from renewals.core.models import AuditEvent

    sub = eur_subscription()
    before = AuditEvent.objects.count()
    with transaction.atomic(), audit.batched(), outbox.batched():
        outbox.emit("subscription.renewed", [sub])
        audit.record(sub, action="renewed")
        transaction.set_rollback(True)
    assert not Event.objects.exists()
    assert AuditEvent.objects.count() == before


def test_a_dedupe_key_emitted_twice_in_one_block_is_one_event():
    sub = eur_subscription()
    key = {sub.pk: "stage:once"}
    with transaction.atomic(), outbox.batched():
        outbox.emit("subscription.renewed", [sub], dedupe=key)
        outbox.emit("subscription.renewed", [sub], dedupe=key)
    assert Event.objects.count() == 1
