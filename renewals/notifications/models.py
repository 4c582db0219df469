from django.db import models
from django.db.models import Q

EMAIL_STATUSES = [
    ("pending", "pending"),
    ("sending", "sending"),
    ("sent", "sent"),
    ("failed", "failed"),
]


class Email(models.Model):
    """The email outbox: a row first, delivered after commit, retried until sent (R13, R15).

    `dedupe_key` makes queueing idempotent: the same notice for the same thing is one row.
    A sender claims a row (`sending`) with a lease (`lease_until`) before it talks to the SMTP
    server; a sender that dies leaves the lease to expire, and the row is sent again with the
    same Message-ID (at-least-once, docs/guarantees.md). `refusals` counts permanent (5xx)
    answers; `expires` is the moment after which it is no longer worth sending.
    """

    kind = models.CharField(max_length=40, db_index=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    to = models.EmailField()
    language = models.CharField(max_length=2, default="en")
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=EMAIL_STATUSES, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    refusals = models.PositiveIntegerField(default=0)
    next_attempt = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    sent = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sending", "sent", "failed"]),
                name="email_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(lease_until__isnull=False),
                name="email_sending_has_a_lease",
            ),
        ]

    def __str__(self):
        return f"{self.kind} → {self.to}"
