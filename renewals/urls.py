from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from renewals.core import health
from renewals.operations import metrics
from renewals.payments import webhooks

admin.autodiscover()  # before admin.site.urls: the admin's app does not (renewals/admin_app.py)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/dashboard/", include("renewals.dashboard.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("renewals.api.urls")),
    path("webhooks/stripe", webhooks.stripe_webhook, name="webhook_stripe"),
    path("", include("renewals.portal.urls")),
]
if settings.PAYMENT_GATEWAY == "sandbox":
    # R10: the sandbox's webhook exists only when the sandbox is the gateway (the view also
    # checks it on every request, for settings changed while the process runs, e.g. in tests).
    urlpatterns.insert(
        -1, path("webhooks/sandbox", webhooks.sandbox_webhook, name="webhook_sandbox")
    )
