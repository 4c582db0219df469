"""Domain refusals: a stable code and details, no words and no HTTP status.

Each interface answers a refusal its own way: the words come from the one catalogue
`renewals.core.error_messages` (en/fr/ja, by code), the status from the interface's table
(`renewals.api.errors.STATUS`, `renewals.portal.refusals.STATUS`).
"""


class DomainError(Exception):
    """A refusal a person can understand: a stable `code`, `details` and the values its words need.

    `variant` picks one wording of the code in the catalogue (the API still answers `code`);
    `params` are the values the words are written with (`%(name)s`).
    """

    code = "invalid"

    def __init__(self, code: str | None = None, *, details=None, variant: str = "", **params):
        if code:
            self.code = code
        self.variant = variant
        self.params = params
        self.details = details or []
        super().__init__(self.key)

    @property
    def key(self) -> str:
        """The catalogue key: `code`, or `code:variant`."""
        return f"{self.code}:{self.variant}" if self.variant else self.code

    @property
    def message(self) -> str:
        """The refusal in words, in the active language (the catalogue's wording for the API)."""
        from .error_messages import error_text

        return error_text(self)

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    """Something the caller may not see or that does not exist; `what` picks the wording."""

    code = "not_found"

    def __init__(self, what: str = "", *, details=None, **params):
        super().__init__(details=details, variant=what, **params)
