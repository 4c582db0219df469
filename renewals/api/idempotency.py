"""Idempotency-Key for POST /checkout (R10): claim, run once, store and replay the response.

The claim is a row under a unique constraint (user, key), committed before the work starts, so
that a concurrent request with the same key is refused with 409 instead of running twice. A
finished request's response is stored and replayed (200); another body with the same key is a
422. A refusal (4xx) is not stored: the claim is released and the client may retry the key.
"""

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction

from renewals.core import clock

from .errors import ApiError
from .models import IdempotentRequest

# A claim this old belongs to a request that died (a killed worker); it may be taken over.
ABANDONED_AFTER = timedelta(minutes=5)


def body_hash(body: dict) -> str:
    """Return the SHA-256 of a request body in canonical JSON."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(*, user, key: str, digest: str) -> tuple[IdempotentRequest, bool]:
    """Claim `key` for this request; return (record, fresh). fresh False = replay the record.

    Raises ApiError 422 idempotency_mismatch for another body, 409 while the first still runs.
    """
    try:
        with transaction.atomic():
            return IdempotentRequest.objects.create(user=user, key=key, request_hash=digest), True
    except IntegrityError:
        pass
    record = IdempotentRequest.objects.get(user=user, key=key)
    if record.request_hash != digest:
        raise ApiError(
            422,
            "idempotency_mismatch",
            "This Idempotency-Key was already used with a different request body.",
        )
    if record.completed:
        return record, False
    if record.created < clock.now() - ABANDONED_AFTER:
        taken = IdempotentRequest.objects.filter(
            pk=record.pk, created=record.created, status_code__isnull=True
        ).update(created=clock.now())
        if taken:
            return record, True
    raise ApiError(
        409,
        "request_in_progress",
        "A request with this Idempotency-Key is still being processed; retry in a moment.",
    )


def complete(record: IdempotentRequest, *, status: int, body: dict) -> None:
    """Store the response of a claimed request, to be replayed for the same key."""
    record.status_code = status
    record.response = body
    record.save(update_fields=["status_code", "response"])


def release(record: IdempotentRequest) -> None:
    """Forget a claim whose request was refused, so that the key can be retried."""
    IdempotentRequest.objects.filter(pk=record.pk, status_code__isnull=True).delete()
