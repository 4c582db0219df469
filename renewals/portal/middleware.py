"""The portal's own error pages in DEBUG too, for the demo's customers (#17).

`renewals demo` runs with DEBUG on (no TLS, runserver's static files), where Django would
answer a mistyped address or someone else's subscription id with its technical 404 page — the
URL patterns and settings of the site — and an exception with the debug 500 page. A demo is
shown to customers, so, unless RENEWALS_DEBUG_PAGES=1 asks for the technical pages, this
middleware serves the portal's 404, 400 and 500 pages there as production does (a 403 and a
CSRF failure already render the portal's 403.html and 403_csrf.html in DEBUG). With DEBUG off it
does nothing: Django's handlers already render the same templates (404.html, 403.html,
400.html, 403_csrf.html, 500.html).
"""

import logging
import os

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.views.defaults import bad_request, page_not_found, server_error

log = logging.getLogger("django.request")

# Django's technical 404 page, and only it, carries this meta tag.
TECHNICAL_MARK = b'<meta name="robots" content="NONE,NOARCHIVE">'


def debug_pages_wanted() -> bool:
    return os.environ.get("RENEWALS_DEBUG_PAGES", "").strip().lower() in ("1", "true", "yes")


class ProductErrorPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def active(self) -> bool:
        return settings.DEBUG and not debug_pages_wanted()

    def __call__(self, request):
        response = self.get_response(request)
        if (
            self.active()
            and response.status_code == 404
            and not getattr(response, "streaming", False)
            and TECHNICAL_MARK in response.content
        ):
            return page_not_found(request, Http404())
        return response

    def process_exception(self, request, exception):
        if not self.active():
            return None
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return None  # Django renders 403.html in DEBUG too
        if isinstance(exception, (BadRequest, SuspiciousOperation)):
            # DEBUG would show the technical page with status 400.
            if isinstance(exception, SuspiciousOperation):
                security = logging.getLogger(f"django.security.{exception.__class__.__name__}")
                security.error(str(exception))
            return bad_request(request, exception)
        log.error("Internal Server Error: %s", request.path, exc_info=exception)
        return server_error(request)
