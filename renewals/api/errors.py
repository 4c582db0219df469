"""The one error shape of the API: {"error": {"code", "message", "details"}} (interfaces.md §2)."""

from django.http import JsonResponse


class ApiError(Exception):
    """An error answered as JSON with a status, a stable code and a message in words."""

    def __init__(self, status: int, code: str, message: str, details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, details=None, headers=None):
    """Return the JSON error response."""
    response = JsonResponse(
        {"error": {"code": code, "message": message, "details": list(details or [])}},
        status=status,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def validation_details(errors) -> list[dict]:
    """Turn pydantic/ninja errors into [{"field", "message"}] a person can read."""
    details = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "payload")]
        details.append({"field": ".".join(loc), "message": str(err.get("msg", "invalid"))})
    return details
