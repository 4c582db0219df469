"""The vendor's endpoints: add (the secret is shown once), list, remove (R22)."""

from django.db import transaction
from django.utils.translation import gettext as _

from renewals.core import audit

from . import addresses, signing
from .models import Endpoint
from .types import EVENT_TYPES


class EndpointRefused(ValueError):
    """An endpoint that cannot be added; the message says why in the user's language."""


def parse_types(text: str | list | None) -> list[str]:
    """Return the event types of a comma-separated list (empty: every type), or refuse."""
    if isinstance(text, str):
        items = [t.strip() for t in text.split(",") if t.strip()]
    else:
        items = list(text or [])
    unknown = [t for t in items if t not in EVENT_TYPES]
    if unknown:
        raise EndpointRefused(
            _("Unknown event types: %(types)s. Known types: %(known)s.")
            % {"types": ", ".join(unknown), "known": ", ".join(EVENT_TYPES)}
        )
    return list(dict.fromkeys(items))


@transaction.atomic
def add_endpoint(url: str, *, types=None, secret: str = "", description: str = "", actor=None):
    """Add an endpoint; return it with its signing secret (generated unless given)."""
    try:
        url = addresses.check_url(url)
    except addresses.UrlRefused as refused:
        raise EndpointRefused(str(refused)) from None
    if len(url) > 500:
        raise EndpointRefused(_("The URL is longer than 500 characters."))
    secret = (secret or "").strip() or signing.new_secret()
    if len(secret) < 16 or len(secret) > 100:
        raise EndpointRefused(_("A signing secret has 16 to 100 characters."))
    endpoint = Endpoint.objects.create(
        url=url, types=parse_types(types), secret=secret, description=description[:200]
    )
    audit.record(endpoint, action="endpoint_added", actor=actor, url=url, types=endpoint.types)
    return endpoint, secret


@transaction.atomic
def remove_endpoint(endpoint_id: int, *, actor=None) -> bool:
    """Remove an endpoint and its deliveries; return whether it existed."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return False
    audit.record(endpoint, action="endpoint_removed", actor=actor, url=endpoint.url)
    endpoint.delete()
    return True
