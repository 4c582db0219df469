"""Logs an operator can follow: one JSON object a line, with the request id and business ids.

- `RequestIdMiddleware` gives each request an id (the proxy's `X-Request-ID` when it sent a sane
  one, else a new one), answers it in `X-Request-ID`, and binds the business ids named by the
  URL (`/billing/orders/<number>/` → `order`, `<sub_id>` → `subscription`, ...).
- `bind(order=..., subscription=..., payment=...)` adds ids for the code inside it (jobs,
  webhooks); `ContextFilter` copies them onto every record, as does `extra={"order": ...}`.
- `JsonFormatter` writes the record as JSON: time, level, logger, message, request_id, the
  business ids it knows, and the exception if any. LOG_FORMAT=json|text (json with DEBUG=0).

Background jobs take the Celery task id as their request id (renewals/celery.py).
"""

import contextlib
import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

BUSINESS_IDS = ("order", "subscription", "payment", "invoice")
_context: contextvars.ContextVar[dict] = contextvars.ContextVar("renewals_log_context", default={})  # noqa: B039 — never mutated, replaced
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}", re.ASCII)

# URL keyword → business id (portal and API paths, interfaces.md §2 and §5).
URL_KWARGS = {"sub_id": "subscription", "subscription_id": "subscription", "reference": "payment"}


def current() -> dict:
    return _context.get()


@contextlib.contextmanager
def bind(**ids):
    """Add ids (request_id, order, subscription, payment, invoice) to every log line inside."""
    token = _context.set({**_context.get(), **{k: str(v) for k, v in ids.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


def enter(ids: dict):
    """Bind ids until `leave(token)`: for callers that cannot use `with bind(...)` (signals)."""
    return _context.set({**_context.get(), **{k: str(v) for k, v in ids.items() if v}})


def leave(token) -> None:
    _context.reset(token)


def new_request_id(offered: str | None = None) -> str:
    if offered and SANE_REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Copy the bound ids onto each record (an `extra=` given to the call wins)."""

    def filter(self, record):
        request = getattr(record, "request", None)  # Django's own lines after the response
        if not hasattr(record, "request_id") and getattr(request, "request_id", None):
            record.request_id = request.request_id
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", *BUSINESS_IDS, "task"):
            value = getattr(record, key, None)
            if value:
                line[key] = str(value)
        line.update(getattr(record, "fields", None) or {})  # e.g. the access log's status
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The development format, with the ids at the end of the line when there are any."""

    def format(self, record):
        text = super().format(record)
        ids = " ".join(
            f"{k}={getattr(record, k)}"
            for k in ("request_id", *BUSINESS_IDS)
            if getattr(record, k, None)
        )
        return f"{text} [{ids}]" if ids else text


class RequestIdMiddleware:
    """A request id for every request, in its log lines and in the `X-Request-ID` answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = _context.set({"request_id": request_id})
        try:
            response = self.get_response(request)
        finally:
            _context.reset(token)
        response.headers["X-Request-ID"] = request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        ids = {name: str(view_kwargs[k]) for k, name in URL_KWARGS.items() if k in view_kwargs}
        if "number" in view_kwargs:
            kind = "invoice" if "/invoices/" in request.path else "order"
            ids[kind] = str(view_kwargs["number"])
        if ids:
            _context.set({**_context.get(), **ids})
        return None
