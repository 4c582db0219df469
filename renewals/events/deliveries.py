"""Deliver events to endpoints: claim (transaction) → POST (no transaction) → record (R22).

Each endpoint's pending deliveries go one at a time in event order; the head is claimed with a
lease, so two workers never post it at once (a worker that dies loses its lease after
LEASE_SECONDS and the event is posted again). A delivery stays pending until the endpoint
answers 2xx — retried with exponential back-off, never dropped — so a receiver sees each event
at least once and deduplicates by `Renewals-Event-Id`. An endpoint failing for
EVENTS_DISABLE_AFTER_SECONDS (and at least EVENTS_DISABLE_AFTER_FAILURES times in a row) is
disabled and staff are emailed; its deliveries wait, nothing is lost, until it is enabled again.
"""

import http.client
import json
import logging
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from renewals.core import clock

from . import addresses, signing
from .models import Delivery, DeliveryAttempt, Endpoint, Event
from .outbox import horizon

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
# The whole exchange, however slowly an answer trickles in (each read alone is READ_TIMEOUT):
# well inside the delivery's lease, so no second worker sends it meanwhile.
TOTAL_TIMEOUT = 12.0
LEASE_SECONDS = 60
RESPONSE_KEPT_BYTES = 500
RESPONSE_READ_BYTES = 4096
USER_AGENT = "Renewals-Events/1"


def retry_delay(attempts: int) -> int:
    """Return the seconds to wait after the `attempts`-th failure (settings.EVENTS_RETRY_DELAYS)."""
    delays = settings.EVENTS_RETRY_DELAYS
    return delays[min(attempts, len(delays)) - 1]


def event_json(event: Event) -> dict:
    """Return an event as the API lists it and endpoints receive it (interfaces.md §2)."""
    return {
        "id": event.public_id,
        "type": event.type,
        "created": event.created.astimezone(UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "sequence": event.sequence,
        "subscription_id": event.subscription_id,
        "subscriptions": [
            {"id": s.subscription_id, "sequence": s.sequence} for s in event.subjects.all()
        ],
        "data": event.data,
    }


def event_body(event: Event) -> bytes:
    return json.dumps(event_json(event), separators=(",", ":"), ensure_ascii=False).encode()


def visible_position_q(prefix: str = "") -> Q:
    """Return the condition "written by a transaction that has finished" (see Event.position)."""
    bounds = horizon()
    if bounds is None:
        return Q()
    limit, own = bounds
    visible = Q(**{f"{prefix}position__lt": limit})
    return visible | Q(**{f"{prefix}position": own}) if own is not None else visible


def deliver_after_commit(endpoint_ids: list[int]) -> None:
    """Start delivering to these endpoints once the current transaction commits."""
    ids = list(endpoint_ids)
    transaction.on_commit(lambda: [_enqueue(pk) for pk in ids])


def _enqueue(endpoint_id: int) -> None:
    from .jobs import deliver_endpoint_job

    try:
        deliver_endpoint_job.delay(endpoint_id)
    except Exception:  # broker down: the periodic sweep delivers later
        log.exception("could not enqueue deliveries of endpoint %s", endpoint_id)


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    lease: str
    attempts: int
    replay: bool


def claim_head(endpoint_id: int, *, now) -> Claim | None:
    """Lease the endpoint's oldest pending delivery if it is due and free; None otherwise.

    A later delivery never overtakes it: while the head waits for its next attempt (or another
    worker holds it), nothing of this endpoint is sent (R22 order per subscription).
    """
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().filter(pk=endpoint_id).first()
        if endpoint is None or not endpoint.enabled:
            return None
        head = (
            Delivery.objects.filter(endpoint_id=endpoint_id, state="pending")
            .filter(visible_position_q())
            .order_by("position", "event_id")
            .first()
        )
        if head is None:
            return None
        if head.lease_until and head.lease_until > now:
            return None
        if head.next_attempt and head.next_attempt > now:
            return None
        lease = uuid.uuid4().hex
        Delivery.objects.filter(pk=head.pk).update(
            lease=lease,
            lease_until=now + timedelta(seconds=LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
        return Claim(head.pk, lease, head.attempts + 1, replay=head.delivered is not None)


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str
    response: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connect to an address vetted by the SSRF guard, not to whatever DNS says next."""

    def __init__(self, host, port, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        self.sock.settimeout(READ_TIMEOUT)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, **kwargs):
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        sock.settimeout(READ_TIMEOUT)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict) -> Answer:
    """POST a body to an endpoint URL with short time-outs; never raise, never follow redirects."""
    started = time.monotonic()

    def answer(code=None, error="", response="") -> Answer:
        return Answer(code, error[:300], response, int((time.monotonic() - started) * 1000))

    try:
        scheme, host, port = addresses.parse(url)
        address = addresses.resolve(host, port)[0]
    except addresses.UrlRefused as refused:
        return answer(error=f"refused: {refused}")
    split = urlsplit(url.strip())
    path = (split.path or "/") + (f"?{split.query}" if split.query else "")
    kind = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    conn = kind(host, port, address, timeout=READ_TIMEOUT)
    cut = threading.Event()
    watchdog = threading.Timer(TOTAL_TIMEOUT, _cut, args=(conn, cut))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read(RESPONSE_READ_BYTES)[:RESPONSE_KEPT_BYTES]
        if cut.is_set():
            return answer(error=f"no complete answer within {TOTAL_TIMEOUT:g} s")
        return answer(response.status, response=text.decode("utf-8", "replace"))
    except (OSError, http.client.HTTPException) as exc:
        if cut.is_set():
            return answer(error=f"no complete answer within {TOTAL_TIMEOUT:g} s")
        return answer(error=f"{type(exc).__name__}: {exc}")
    finally:
        watchdog.cancel()
        conn.close()


def _cut(conn, cut: threading.Event) -> None:
    """End an exchange that outlived TOTAL_TIMEOUT: the blocked read fails at once.

    The flag is set before the socket is shut, so the reader that wakes up always knows why
    (the timer thread may still be alive when it does).
    """
    cut.set()
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def send(delivery: Delivery) -> Answer:
    """POST one delivery's event, signed with its endpoint's secret (interfaces.md §2)."""
    event, endpoint = delivery.event, delivery.endpoint
    body = event_body(event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Renewals-Event-Id": event.public_id,
        "Renewals-Event-Type": event.type,
        "Renewals-Signature": signing.signature_header(endpoint.secret, timestamp, body),
    }
    return post(endpoint.url, body, headers)


def record(claim: Claim, answer: Answer, *, now) -> str:
    """Record the answer of a claimed delivery; return "delivered" or "failed"."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .select_related("endpoint")
            .get(pk=claim.delivery_id)
        )
        DeliveryAttempt.objects.create(
            delivery=delivery,
            started=now,
            duration_ms=answer.duration_ms,
            status_code=answer.status_code,
            error=answer.error,
            response=answer.response,
            replay=claim.replay,
        )
        endpoint = Endpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        if delivery.lease != claim.lease:
            # The lease ran out and another worker took the delivery over: it decides.
            return "delivered" if answer.ok else "failed"
        delivery.lease, delivery.lease_until = "", None
        if answer.ok:
            delivery.state, delivery.delivered, delivery.next_attempt = "delivered", now, None
            endpoint.consecutive_failures, endpoint.failing_since = 0, None
        else:
            delivery.next_attempt = now + timedelta(seconds=retry_delay(claim.attempts))
            endpoint.consecutive_failures += 1
            endpoint.failing_since = endpoint.failing_since or now
        delivery.save(update_fields=["lease", "lease_until", "state", "delivered", "next_attempt"])
        endpoint.save(update_fields=["consecutive_failures", "failing_since"])
        if not answer.ok and _should_disable(endpoint, now):
            disable(endpoint, reason="failing")
    return "delivered" if answer.ok else "failed"


def _should_disable(endpoint: Endpoint, now) -> bool:
    return (
        endpoint.consecutive_failures >= settings.EVENTS_DISABLE_AFTER_FAILURES
        and now - endpoint.failing_since >= timedelta(seconds=settings.EVENTS_DISABLE_AFTER_SECONDS)
    )


def disable(endpoint: Endpoint, *, reason: str) -> None:
    """Disable an endpoint (its deliveries wait) and email staff once about it."""
    from .emails import queue_endpoint_disabled

    Endpoint.objects.filter(pk=endpoint.pk).update(enabled=False, disabled_reason=reason)
    queue_endpoint_disabled(endpoint)


def enable(endpoint_id: int) -> None:
    """Enable an endpoint again; its waiting deliveries go out at once, oldest first."""
    Endpoint.objects.filter(pk=endpoint_id).update(
        enabled=True, disabled_reason="", consecutive_failures=0, failing_since=None
    )
    Delivery.objects.filter(endpoint_id=endpoint_id, state="pending").update(next_attempt=None)
    deliver_after_commit([endpoint_id])


def deliver_endpoint(endpoint_id: int, *, now=None, limit: int = 1000) -> dict:
    """Deliver an endpoint's due events in order until one fails or none is due; return counts."""
    counts = {"delivered": 0, "failed": 0}
    for _ in range(limit):
        moment = now or clock.now()
        claim = claim_head(endpoint_id, now=moment)
        if claim is None:
            break
        delivery = Delivery.objects.select_related("event", "endpoint").get(pk=claim.delivery_id)
        answer = send(delivery)
        result = record(claim, answer, now=moment)
        counts[result] += 1
        if result == "failed":
            break
    return counts


def deliver_due(now=None) -> dict:
    """Deliver every enabled endpoint's due events (the periodic sweep); return counts."""
    moment = now or clock.now()
    due = (
        Delivery.objects.filter(state="pending", endpoint__enabled=True)
        .filter(Q(next_attempt__isnull=True) | Q(next_attempt__lte=moment))
        .values_list("endpoint_id", flat=True)
        .distinct()
    )
    counts = {"delivered": 0, "failed": 0}
    for endpoint_id in sorted(set(due)):
        for key, value in deliver_endpoint(endpoint_id, now=now).items():
            counts[key] += value
    return counts


def replay(endpoint_id: int, *, first_event_id: int, last_event_id: int | None = None) -> int:
    """Send events again to an endpoint (one, or a range of ids), in order; return how many.

    Delivered ones become pending again; events older than the endpoint get a delivery. The
    receiver sees them with the same `Renewals-Event-Id` (R22 replay).
    """
    last = last_event_id if last_event_id is not None else first_event_id
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    events = [
        e
        for e in Event.objects.filter(pk__gte=first_event_id, pk__lte=last).only(
            "pk", "type", "position"
        )
        if endpoint.wants(e.type)
    ]
    with transaction.atomic():
        existing = set(
            Delivery.objects.filter(endpoint=endpoint, event__in=events).values_list(
                "event_id", flat=True
            )
        )
        Delivery.objects.bulk_create(
            Delivery(endpoint=endpoint, event=e, position=e.position)
            for e in events
            if e.pk not in existing
        )
        Delivery.objects.filter(endpoint=endpoint, event__in=events).update(
            state="pending", next_attempt=None
        )
        deliver_after_commit([endpoint.pk])
    return len(events)


def waiting_for_delivery() -> int:
    """Return how many deliveries of events are waiting (pending), for /metrics and staff."""
    return Delivery.objects.filter(state="pending").count()
