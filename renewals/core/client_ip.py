"""The address of the person making a request, for per-address limits (issue #14).

Behind a reverse proxy every request arrives from the proxy's address, so a limit per
`REMOTE_ADDR` would be one limit for everybody. The proxy says who its client was in
`X-Forwarded-For`, but anyone can send that header: believed blindly, it lets one client spray
password resets or sign-in guesses from as many "addresses" as it likes.

So the header is read only when the request came from a proxy listed in
`RENEWALS_TRUSTED_PROXIES` (addresses or networks). It is read from the right, the end the
proxies append to: each trusted proxy's entry is skipped, and the first address no trusted proxy
owns is the client. Whatever a client wrote further left is never reached. With no trusted
proxy (the default) the header is ignored and the client is `REMOTE_ADDR`.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For's first untrusted hop from it."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    networks = parse_networks(getattr(settings, "RENEWALS_TRUSTED_PROXIES", ()))
    if not networks or not _trusted(remote, networks):
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    client = remote
    for hop in reversed([h for h in hops if h]):
        address = _address(hop)
        if address is None:  # not an address: stop at the last hop a trusted proxy vouched for
            return client
        client = str(address)
        if not _trusted(client, networks):
            return client
    return client


def parse_networks(items) -> tuple:
    """Addresses or networks, from a comma-separated text or a sequence; a clear error else."""
    if isinstance(items, str):
        items = items.split(",")
    return _parse(tuple(str(item).strip() for item in items if str(item).strip()))


@lru_cache(maxsize=16)
def _parse(items: tuple) -> tuple:
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"RENEWALS_TRUSTED_PROXIES: {item!r} is not an IP address or network "
                "(e.g. 127.0.0.1, ::1 or 10.0.0.0/8)."
            ) from None
    return tuple(networks)


def _trusted(remote: str, networks: tuple) -> bool:
    address = _address(remote)
    return address is not None and any(address in network for network in networks)


def _address(text: str):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
