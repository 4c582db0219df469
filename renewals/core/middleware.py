"""Cross-cutting request handling: security headers and the signed-in user's language."""

from django.conf import settings
from django.db import DataError
from django.http import HttpResponseBadRequest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)
# Stripe Checkout is a page of Stripe's own, reached by the checkout form's redirect: browsers
# check a form's redirect target against form-action, so that one origin is added — no script,
# frame or connect source is (no Stripe.js on our pages, R10).
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def content_security_policy() -> str:
    """The CSP of every page: only what the configured payment gateway's page needs."""
    if settings.PAYMENT_GATEWAY == "stripe":
        return CSP.replace("form-action 'self'", f"form-action 'self' {STRIPE_CHECKOUT_ORIGIN}")
    return CSP


class SecurityHeadersMiddleware:
    """Add a Content-Security-Policy and related headers to every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/v1/docs"):
            return response  # the interactive API docs load their own script bundle
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


class UserLanguageMiddleware:
    """Serve a signed-in user in their preferred language unless they chose one by cookie.

    Sits after AuthenticationMiddleware; LocaleMiddleware has already honoured an explicit
    choice (the language cookie set by the switch), which always wins.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and getattr(user, "language", None)
        ):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RejectNulCharactersMiddleware:
    """Turn the database's refusal of a NUL character into a 400 in words, not a 500.

    PostgreSQL text cannot hold NUL; no person types one. Views that check their input answer
    for themselves; where a crafted NUL reaches a query, the request gets a plain refusal
    instead of a server error. Only requests that carry a NUL are concerned: any other error
    is left alone. The JSON API and the webhooks answer in their own shapes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (DataError, ValueError)) or not self._has_nul(request):
            return None
        # The product's 400 page (portal look, the user's language), saying what was refused.
        detail = gettext("The request contains a character that is not allowed.")
        return HttpResponseBadRequest(render_to_string("400.html", {"detail": detail}))

    @staticmethod
    def _has_nul(request) -> bool:
        if request.path.startswith(("/api/", "/webhooks/")):
            return False  # they refuse NUL themselves, in their JSON error shape (docs/api.md)
        values = [v for _key, vs in request.GET.lists() for v in vs]
        if request.method == "POST" and request.content_type.startswith(FORM_TYPES):
            values += [v for _key, vs in request.POST.lists() for v in vs]
        return any("\x00" in v for v in values)
