from django.contrib import admin
from django.urls import include, path

from renewals.core import health
from renewals.payments import webhooks

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("renewals.api.urls")),
    path("webhooks/sandbox", webhooks.sandbox_webhook, name="webhook_sandbox"),
    path("webhooks/stripe", webhooks.stripe_webhook, name="webhook_stripe"),
    path("", include("renewals.portal.urls")),
]
