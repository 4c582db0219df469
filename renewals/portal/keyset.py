"""Keyset pagination of the subscriptions list (R17, #15): every page costs one index range.

A page is named by where it starts, not by its number: `?after=<cursor>` is the page after a
row, `?before=<cursor>` the page before it, `?last=1` the last page, nothing the first. The
cursor is the sort key of the boundary row (e.g. its renewal date and id), so a link stays
valid when rows are added or removed before it — it never skips or repeats a row that was
there — and the last page costs what the first does (OFFSET reads and discards every row
before it). A cursor that does not parse is ignored: the first page is shown, never a 500.

The total is counted only up to `COUNT_LIMIT` + 1 rows, so a page view never counts the whole
account: above the limit the page says "more than 1,000".
"""

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q

COUNT_LIMIT = 1000
MAX_CURSOR_LENGTH = 400


@dataclass
class Page:
    rows: list
    has_previous: bool
    has_next: bool
    before: str = ""  # cursor of the first row (for the Previous link)
    after: str = ""  # cursor of the last row (for the Next link)
    count: int = 0  # the total, exact up to COUNT_LIMIT
    count_capped: bool = False  # more rows than COUNT_LIMIT match
    keys: list = field(default_factory=list)


def encode(values: list) -> str:
    """Return the URL-safe cursor of a row's sort key values."""
    text = json.dumps([v.isoformat() if isinstance(v, date) else v for v in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, kinds: list[type]) -> list | None:
    """Return the sort key values of a cursor, or None when it does not parse."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            return None
        values = []
        for value, kind in zip(raw, kinds, strict=True):
            if not isinstance(value, str) or "\x00" in value:
                return None
            values.append(date.fromisoformat(value) if kind is date else value)
        return values
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


def _beyond(fields: list[str], values: list, *, forward: bool) -> Q:
    """Rows strictly after (forward) or before the key `values` in the order of `fields`.

    `fields` are order_by() names ("-x" descending); tuple comparison spelt out in ORs.
    """
    match = Q()
    for i, name in enumerate(fields):
        column = name.lstrip("-")
        ascending = not name.startswith("-")
        lookup = "gt" if ascending == forward else "lt"
        step = Q(**{f"{column}__{lookup}": values[i]})
        for earlier, value in zip(fields[:i], values[:i], strict=False):
            step &= Q(**{earlier.lstrip("-"): value})
        match |= step
    return match


def _reversed(fields: list[str]) -> list[str]:
    return [f[1:] if f.startswith("-") else f"-{f}" for f in fields]


def paginate(queryset, fields: list[str], kinds: list[type], params, *, size: int) -> Page:
    """Return the page of `queryset` (ordered by `fields`) that the GET `params` name."""
    columns = [f.lstrip("-") for f in fields]
    after = decode(params.get("after", ""), kinds)
    before = None if after else decode(params.get("before", ""), kinds)
    last = not after and not before and params.get("last") == "1"
    if after:
        rows = list(
            queryset.filter(_beyond(fields, after, forward=True)).order_by(*fields)[: size + 1]
        )
        has_next, has_previous = len(rows) > size, True
        rows = rows[:size]
    elif before or last:
        backwards = queryset.order_by(*_reversed(fields))
        if before:
            backwards = backwards.filter(_beyond(fields, before, forward=False))
        rows = list(backwards[: size + 1])
        has_previous, has_next = len(rows) > size, not last
        rows = rows[:size][::-1]
    else:
        rows = list(queryset.order_by(*fields)[: size + 1])
        has_next, has_previous = len(rows) > size, False
        rows = rows[:size]
    if not rows and (after or before):
        # Everything past the cursor went away: show the first page rather than nothing.
        return paginate(queryset, fields, kinds, {}, size=size)
    page = Page(rows=rows, has_previous=has_previous, has_next=has_next)
    if rows:
        page.before = encode([_value(rows[0], c) for c in columns])
        page.after = encode([_value(rows[-1], c) for c in columns])
    counted = queryset.order_by().values("pk")[: COUNT_LIMIT + 1].count()
    page.count, page.count_capped = min(counted, COUNT_LIMIT), counted > COUNT_LIMIT
    return page


def _value(row, column: str):
    value = row
    for part in column.split("__"):
        value = getattr(value, part)
    return value
