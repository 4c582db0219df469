from django.db import models
from django.db.models import Q

EMAIL_STATUSES = [("pending", "pending"), ("sent", "sent"), ("failed", "failed")]


class Email(models.Model):
    """The email outbox: a row first, delivered after commit by a job, retried until sent (R15).

    `dedupe_key` makes queueing idempotent: the same notice for the same thing is one row.
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
    next_attempt = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    sent = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sent", "failed"]), name="email_status_known"
            ),
        ]

    def __str__(self):
        return f"{self.kind} → {self.to}"
