from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "renewals.events"
    label = "events"
    verbose_name = _("Events and endpoints")

    def ready(self):
        # The shapes of the objects events carry (renewals.shapes, the API's too) are read by
        # events.shapes and plugged into the outbox here, so domain apps only import the outbox.
        from . import shapes

        shapes.register_all()
