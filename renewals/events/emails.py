"""The staff email sent when an endpoint is disabled after repeated failures (R22)."""

from django.conf import settings
from django.contrib.auth import get_user_model

from renewals.notifications.outbox import queue_email


def queue_endpoint_disabled(endpoint) -> int:
    """Queue one `endpoint-disabled` email to every active staff user; return how many."""
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("pk")
    count = 0
    for user in staff:
        queue_email(
            kind="endpoint-disabled",
            to=user.email,
            language=user.language or "en",
            context={
                "url": endpoint.url,
                "endpoint_id": endpoint.pk,
                "failures": endpoint.consecutive_failures,
                "failing_since": endpoint.failing_since,
                "admin_url": settings.PORTAL_BASE_URL.rstrip("/")
                + f"/admin/events/endpoint/{endpoint.pk}/change/",
            },
            dedupe_key=f"endpoint-disabled:{endpoint.pk}:{endpoint.failing_since.isoformat()}:{user.pk}",
        )
        count += 1
    return count
