"""Hostile import files: clear errors, nothing written (interfaces.md §3).

tests/operations/test_import_errors.py already covers a file over the size limit, nesting
100,000 deep, Latin-1 bytes, NaN, a list at the top and duplicate subscription ids, and
test_import.py a database refusal mid-import. These are the cases it leaves: repeated keys in one object, NUL characters (which
PostgreSQL text cannot hold), UTF-16, wrong shapes, absurd numbers — each refused in words
with its JSON path, and nothing imported.
"""

import json

import pytest

from renewals.accounts.models import Customer
from renewals.catalog.models import Offering
from renewals.subscriptions.models import Subscription
from tests.operations.test_import import EXAMPLE, run_import, write

pytestmark = pytest.mark.django_db


def _nothing_imported():
    return Customer.objects.count() == Offering.objects.count() == Subscription.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b'{"customers": [{"csn": "5100000001", "csn": "5100000002", "name": "x",'
            b' "country": "FR"}]}',
            '$: the file is not valid JSON: the key "csn" appears twice in one object',
        ),
        (
            b'{"format": "renewals/v1", "format": "renewals/v1"}',
            '$: the file is not valid JSON: the key "format" appears twice in one object',
        ),
        (
            b'{"offerings": [{"code": "A\\u0000B", "name": "x"}]}',
            "$: the file contains a NUL character (\\u0000), which no field accepts",
        ),
        (
            b'{"offerings": [{"code": "A\\ud800B", "name": "x"}]}',
            "$: the file contains a lone UTF-16 surrogate (\\ud800-\\udfff), which no field accepts",
        ),
        (json.dumps(EXAMPLE).encode("utf-16"), "$: the file is not UTF-8 text (invalid byte at offset 0)"),
        (b"", "$: the file is not valid JSON: Expecting value at line 1, column 1"),
        (b'{"subscriptions": {"id": "x"}}', "$.subscriptions: must be a list, not an object"),
        (b'{"subscriptions": [1]}', "$.subscriptions[0]: must be an object, not a number"),
    ],
)  # fmt: skip
def test_a_hostile_file_is_refused_in_words_and_nothing_is_imported(tmp_path, content, expected):
    code, _out, err = run_import(write(tmp_path, content))
    assert code == 1
    assert err.splitlines()[0] == expected
    assert _nothing_imported()


@pytest.mark.parametrize(
    ("seats", "expected"),
    [
        ("1e400", "$.subscriptions[0].seats: must be a whole number of at least 1, not 1E+400"),
        ("99999999999999999999999999", "$.subscriptions[0].seats: is too large"),
        ('"3"', '$.subscriptions[0].seats: must be a whole number of at least 1, not "3"'),
    ],
)
def test_absurd_numbers_are_refused_with_their_path(tmp_path, seats, expected):
    data = json.dumps(EXAMPLE).replace('"seats": 3', f'"seats": {seats}')
    assert f'"seats": {seats}' in data
    code, _out, err = run_import(write(tmp_path, data.encode()))
    assert code == 1
    assert expected in err.splitlines()
    assert _nothing_imported()


def test_a_byte_order_mark_is_accepted(tmp_path):
    code, _out, err = run_import(write(tmp_path, b"\xef\xbb\xbf" + json.dumps(EXAMPLE).encode()))
    assert (code, err) == (0, "")
    assert Subscription.objects.count() == len(EXAMPLE["subscriptions"])


class _Stdin:
    """A standard input of `size` bytes that records how many were read."""

    def __init__(self, size: int):
        self.size, self.read_bytes = size, 0

    @property
    def buffer(self):
        return self

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.read_bytes if n < 0 else min(n, self.size - self.read_bytes)
        self.read_bytes += n
        return b" " * n


def test_a_huge_file_on_standard_input_is_refused_after_the_limit_not_read_whole(
    settings, monkeypatch
):
    """Issue #14: a 50 MB file was read whole into 564 MB. A pipe has no size to check first:
    at most IMPORT_MAX_MB plus one byte is read, then the file is refused in words."""
    import sys

    settings.IMPORT_MAX_BYTES = 1000
    stdin = _Stdin(50 * 1024 * 1024)
    monkeypatch.setattr(sys, "stdin", stdin)
    code, _out, err = run_import("-")
    assert code == 1
    assert err.startswith(
        "$: the file is larger than the import limit of 1000 bytes (IMPORT_MAX_MB)"
    )
    assert stdin.read_bytes == 1001
    assert _nothing_imported()


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (
            {"type": "card", "token": "pm_sandbox_4242424242424242\n"},
            'payment_method.token: "pm_sandbox_4242424242424242\\n" is not a payment method token',
        ),
        (
            {"type": "card", "token": "pm_" + "a" * 198, "last4": "4242"},
            "is not a payment method token",
        ),
        ({"type": "card", "token": "pm_1234abcd", "last4": "4242\n"}, "is not the last 4 digits"),
    ],
)
def test_a_token_or_last4_with_a_final_newline_or_too_long_is_refused(tmp_path, method, expected):
    """Found in review: "$" matched before a final newline (stored as is), and a Stripe token of
    201-203 characters passed its check and broke the 200-character column (a traceback)."""
    data = json.loads(json.dumps(EXAMPLE))
    data["subscriptions"][0]["payment_method"] = method
    code, _out, err = run_import(write(tmp_path, json.dumps(data).encode()))
    assert code == 1
    assert expected in err
    assert _nothing_imported()


def test_a_surrogate_pair_is_accepted(tmp_path):
    data = json.dumps(EXAMPLE).replace('"name": "', '"name": "\\ud83d\\ude00 ', 1)
    code, _out, err = run_import(write(tmp_path, data.encode()))
    assert (code, err) == (0, "")
