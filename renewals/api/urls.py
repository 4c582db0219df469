"""URLs of /api/v1/: the NinjaAPI, then a JSON 404 for any other path under /api/."""

import functools

from django.urls import path, re_path

from .api import api
from .errors import error_response


def not_found(request, rest=""):
    """Answer unknown API paths in the API's error shape, never Django's HTML page."""
    return error_response(404, "not_found", f"No API endpoint at {request.path}.")


def json_method_not_allowed(view):
    """Give ninja's bare 405 (a method the path does not have) the API's error shape."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            answer = error_response(
                405, "method_not_allowed", f"{request.method} is not allowed here; use {allowed}."
            )
            answer["Allow"] = allowed
            return answer
        return response

    return wrapper


# Not named app_name: a module-level app_name would namespace every URL of this module.
_patterns, _ninja_app, _namespace = api.urls
for _pattern in _patterns:
    _pattern.callback = json_method_not_allowed(_pattern.callback)

urlpatterns = [
    path("v1/", (_patterns, _ninja_app, _namespace)),
    re_path(r"^(?P<rest>.*)$", not_found),
]
