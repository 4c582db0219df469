from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "renewals.core"
    label = "core"

    def ready(self):
        from django.db.backends.signals import connection_created

        from renewals.core import (
            checks,  # noqa: F401 — registers the deployment checks
            lookups,  # noqa: F401 — registers the `__any` lookup
        )
        from renewals.core.pg_arrays import on_connection_created

        connection_created.connect(on_connection_created, dispatch_uid="renewals.pg_arrays")
