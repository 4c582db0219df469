"""Write audit events (who, what, when, why) from the actions that change state.

Inside `batched()` (a hot path such as one webhook event, #15) the events are kept and written
in one INSERT when the block ends, in the order they were recorded; an exception discards them
with the transaction they belong to.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

from .inserts import insert_rows
from .models import AuditEvent

_pending: ContextVar[list | None] = ContextVar("audit_pending", default=None)


@contextmanager
def batched():
    """Collect the audit events recorded in the block and write them in one INSERT at its end.

    Use it inside the transaction of the writes it audits. Nested blocks share the outermost.
    An event recorded in a savepoint that is rolled back while the block goes on is still
    written: use it only around code that refuses before it audits (as the webhook path does:
    the renewal door raises RenewalRefused before any write). Nothing is written when the
    transaction is marked for rollback.
    """
    if _pending.get() is not None:
        yield
        return
    token = _pending.set([])
    try:
        yield
        events = _pending.get()
    finally:
        _pending.reset(token)
    if events and not transaction.get_connection().needs_rollback:  # rolled back: none happened
        insert_rows(AuditEvent, events, batch_size=1000)


def _add(events: list):
    pending = _pending.get()
    if pending is None:
        return insert_rows(AuditEvent, events, batch_size=1000)
    pending.extend(events)
    return events


def record(obj_or_type, object_id=None, *, action: str, actor=None, label: str = "", **data):
    """Record one audit event for a model instance (or an explicit type and id)."""
    if isinstance(obj_or_type, str):
        object_type = obj_or_type
    else:
        object_type = obj_or_type._meta.label_lower
        object_id = obj_or_type.pk
    event = AuditEvent(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=label or (getattr(actor, "email", "") if actor else "system"),
        object_type=object_type,
        object_id=str(object_id),
        action=action,
        data=data,
    )
    if _pending.get() is None:
        event.save(force_insert=True)
        return event
    _pending.get().append(event)
    return event


def record_many(objects, *, action: str, actor=None, label: str = "", **data):
    """Record the same event for many instances in one INSERT."""
    label = label or (getattr(actor, "email", "") if actor else "system")
    events = [
        AuditEvent(
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=label,
            object_type=o._meta.label_lower,
            object_id=str(o.pk),
            action=action,
            data=data,
        )
        for o in objects
    ]
    return _add(events)


def record_each(pairs, *, action: str, actor=None, label: str = ""):
    """Record one event per (instance, data) pair, each with its own data, in one INSERT."""
    label = label or (getattr(actor, "email", "") if actor else "system")
    events = [
        AuditEvent(
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=label,
            object_type=o._meta.label_lower,
            object_id=str(o.pk),
            action=action,
            data=data,
        )
        for o, data in pairs
    ]
    return _add(events) if events else []
