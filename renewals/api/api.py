"""The REST API v1 (interfaces.md §2): one NinjaAPI, bearer tokens, one error shape."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import ABS_TPL_PATH, Swagger

from renewals.core.errors import DomainError

from .auth import TokenAuth
from .errors import ApiError, domain_error_response, error_response, validation_details

log = logging.getLogger("renewals.api")

DESCRIPTION = """\
The Renewals API: list your subscriptions, renew them through a cart and a checkout, read your
orders and change auto-renew. Authenticate with `Authorization: Bearer <token>` (create a token
on the portal's *API tokens* page or with `renewals create-token EMAIL`).

Every error answers `{"error": {"code", "message", "details"}}`. Lists are paginated with
`page` and `page_size` (at most 500). Money is `{"amount": "1234.00", "currency": "EUR"}`.
"""


class OfflineSwagger(Swagger):
    """ninja's Swagger UI page from the files ninja ships, never from a CDN.

    ninja renders its local page only when "ninja" is an installed app, which it is not (its
    files are found through settings.NINJA_DIR, #15); otherwise it renders `template_cdn`
    with the same context, so that is pointed at the local page.
    """

    template_cdn = str(ABS_TPL_PATH / "swagger.html")


api = NinjaAPI(
    title="Renewals API",
    version="1",
    description=DESCRIPTION,
    auth=TokenAuth(),
    urls_namespace="api-v1",
    docs=OfflineSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    return domain_error_response(exc)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    details = validation_details(exc.errors)
    places = {str(err.get("loc", ("",))[0]) for err in exc.errors}
    # A malformed query string, path or header is a bad request; a well-formed body whose
    # values are wrong is unprocessable.
    status = 422 if places & {"body", "payload"} else 400
    if any(list(err.get("loc", ())) == ["header", "Idempotency-Key"] for err in exc.errors):
        return error_response(
            400,
            "idempotency_key_required",
            "A checkout needs an Idempotency-Key header of 1 to 200 characters.",
            details,
        )
    fields = ", ".join(d["field"] for d in details if d["field"]) or "the request"
    return error_response(status, "invalid", f"Invalid value for {fields}.", details)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error_response(
        401,
        "unauthenticated",
        "Missing, unknown or revoked API token: send Authorization: Bearer <token>.",
        headers={"WWW-Authenticate": 'Bearer realm="renewals"'},
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    code = {400: "bad_request", 401: "unauthenticated", 404: "not_found"}.get(
        exc.status_code, "error"
    )
    message = str(exc)
    if exc.status_code == 400 and "parse" in message.lower():
        message = "The request body is not valid JSON."
    return error_response(exc.status_code, code, message)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(404, "not_found", "Not found.")


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return error_response(413, "too_large", "The request body is too large.")


@api.exception_handler(Exception)
def _unexpected(request, exc):
    log.exception("API error on %s %s", request.method, request.path)
    return error_response(500, "server_error", "Something went wrong on our side; try again.")


api.add_router("", "renewals.api.endpoints.subscriptions.router")
api.add_router("", "renewals.api.endpoints.cart.router")
api.add_router("", "renewals.api.endpoints.orders.router")
api.add_router("", "renewals.api.endpoints.events.router")
api.add_router("", "renewals.api.endpoints.invoices.router")
