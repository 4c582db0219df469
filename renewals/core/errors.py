"""Domain errors that interfaces turn into messages and API error bodies."""


class DomainError(Exception):
    """A refusal a person can understand: a stable `code`, a message and optional details."""

    code = "invalid"
    status = 422

    def __init__(self, message: str, *, code: str | None = None, details=None, status=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details or []


class NotFound(DomainError):
    code = "not_found"
    status = 404
