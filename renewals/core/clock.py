"""The one clock of the project.

Every rule takes `today` as a parameter; only interfaces (views, commands, jobs) call `today()`,
once per request or run. `RENEWALS_TODAY=YYYY-MM-DD` freezes the business date for demos, tests
and staging "time travel".
"""

import os
from datetime import date

from django.utils import timezone


class ClockError(ValueError):
    pass


def parse_date(value: str) -> date:
    """Parse a YYYY-MM-DD string, with an error a person understands."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ClockError(f"{value!r} is not a date in the form YYYY-MM-DD") from None


def today() -> date:
    """Return the business date in the deployment's time zone, or RENEWALS_TODAY when set."""
    frozen = os.environ.get("RENEWALS_TODAY", "").strip()
    if frozen:
        return parse_date(frozen)
    return timezone.localdate()


def now():
    """Return the current aware datetime (for timestamps, never for business rules)."""
    return timezone.now()
