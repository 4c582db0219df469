"""`renewals import`: load customers, users, catalogue and subscriptions from one JSON file.

The whole file is validated first and every error reported with its JSON path; nothing is
written unless it is all valid, and then everything is written in one transaction
(interfaces.md §3, docs/import.md).
"""

from dataclasses import dataclass, field

from .history import off_grid_accepted
from .load import Summary, digest, existing_keys, write_plan
from .reading import decode, parse_text
from .validate import FORMAT, ImportFileError, validate

__all__ = ["FORMAT", "ImportFileError", "ImportResult", "import_bytes"]


@dataclass
class ImportResult:
    errors: list[str] = field(default_factory=list)
    summary: Summary | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def import_bytes(
    raw: bytes, *, today, dry_run: bool = False, actor_label: str = "import"
) -> ImportResult:
    """Validate a whole import file and, when it is valid, write it in one transaction.

    `today` is the business day of the import: rows that would undo a paid term, break a pending
    payment or bring back a subscription cancelled on that day are held (R19).
    """
    try:
        text = decode(raw)
    except ImportFileError as exc:
        return ImportResult(errors=[f"$: {exc}"])
    raw_digest = digest(raw)
    # The bytes are not needed once decoded: a caller handing them over (the command) lets
    # them go before the parse, which holds the text and the parsed file at once (#15).
    del raw
    try:
        data = parse_text(text)
    except ImportFileError as exc:
        return ImportResult(errors=[f"$: {exc}"])
    del text
    plan, errors = validate(data, existing_keys)
    # R1, R21: a D off the start date's grid is checked against the recorded term history.
    accepted = off_grid_accepted(plan.off_grid)
    errors = [error for error in errors if error not in accepted]
    # The parsed file is not needed once validated: free it before the write builds its rows.
    del data
    if errors:
        return ImportResult(errors=errors)
    if dry_run:
        return ImportResult()
    return ImportResult(
        summary=write_plan(plan, raw_digest=raw_digest, today=today, actor_label=actor_label)
    )
