from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A named bearer token of a user; only its SHA-256 is stored, the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    # The first characters of the token, so that a person can tell their tokens apart.
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)
    # A staff token reads every customer's events (R22) while its user is staff.
    staff = models.BooleanField(_("staff token"), default=False)

    class Meta:
        verbose_name = _("API token")
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked is None


class IdempotentRequest(models.Model):
    """A claimed Idempotency-Key of a user's checkout, then its stored response (R10).

    The unique constraint is the claim: a second request with the same key either replays the
    stored response, waits for nothing and answers 409 while the first is still running, or is
    refused when its body differs.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_request_per_idempotency_key"),
            models.CheckConstraint(
                condition=Q(status_code__isnull=True) | Q(response__isnull=False),
                name="idempotent_response_stored_with_status",
            ),
        ]

    @property
    def completed(self) -> bool:
        return self.status_code is not None
