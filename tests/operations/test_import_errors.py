"""The import's refusals: every error named by its JSON path, in the vendor's words, and
nothing written (interfaces.md §3, docs/import.md). The import's writes are test_import.py."""

import copy
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from renewals.accounts.models import Customer
from renewals.subscriptions.importing import import_bytes
from renewals.subscriptions.models import Subscription

from .test_import import EXAMPLE, run_import, snapshot, write

pytestmark = pytest.mark.django_db


def test_every_error_is_reported_with_its_path_and_nothing_is_written(tmp_path):
    data = copy.deepcopy(EXAMPLE)
    bad = data["subscriptions"][0]
    bad.update(currency="EUX", seats=0, term="weekly", purchaser="nobody@example.com")
    second = copy.deepcopy(EXAMPLE["subscriptions"][0])
    second.update(id="SUB-1002", renewal_date="2027-03-30", csn="999", partner="P-9")
    data["subscriptions"].append(second)
    data["customers"][0]["country"] = "XX"
    data["prices"][0]["list_price"] = 2100.0
    code, _out, err = run_import(write(tmp_path, data))
    assert code == 1
    lines = err.splitlines()
    for expected in [
        '$.subscriptions[0].currency: "EUX" is not an ISO 4217 currency',
        "$.subscriptions[0].seats: must be a whole number of at least 1, not 0",
        '$.subscriptions[0].term: "weekly" is not a known term (monthly, annual, three_year)',
        '$.subscriptions[0].purchaser: user "nobody@example.com" is neither in this file nor in the database',
        "$.subscriptions[1].renewal_date: 2027-03-30 is not a whole number of annual terms after the start date 2024-03-31",
        '$.subscriptions[1].csn: customer "999" is neither in this file nor in the database',
        '$.subscriptions[1].partner: partner "P-9" is neither in this file nor in the database',
        '$.customers[0].country: "XX" is not an ISO 3166 country code',
        '$.prices[0].list_price: must be a decimal string such as "12.50", not a number',
    ]:
        assert expected in lines
    assert "9 errors in" in err and "nothing was imported" in err
    assert snapshot() == {k: [] for k in snapshot()}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"format": "renewals/v2"},
            '$.format: "renewals/v2" is not a supported format (expected "renewals/v1")',
        ),
        ({"colour": 1}, "$.colour: is not a known section"),
        ({"offerings": {}}, "$.offerings: must be a list, not an object"),
        ({"offerings": [1]}, "$.offerings[0]: must be an object, not a number"),
        ({"offerings": [{"code": "A"}]}, "$.offerings[0].name: is required"),
        (
            {"offerings": [{"code": "A", "name": "x"}, {"code": "A", "name": "y"}]},
            '$.offerings[1].code: offering "A" already appears at $.offerings[0].code',
        ),
        (
            {"tax_rates": [{"country": "FR", "rate": "1.5"}]},
            '$.tax_rates[0].rate: "1.5" must be a fraction below 1 (0.20 is 20%)',
        ),
        (
            {"tax_rates": [{"country": "FR", "rate": "-0.1"}]},
            '$.tax_rates[0].rate: "-0.1" is not a non-negative decimal rate',
        ),
        (
            {"users": [{"email": "not-an-email"}]},
            '$.users[0].email: "not-an-email" is not a valid email address',
        ),
        (
            {"users": [{"email": "a@b.example", "language": "de"}]},
            '$.users[0].language: "de" is not a known language (en, fr, ja)',
        ),
        (
            {"users": [{"email": "a@b.example", "admin_of": ["42"]}]},
            '$.users[0].admin_of[0]: customer "42" is neither in this file nor in the database',
        ),
        (
            {"customers": [{"csn": "AB12", "name": "x", "country": "FR"}]},
            '$.customers[0].csn: "AB12" is not a customer number (digits only)',
        ),
        (
            {
                "prices": [
                    {
                        "offering": "ACAD",
                        "term": "annual",
                        "currency": "JPY",
                        "list_price": "100.5",
                        "renewal_price": "90",
                    }
                ]
            },
            '$.prices[0].list_price: "100.5" has more than 0 decimals',
        ),
    ],
)
def test_file_level_and_section_errors_name_their_path(tmp_path, change, expected):
    data = copy.deepcopy(EXAMPLE)
    data.update(change)
    code, _out, err = run_import(write(tmp_path, data))
    assert code == 1
    assert expected in err.splitlines()
    assert Subscription.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"seats": "3"}, '$.subscriptions[0].seats: must be a whole number of at least 1, not "3"'),
        (
            {"seats": True},
            "$.subscriptions[0].seats: must be a whole number of at least 1, not True",
        ),
        (
            {"start_date": "2024-02-30"},
            '$.subscriptions[0].start_date: "2024-02-30" is not a date in the form YYYY-MM-DD',
        ),
        (
            {"renewal_date": "2024-03-31"},
            "$.subscriptions[0].renewal_date: 2024-03-31 must be after the start date 2024-03-31",
        ),
        (
            {"purchase_method": "partner"},
            '$.subscriptions[0].partner: is required when the purchase method is "partner"',
        ),
        (
            {"payment_method": {"type": "cash"}},
            '$.subscriptions[0].payment_method.type: "cash" is not a known payment method (card, konbini, bank_transfer, invoice)',
        ),
        (
            {"payment_method": {"type": "card", "token": "tok_123"}},
            '$.subscriptions[0].payment_method.token: "tok_123" is not a payment method token (pm_sandbox_<card number> or a Stripe pm_…)',
        ),
        (
            {"payment_method": {"type": "card", "token": "pm_sandbox_abc"}},
            '$.subscriptions[0].payment_method.token: "pm_sandbox_abc" is not a payment method token (pm_sandbox_<card number> or a Stripe pm_…)',
        ),
        (
            {
                "payment_method": {
                    "type": "card",
                    "last4": "1111",
                    "token": "pm_sandbox_4242424242424242",
                }
            },
            '$.subscriptions[0].payment_method.last4: "1111" does not match the token\'s card number (…4242)',
        ),
        (
            {"payment_method": {"type": "konbini", "token": "pm_sandbox_4242424242424242"}},
            "$.subscriptions[0].payment_method: a konbini payment method has no token or last4",
        ),
        (
            {"auto_renew": True, "payment_method": {"type": "konbini"}},
            "$.subscriptions[0].auto_renew: needs a card payment method (or purchase method invoice)",
        ),
        ({"id": "SUB-1001 " * 10}, "$.subscriptions[0].id: is longer than 64 characters"),
    ],
)
def test_subscription_errors_name_their_path(tmp_path, change, expected):
    data = copy.deepcopy(EXAMPLE)
    data["subscriptions"][0].update(change)
    code, _out, err = run_import(write(tmp_path, data))
    assert code == 1
    assert expected in err.splitlines()
    assert Subscription.objects.count() == 0


def test_duplicate_subscription_ids_are_refused(tmp_path):
    data = copy.deepcopy(EXAMPLE)
    data["subscriptions"].append(copy.deepcopy(data["subscriptions"][0]))
    code, _out, err = run_import(write(tmp_path, data))
    assert code == 1
    assert (
        '$.subscriptions[1].id: subscription "SUB-1001" already appears at $.subscriptions[0].id'
        in err
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"{not json",
            "$: the file is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2",
        ),
        (b"[1, 2]", "$: the file must hold one JSON object, not a list"),
        (
            '{"offerings": [{"code": "é", "name": "x"}]}'.encode("latin-1"),
            "$: the file is not UTF-8 text (invalid byte at offset 25)",
        ),
        (b"[" * 50 + b"]" * 50, "$: the JSON is nested deeper than 20 levels"),
        (b"[" * 100000 + b"]" * 100000, "$: the JSON is nested deeper than 20 levels"),
        (b'{"x": NaN}', "$: the file is not valid JSON: NaN is not a JSON number"),
    ],
)
def test_an_unreadable_file_is_one_clear_error(tmp_path, content, expected):
    code, _out, err = run_import(write(tmp_path, content))
    assert code == 1
    assert err.splitlines()[0] == expected
    assert Subscription.objects.count() == Customer.objects.count() == 0


def test_a_missing_file_is_a_clear_error(tmp_path):
    code, _out, err = run_import(str(tmp_path / "nope.json"))
    assert code == 1
    assert err.endswith("nope.json: no such file")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, settings, monkeypatch):
    from pathlib import Path

    settings.IMPORT_MAX_BYTES = 100
    path = write(tmp_path, EXAMPLE)
    reads = []
    real_open = Path.open
    monkeypatch.setattr(
        Path, "open", lambda self, *a, **k: reads.append(1) or real_open(self, *a, **k)
    )
    with pytest.raises(CommandError) as refused:
        call_command("import", path)
    assert str(refused.value) == (
        "$: the file is larger than the import limit of 100 bytes (IMPORT_MAX_MB): split it "
        "into smaller files (importing is safe to repeat) or raise IMPORT_MAX_MB on a machine "
        "with about three times that memory to spare; nothing was imported."
    )
    assert reads == []  # refused on its size, not read
    assert Subscription.objects.count() == 0


def test_the_size_limit_also_holds_for_bytes_given_directly(settings):
    from renewals.subscriptions.importing import import_bytes

    settings.IMPORT_MAX_BYTES = 64 * 1024 * 1024
    result = import_bytes(b" " * (64 * 1024 * 1024 + 1), today=date(2026, 6, 1))
    assert result.errors == [
        "$: the file is larger than the import limit of 64 MB (IMPORT_MAX_MB): split it into "
        "smaller files (importing is safe to repeat) or raise IMPORT_MAX_MB on a machine with "
        "about three times that memory to spare"
    ]


def test_a_rows_faults_come_in_the_order_of_its_fields_after_the_sections_unknown_fields():
    data = copy.deepcopy(EXAMPLE)
    first = data["subscriptions"][0]
    first.update(renewal_date="2027-03-30", purchaser="not-an-email", colour="red")
    first["payment_method"] = {"type": "card", "last4": "12"}
    second = copy.deepcopy(EXAMPLE["subscriptions"][0])
    second.update(id="SUB-1002", size=1, auto_renew=True, payment_method={"type": "konbini"})
    data["subscriptions"].append(second)
    result = import_bytes(json_bytes(data), today=date(2026, 6, 1), dry_run=True)
    assert result.errors == [
        "$.subscriptions[0].colour: is not a known field",
        "$.subscriptions[1].size: is not a known field",
        "$.subscriptions[0].renewal_date: 2027-03-30 is not a whole number of annual terms "
        "after the start date 2024-03-31",
        '$.subscriptions[0].purchaser: "not-an-email" is not a valid email address',
        '$.subscriptions[0].payment_method.last4: "12" is not the last 4 digits of a card',
        "$.subscriptions[1].auto_renew: needs a card payment method (or purchase method invoice)",
    ]


def json_bytes(data) -> bytes:
    import json

    return json.dumps(data).encode()
