from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """The command-line interface: `renewals import / show / demo / daily / sandbox / …`."""

    name = "renewals.operations"
    label = "operations"
