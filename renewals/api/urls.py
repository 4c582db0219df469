"""URLs of /api/v1/: the NinjaAPI, then a JSON 404 for any other path under /api/."""

from django.urls import path, re_path

from . import baseline
from .api import api
from .errors import error_response


def not_found(request, rest=""):
    """Answer unknown API paths in the API's error shape, never Django's HTML page."""
    return error_response(404, "not_found", f"No API endpoint at {request.path}.")


urlpatterns = [
    path("v1/", api.urls),
    re_path(r"^(?P<rest>.*)$", not_found),
]
if baseline.enabled():  # bench/api_list.py only
    urlpatterns.insert(0, path("_bench/subscriptions", baseline.subscriptions_baseline))
