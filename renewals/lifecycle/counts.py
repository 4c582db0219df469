"""The counts a daily run records: what its chunks did, merged (R16)."""

from collections import Counter

# What the chunks made (not deadlines settled at the start): kept when invocations overlap.
WORK_KEYS = ("charges", "notices", "emails")


def work(counts: dict | None) -> dict:
    """The charges, notices and emails of a run's counts."""
    return {key: dict(counts[key]) for key in WORK_KEYS if (counts or {}).get(key)}


def merge(counts: dict, result: dict) -> None:
    """Add a chunk's result to `counts` in place (dicts of counters, or numbers)."""
    for key, value in result.items():
        if isinstance(value, dict):
            merged = Counter(counts.get(key, {}))
            merged.update(value)
            counts[key] = dict(merged)
        else:
            counts[key] = counts.get(key, 0) + value
