"""Write audit events (who, what, when, why) from the actions that change state."""

from .models import AuditEvent


def record(obj_or_type, object_id=None, *, action: str, actor=None, label: str = "", **data):
    """Record one audit event for a model instance (or an explicit type and id)."""
    if isinstance(obj_or_type, str):
        object_type = obj_or_type
    else:
        object_type = obj_or_type._meta.label_lower
        object_id = obj_or_type.pk
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=label or (getattr(actor, "email", "") if actor else "system"),
        object_type=object_type,
        object_id=str(object_id),
        action=action,
        data=data,
    )


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
    return AuditEvent.objects.bulk_create(events, batch_size=1000)
