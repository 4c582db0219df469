"""The site's URLs plus three that fail on purpose, for the error-page tests (#17)."""

from django.core.exceptions import BadRequest, PermissionDenied
from django.urls import path

from renewals.urls import urlpatterns as site


def forbidden(request):
    raise PermissionDenied("staff only")


def bad_request(request):
    raise BadRequest("unreadable")


def broken(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("billing/test-forbidden/", forbidden),
    path("billing/test-bad-request/", bad_request),
    path("billing/test-broken/", broken),
    *site,
]
