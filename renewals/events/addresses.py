"""Which endpoint URLs Renewals may call (SSRF guard, interfaces.md §1 EVENTS_ALLOW_PRIVATE_URLS).

Only http and https; the host must resolve only to public addresses unless
EVENTS_ALLOW_PRIVATE_URLS is set (tests, on-premises receivers). Checked when an endpoint is
added and again at every delivery, on the address actually connected to (no DNS rebinding).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class UrlRefused(ValueError):
    """An endpoint URL Renewals will not call; the message says why, in the user's language."""


def _allow_private() -> bool:
    return bool(getattr(settings, "EVENTS_ALLOW_PRIVATE_URLS", False))


def parse(url: str) -> tuple[str, str, int]:
    """Return (scheme, host, port) of an endpoint URL, or raise UrlRefused."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise UrlRefused(_("The URL is not valid.")) from None
    if parts.scheme not in ("http", "https"):
        raise UrlRefused(_("Only http and https URLs can receive events."))
    if not parts.hostname:
        raise UrlRefused(_("The URL has no host."))
    if parts.username or parts.password:
        raise UrlRefused(_("The URL must not contain a user name or password."))
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def is_public(address: str) -> bool:
    """Return whether an IP address is a public, routable one (not loopback, private, …)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """Return the addresses to connect to for host:port, refusing non-public ones (SSRF)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UrlRefused(_("The host %(host)s cannot be resolved.") % {"host": host}) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not _allow_private():
        for address in addresses:
            if not is_public(address):
                raise UrlRefused(
                    _(
                        "The host %(host)s is a loopback or private address (%(address)s); "
                        "set EVENTS_ALLOW_PRIVATE_URLS=1 to allow it."
                    )
                    % {"host": host, "address": address}
                )
    return addresses


def check_url(url: str) -> str:
    """Return the URL stripped if Renewals may call it; raise UrlRefused otherwise."""
    _scheme, host, port = parse(url)
    resolve(host, port)
    return url.strip()
