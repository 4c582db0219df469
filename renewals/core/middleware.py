"""Cross-cutting request handling: security headers and the signed-in user's language."""

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils import translation
from django.utils.translation import gettext

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)


class SecurityHeadersMiddleware:
    """Add a Content-Security-Policy and related headers to every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/v1/docs"):
            return response  # the interactive API docs load their own script bundle
        response.headers.setdefault("Content-Security-Policy", CSP)
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
    """Answer 400 to a form or query string holding a NUL character, before any view runs.

    PostgreSQL text cannot store NUL: such a value reaching a query is a 500 otherwise. No
    person types one; a crafted request gets a plain refusal in words. The JSON API and the
    webhooks parse their own bodies (and leave request.body unread here).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            return HttpResponseBadRequest(
                gettext("The request contains a character that is not allowed."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        if request.path.startswith("/api/"):
            return False  # the API refuses NUL itself, in its JSON error shape (docs/api.md)
        if any("\x00" in v for values in request.GET.lists() for v in [values[0], *values[1]]):
            return True
        if request.method != "POST" or not request.content_type.startswith(FORM_TYPES):
            return False
        if request.path.startswith(("/api/", "/webhooks/")):
            return False
        return any("\x00" in v for values in request.POST.lists() for v in [values[0], *values[1]])
