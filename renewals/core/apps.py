from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "renewals.core"
    label = "core"

    def ready(self):
        from renewals.core import checks  # noqa: F401 — registers the deployment checks
