"""Events (R22), the vendor's endpoints, and the deliveries of events to endpoints."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .types import EVENT_TYPES

TYPE_CHOICES = [(t, t) for t in EVENT_TYPES]


class Event(models.Model):
    """One fact that changed access or money, written in the same transaction as the fact.

    `position` is the writing transaction's id on PostgreSQL (0 on SQLite, whose writers are
    serialised): readers walk events in (position, id) order and only up to the oldest
    transaction still running, so an event committed late is never behind a reader's cursor.
    """

    type = models.CharField(_("type"), max_length=40, choices=TYPE_CHOICES)
    created = models.DateTimeField(_("created"), default=timezone.now)
    # The subscription the event is about, when it is about exactly one (with its sequence).
    subscription_id = models.CharField(_("subscription"), max_length=64, null=True, blank=True)
    sequence = models.PositiveIntegerField(_("sequence"), null=True, blank=True)
    customer_ids = models.JSONField(default=list, blank=True)
    data = models.JSONField(_("data"))
    # Idempotency of facts the daily run derives from dates (a stage entered on a lapse date).
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    position = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("event")
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["position", "id"], name="event_position"),
            models.Index(fields=["type", "position", "id"], name="event_type_position"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(type__in=EVENT_TYPES), name="event_type_known"),
        ]

    def __str__(self):
        return f"{self.public_id} {self.type}"

    @property
    def public_id(self) -> str:
        return f"evt_{self.pk}"


class EventSubscription(models.Model):
    """A subscription an event concerns, with its number in that subscription's sequence.

    The unique constraint makes each subscription's sequence 1, 2, 3… without duplicates,
    whatever the number of writers; an order event has one row per subscription it renewed.
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="subjects")
    subscription_id = models.CharField(max_length=64)
    sequence = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription_id", "sequence"], name="one_event_per_subscription_sequence"
            ),
            models.UniqueConstraint(
                fields=["event", "subscription_id"], name="one_subject_per_event_subscription"
            ),
        ]


class Endpoint(models.Model):
    """A URL of the vendor's systems that receives signed events (R22, interfaces.md §2)."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Empty means every type.
    types = models.JSONField(_("event types"), default=list, blank=True)
    secret = models.CharField(_("signing secret"), max_length=100)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=200, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    # Since when the endpoint's head delivery keeps failing (None while it answers).
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)

    class Meta:
        verbose_name = _("endpoint")
        ordering = ["id"]

    def __str__(self):
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.types or event_type in self.types


DELIVERY_STATES = [("pending", _("pending")), ("delivered", _("delivered"))]


class Delivery(models.Model):
    """An event to deliver to an endpoint: pending until the endpoint answers 2xx, never dropped.

    An endpoint's deliveries go one at a time in (position, event) order: a later event waits
    while an earlier one fails, so every subscription's events arrive in order (R22).
    """

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    position = models.BigIntegerField(default=0)
    state = models.CharField(_("state"), max_length=10, choices=DELIVERY_STATES, default="pending")
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt = models.DateTimeField(_("next attempt"), null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease = models.CharField(max_length=32, blank=True)
    delivered = models.DateTimeField(_("delivered"), null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["position", "event_id"]
        indexes = [
            models.Index(
                fields=["endpoint", "position", "event"],
                condition=Q(state="pending"),
                name="delivery_pending_head",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="one_delivery_per_endpoint"),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "delivered"]), name="delivery_state_known"
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One POST of an event to an endpoint: the delivery log of the back office."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    started = models.DateTimeField(_("time"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    status_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    response = models.CharField(_("response (start)"), max_length=500, blank=True)
    replay = models.BooleanField(_("replay"), default=False)

    class Meta:
        verbose_name = _("delivery attempt")
        ordering = ["-started", "-id"]
        indexes = [models.Index(fields=["delivery", "-started"])]

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
