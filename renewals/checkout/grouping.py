"""Cart groups (R7): lines grouped by CSN, currency and purchase method. Pure."""

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def group_key(csn: str, currency: str, purchase_method: str) -> str:
    """Return the stable key of a cart group: "<csn>:<currency>:<purchase_method>"."""
    return f"{csn}:{currency}:{purchase_method}"


def parse_group_key(key: str) -> tuple[str, str, str] | None:
    """Split a group key; None when it is not one (a tampered form, a typo)."""
    parts = key.split(":") if isinstance(key, str) else []
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def group_by(items: Iterable[T], key) -> dict[str, list[T]]:
    """Group items by `key(item)`, keeping first-seen order of groups and items."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups
