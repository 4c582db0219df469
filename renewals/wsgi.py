"""The WSGI application (gunicorn `renewals.wsgi:application`; `renewals serve` uses it)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from renewals.core.deployment import refuse_unsafe_start

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renewals.settings")
application = get_wsgi_application()
refuse_unsafe_start(
    serving=True
)  # DEBUG=0 with unsafe settings: the server stops booting, with the reason


# Allocations (less deallocations) of tracked objects between two young collections; Python's
# default is 700. The API's 500-row page holds ~10,000 containers at once (its JSON before
# encoding): at 700 that was 5-6 young collections a request, ~1 ms of its CPU; at 7,000 about
# one every 20 requests, 0.05 ms (#15). What waits to be collected is a few thousand objects.
YOUNG_COLLECTION_THRESHOLD = 7_000


def freeze_loaded_objects() -> None:
    """Load the URL configuration (every view and what it imports), then move every object
    alive to the collector's permanent generation (`gc.freeze`), and collect the young
    generation less often.

    Django, the views and their modules are ~120,000 tracked objects that live as long as the
    worker. Each full collection — one every few requests of the API's 500-row page, which
    allocates ~10,000 containers — scanned them all: ~5 of its ~23 ms of CPU (#15). Frozen
    objects are never scanned again (reference counting still frees them; only a cycle among
    them would stay); the garbage is collected first so none is frozen.
    """
    get_resolver().url_patterns  # noqa: B018 — imported now, not at the first request
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD)


freeze_loaded_objects()
