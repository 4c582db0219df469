"""Write events in the transaction of the fact they record (R22): the outbox of events.

Domain doors call `emit(type, objects, today=...)` with the objects the fact is about; the
object's API shape is built by the shaper registered for its kind (renewals.events.shapes,
plugged in at start-up), so domain apps never import the API. A fixed number of statements per
call whatever the number of objects: the shapes' queries, one for sequences, one for the
transaction id, one INSERT of events, one of subjects, one of deliveries. Inside `batched()` (one
webhook event, #15) the events of the block share those last five, written when it ends.
"""

from collections.abc import Callable, Iterable
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, connection, transaction
from django.db.models import Max

from renewals.core import clock
from renewals.core.inserts import insert_rows

from .models import Delivery, Endpoint, Event, EventSubscription
from .types import EVENT_TYPES, object_kind

SEQUENCE_RETRIES = 5
_pending: ContextVar[list | None] = ContextVar("events_pending", default=None)


@dataclass(frozen=True)
class Shaped:
    """An object's event payload, the subscriptions it concerns and their customers."""

    data: dict
    subscription_ids: tuple[str, ...]
    customer_ids: tuple[int, ...] = field(default=())


Shaper = Callable[[list, date | None], list[Shaped]]
_SHAPERS: dict[str, Shaper] = {}


def register_shaper(kind: str, shaper: Shaper) -> None:
    """Plug in the function that shapes objects of a kind (subscription, order, invoice…)."""
    _SHAPERS[kind] = shaper


def current_position() -> int:
    """Return this transaction's position for the readers' horizon (0 where writers serialise)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        return cursor.fetchone()[0]


def horizon() -> tuple[int, int | None] | None:
    """Return (position below which every writer has finished, this transaction's own position).

    None where writers are serialised (everything committed is readable in id order). A
    reader sees its own transaction's events too (a test's wrapping transaction).
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,"
            " pg_current_xact_id_if_assigned()::text::bigint"
        )
        limit, own = cursor.fetchone()
        return limit, own


@contextmanager
def batched():
    """Write the events emitted in the block together when it ends, in the order emitted.

    Each is shaped when emitted (the state its fact left); the block's events then share one
    position, one numbering, one INSERT of events, one of subjects and one look-up of endpoints
    (#15). Use it inside the transaction of their facts: an exception discards them with it,
    and so does a transaction marked for rollback (`set_rollback(True)`). Nested blocks share
    the outermost. An event emitted in a savepoint that is rolled back while the block goes on
    is still written: emit only after the refusals that could roll back its fact.
    """
    if _pending.get() is not None:
        yield
        return
    token = _pending.set([])
    try:
        yield
        pending = _pending.get()
    finally:
        _pending.reset(token)
    if pending and not transaction.get_connection().needs_rollback:
        _write([event for event, _ids in pending], [ids for _event, ids in pending])


def emit(
    event_type: str,
    objects: Iterable,
    *,
    today: date | None = None,
    previous: dict | None = None,
    dedupe: dict | None = None,
) -> list[Event]:
    """Record one `event_type` event per object, in the caller's transaction (R22).

    `previous` maps an object's pk to the attributes it had before (`previous_attributes`);
    `dedupe` maps a pk to a key that makes the event idempotent (already written: skipped).
    Queues a delivery to every enabled endpoint that wants the type, sent after commit.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    if not connection.in_atomic_block:
        raise RuntimeError("events are written in the transaction of their fact (R22)")
    objects = list(objects)
    pending = _pending.get()
    if dedupe:
        taken = set(
            Event.objects.filter(dedupe_key__any=list(dedupe.values())).values_list(
                "dedupe_key", flat=True
            )
        )
        taken.update(event.dedupe_key for event, _ids in pending or () if event.dedupe_key)
        objects = [o for o in objects if dedupe.get(_pk(o)) not in taken]
    if not objects:
        return []
    shaped = _SHAPERS[object_kind(event_type)](objects, today)
    now = clock.now()
    events = []
    for obj, item in zip(objects, shaped, strict=True):
        data = {"object": item.data}
        if previous and _pk(obj) in previous:
            data["previous_attributes"] = previous[_pk(obj)]
        events.append(
            Event(
                type=event_type,
                created=now,
                data=data,
                customer_ids=sorted(set(item.customer_ids)),
                dedupe_key=(dedupe or {}).get(_pk(obj)),
            )
        )
    subjects = [item.subscription_ids for item in shaped]
    if pending is not None:
        pending.extend(zip(events, subjects, strict=True))
    else:
        _write(events, subjects)
    return events


def _write(events: list[Event], subjects: list[tuple[str, ...]]) -> None:
    _insert(events, subjects)
    _queue_deliveries(events)


def _pk(obj):
    return getattr(obj, "pk", obj)


# R2: the stages with access (mirrors subscriptions.rules.STAGES_WITH_ACCESS; a test checks).
STAGES_WITH_ACCESS = frozenset({"active", "expired"})


def emit_stage_changes(subscriptions, before: dict, *, today: date, dedupe: bool = False):
    """Record `subscription.stage_changed` for each subscription whose stage on `today` differs
    from `before[pk]`, with the stage and access it had (`previous_attributes`).

    `dedupe` makes each (subscription, lapse date, stage entered) one event whatever the number
    of runs — for the daily run, which derives changes from dates.
    """
    changed = [s for s in subscriptions if s.stage_on(today) != before.get(s.pk, s.stage_on(today))]
    previous = {
        s.pk: {"stage": before[s.pk], "access": before[s.pk] in STAGES_WITH_ACCESS} for s in changed
    }
    keys = (
        {s.pk: f"stage:{s.pk}:{s.lapse_date.isoformat()}:{s.stage_on(today)}" for s in changed}
        if dedupe
        else None
    )
    return emit("subscription.stage_changed", changed, today=today, previous=previous, dedupe=keys)


def emit_renewals(subscriptions, before: dict, *, today: date) -> None:
    """Record `subscription.renewed` for each renewed subscription (its shape holds the new
    term, seats and term length), then `subscription.stage_changed` where the renewal gave
    access back (an expired or suspended subscription is active again, R2)."""
    emit("subscription.renewed", subscriptions, today=today)
    emit_stage_changes(subscriptions, before, today=today)


def emit_auto_renew_changes(subscriptions, *, today: date) -> list[Event]:
    """Record `subscription.auto_renew_changed` for subscriptions whose setting just flipped."""
    previous = {s.pk: {"auto_renew": not s.auto_renew} for s in subscriptions}
    return emit("subscription.auto_renew_changed", subscriptions, today=today, previous=previous)


PAYMENT_EVENTS = {"pending": "payment.pending", "expired": "payment.expired"}


def emit_payment_state(order_id: int, status: str) -> list[Event]:
    """Record `payment.<status>` for the order of a payment that just moved, if R22 lists it."""
    if status not in PAYMENT_EVENTS:
        return []
    return emit(PAYMENT_EVENTS[status], [order_id])


def _insert(events: list[Event], subjects: list[tuple[str, ...]]) -> None:
    """Insert events with the next sequence number of each subscription they concern.

    Two writers numbering the same subscription at once: the second one's INSERT breaks the
    unique constraint, is rolled back to its savepoint and numbered again.
    """
    position = current_position()
    for event, ids in zip(events, subjects, strict=True):
        event.position = position
        if len(ids) != 1:
            event.subscription_id = event.sequence = None
    all_ids = sorted({i for ids in subjects for i in ids})
    for attempt in range(SEQUENCE_RETRIES):
        last = dict(
            EventSubscription.objects.filter(subscription_id__any=all_ids)
            .values("subscription_id")
            .annotate(last=Max("sequence"))
            .values_list("subscription_id", "last")
        )
        rows = []
        for event, ids in zip(events, subjects, strict=True):
            for sub_id in dict.fromkeys(ids):
                last[sub_id] = last.get(sub_id, 0) + 1
                rows.append((event, sub_id, last[sub_id]))
                if len(ids) == 1:
                    event.subscription_id, event.sequence = sub_id, last[sub_id]
        try:
            # SQLite serialises writers, so only PostgreSQL can see a concurrent numbering.
            with transaction.atomic() if connection.vendor == "postgresql" else nullcontext():
                insert_rows(Event, events)  # their JSON as one text, not quoted in Python
                # By key: assigning the event through its descriptor cost more than the row (#15).
                EventSubscription.objects.bulk_create(
                    EventSubscription(event_id=e.pk, subscription_id=s, sequence=n)
                    for e, s, n in rows
                )
            return
        except IntegrityError:
            for event in events:
                event.pk = None
            if attempt == SEQUENCE_RETRIES - 1:
                raise


def _queue_deliveries(events: list[Event]) -> None:
    # Disabled endpoints get their deliveries too: they wait, in order, until enabled again.
    endpoints = list(Endpoint.objects.all())
    deliveries = [
        Delivery(endpoint=endpoint, event=event, position=event.position, created=event.created)
        for event in events
        for endpoint in endpoints
        if endpoint.wants(event.type)
    ]
    if not deliveries:
        return
    Delivery.objects.bulk_create(deliveries)
    endpoint_ids = sorted({d.endpoint_id for d in deliveries if d.endpoint.enabled})
    from .deliveries import deliver_after_commit

    deliver_after_commit(endpoint_ids)
