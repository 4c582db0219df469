"""The one clock of the project.

Every rule takes `today` as a parameter; only interfaces (views, commands, jobs) call `today()`,
once per request or run. `RENEWALS_TODAY=YYYY-MM-DD` freezes the business date for demos, tests
and staging "time travel".
"""

import os
import re
from datetime import date

from django.utils import timezone


class ClockError(ValueError):
    pass


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parse_date(value: str) -> date:
    """Parse a YYYY-MM-DD string, with an error a person understands."""
    # Python 3.11's fromisoformat also takes 20260501 or 2026-W18-5; the documented form is
    # YYYY-MM-DD only, so anything else is refused rather than guessed.
    text = value.strip() if isinstance(value, str) else ""
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ClockError(
            f"{value!r} is not a valid date in the form YYYY-MM-DD (e.g. 2026-05-01)"
        ) from None


def today() -> date:
    """Return the business date in the deployment's time zone, or RENEWALS_TODAY when set."""
    frozen = os.environ.get("RENEWALS_TODAY", "").strip()
    if frozen:
        try:
            return parse_date(frozen)
        except ClockError as error:
            raise ClockError(f"RENEWALS_TODAY: {error}") from None
    return timezone.localdate()


def now():
    """Return the current aware datetime (for timestamps, never for business rules)."""
    return timezone.now()
