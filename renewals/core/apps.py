from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "renewals.core"
    label = "core"
