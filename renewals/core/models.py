from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """Who changed what, when and why: one row per state change, written by the actions."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True)  # "system", "webhook:sandbox", …
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=100)
    action = models.CharField(max_length=80)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.object_type}:{self.object_id} {self.action}"


class RateCounter(models.Model):
    """Requests counted per key and fixed window, shared by every process (core.ratelimit)."""

    key = models.CharField(max_length=200)
    window = models.BigIntegerField()  # the window's number: epoch seconds // its length
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="one_rate_counter_per_window")
        ]

    def __str__(self):
        return f"{self.key}@{self.window}: {self.count}"
