"""Bearer-token authentication with a per-token rate limit and a request-size limit."""

from django.conf import settings
from ninja.security import HttpBearer

from renewals.core import ratelimit

from . import tokens
from .errors import ApiError

RATE_WINDOW_SECONDS = 60


def rate_limit() -> int:
    return int(getattr(settings, "API_RATE_LIMIT", 600))


def max_body_bytes() -> int:
    return int(getattr(settings, "API_MAX_BODY_BYTES", 1_048_576))


def check_rate(token_id: int, *, now: float | None = None) -> None:
    """Count one request of a token in the current minute; refuse past API_RATE_LIMIT (429).

    The count is shared by every process (core.ratelimit: the database, or Redis when
    REDIS_URL is set): four workers allow API_RATE_LIMIT a minute in all, not four times it.
    """
    counted = ratelimit.hit(
        f"api:{token_id}", limit=rate_limit(), window=RATE_WINDOW_SECONDS, now=now
    )
    if not counted.allowed:
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests: at most {rate_limit()} a minute per token. "
            f"Try again in {counted.retry_after} seconds.",
            headers={"Retry-After": str(counted.retry_after)},
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
