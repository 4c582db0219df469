"""The signature of outbound events (interfaces.md §2), the same scheme as inbound webhooks.

`Renewals-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` under the
endpoint's secret. Receivers recompute it over the raw body and refuse stale timestamps.
"""

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """Return a new random signing secret (shown once when an endpoint is added)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of "<timestamp>.<body>" under `secret`."""
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """Return the value of the Renewals-Signature header for a body sent at `timestamp`."""
    return f"t={int(timestamp)},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: int) -> bool:
    """Return whether a Renewals-Signature header signs `body` and is at most 5 minutes old."""
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, _sep, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, v) for v in parts.get("v1", []))
