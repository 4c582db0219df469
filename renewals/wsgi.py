"""The WSGI application (gunicorn `renewals.wsgi:application`; `renewals serve` uses it)."""

import os

from django.core.wsgi import get_wsgi_application

from renewals.core.deployment import refuse_unsafe_start

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renewals.settings")
application = get_wsgi_application()
refuse_unsafe_start(
    serving=True
)  # DEBUG=0 with unsafe settings: the server stops booting, with the reason
