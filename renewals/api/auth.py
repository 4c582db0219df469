"""Bearer-token authentication with a per-token rate limit and a request-size limit."""

import time

from django.conf import settings
from django.core.cache import cache
from ninja.security import HttpBearer

from . import tokens
from .errors import ApiError

RATE_WINDOW_SECONDS = 60


def rate_limit() -> int:
    return int(getattr(settings, "API_RATE_LIMIT", 600))


def max_body_bytes() -> int:
    return int(getattr(settings, "API_MAX_BODY_BYTES", 1_048_576))


def check_rate(token_id: int, *, now: float | None = None) -> None:
    """Count one request of a token in the current minute; refuse past API_RATE_LIMIT (429)."""
    now = time.time() if now is None else now
    window = int(now // RATE_WINDOW_SECONDS)
    key = f"api-rate:{token_id}:{window}"
    # add() is atomic on every cache backend, incr() too on Redis; the pair never loses a count.
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS * 2)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS * 2)
        used = 1
    if used > rate_limit():
        retry_after = max(1, int((window + 1) * RATE_WINDOW_SECONDS - now) + 1)
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests: at most {rate_limit()} a minute per token. "
            f"Try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


def check_body_size(request) -> None:
    """Refuse a body larger than API_MAX_BODY_BYTES before anything reads it (413)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError(400, "bad_request", "The Content-Length header is not a number.") from None
    if length > max_body_bytes():
        raise ApiError(
            413,
            "too_large",
            f"The request body is larger than {max_body_bytes()} bytes.",
        )


def check_no_nul(request) -> None:
    """Refuse NUL characters in the path, query or body (400): no text column can store them."""
    in_query = any(
        "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
    )
    body = request.body if request.method in ("POST", "PUT", "PATCH") else b""
    if "\x00" in request.path or in_query or b"\x00" in body or b"\\u0000" in body:
        raise ApiError(
            400, "invalid", "The request contains a NUL character, which no field accepts."
        )


class TokenAuth(HttpBearer):
    """Authorization: Bearer <token>; sets request.user to the token's user."""

    def __call__(self, request):
        check_body_size(request)
        check_no_nul(request)
        return super().__call__(request)

    def authenticate(self, request, token):
        found = tokens.authenticate(token)
        if found is None:
            return None
        check_rate(found.pk)
        request.user = found.user
        request.api_token = found
        return found
