"""Read an import file as a whole: its size, its encoding, its JSON (interfaces.md §3).

A file that cannot be read is one ImportFileError with one clear message; what it holds is
checked afterwards, row by row (`shapes`, `validate`).
"""

import json
import re
from decimal import Decimal

from django.conf import settings

from .shapes import kind

MAX_DEPTH = 20
# The JSON escape of a surrogate: checked further only when the file holds one (#15: rarely).
LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, JSON syntax, size, nesting)."""


def max_bytes() -> int:
    """Return the largest import file accepted, in bytes (settings.IMPORT_MAX_BYTES)."""
    return settings.IMPORT_MAX_BYTES


def check_size(size: int) -> None:
    """Refuse a file over the import limit, with a message saying what to do."""
    limit = max_bytes()
    if size > limit:
        raise ImportFileError(
            f"the file is larger than the import limit of {_mb(limit)} "
            "(IMPORT_MAX_MB): split it into smaller files (importing is safe to repeat) "
            "or raise IMPORT_MAX_MB on a machine with about three times that memory to spare"
        )


def _mb(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size} bytes"
    return f"{size / (1024 * 1024):.4g} MB"


def parse(raw: bytes) -> object:
    """Decode and parse the file, or raise ImportFileError with one clear message."""
    return parse_text(decode(raw))


def decode(raw: bytes) -> str:
    """Return the file's text, or raise ImportFileError (too large, not UTF-8)."""
    check_size(len(raw))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"the file is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None


def parse_text(text: str) -> object:
    """Parse the decoded file (`decode`), or raise ImportFileError with one clear message."""
    try:
        data = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_no_constant,
            object_pairs_hook=_object(),
        )
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"the file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise ImportFileError(f"the file is not valid JSON: {exc}") from None
    except RecursionError:
        raise ImportFileError(f"the JSON is nested deeper than {MAX_DEPTH} levels") from None
    if "\x00" in text or "\\u0000" in text:
        # PostgreSQL text cannot hold NUL: refuse it here, in words, before anything is written.
        raise ImportFileError("the file contains a NUL character (\\u0000), which no field accepts")
    if LONE_SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(data):
        # "\ud800" without its pair decodes to a string no database nor email can encode.
        raise ImportFileError(
            "the file contains a lone UTF-16 surrogate (\\ud800-\\udfff), which no field accepts"
        )
    if _depth(data) > MAX_DEPTH:
        raise ImportFileError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict):
        raise ImportFileError(f"the file must hold one JSON object, not {kind(data)}")
    return data


def _has_lone_surrogate(data) -> bool:
    """Does a string of the parsed file (a key or a value) hold half a surrogate pair?"""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(value, dict):
            stack += [*value, *value.values()]
        elif isinstance(value, list):
            stack += value
    return False


def _object():
    """Return the hook building each JSON object of one file: no key twice, and one copy of
    each short string value and of each small object of strings (rows repeat their CSN, term,
    dates, purchaser, payment method: #15)."""
    shared = {}
    share = shared.setdefault

    def build(pairs):
        # JSON lets a key repeat and the last one wins silently: in an import that hides a
        # mistake.
        data = {
            key: share(value, value) if type(value) is str and len(value) <= 64 else value
            for key, value in pairs
        }
        if len(data) != len(pairs):
            seen = set()
            duplicate = next(k for k, _v in pairs if k in seen or seen.add(k))
            raise ValueError(f"the key {json.dumps(duplicate)} appears twice in one object")
        if len(data) <= 4 and all(type(value) is str or value is None for value in data.values()):
            # A small object of strings (a row's payment method) repeats too: one copy of it,
            # read only like the rest of the parsed file.
            return share(tuple(data.items()), data)
        return data

    return build


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _depth(value) -> int:
    """Return how deeply `value` nests containers (scalars add no level), at most one past
    MAX_DEPTH.

    Level by level, comparing exact types (the parser builds only dicts and lists): a walk
    with a stack of (item, depth) pairs was 40% of the parse of a 20,000-row file (#15).
    """
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            return depth
        deeper = []
        add = deeper.append
        for item in level:
            for child in item.values() if type(item) is dict else item:
                kind_ = type(child)
                if kind_ is dict or kind_ is list:
                    add(child)
        level = deeper
    return depth
