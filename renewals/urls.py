from django.contrib import admin
from django.urls import include, path

from renewals.core import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("renewals.api.urls")),
    path("", include("renewals.portal.urls")),
]
