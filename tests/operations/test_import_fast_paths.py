"""The import's fast paths read a file exactly as the general ones do (#15).

`shapes.check` reads a row of known fields that every field's check accepts without pydantic;
any other row goes to the model (`shapes.check_by_model`, which words the faults). Random rows
and random files with faults compare the two, value for value and error for error. `_depth`
counts nesting level by level.
"""

import copy
import json
import random
from decimal import Decimal

import pytest

from renewals.subscriptions.importing import reading, shapes
from renewals.subscriptions.importing.reading import MAX_DEPTH, ImportFileError, parse_text
from renewals.subscriptions.importing.validate import validate

VALID = {
    "tax_rates": {"country": "FR", "rate": "0.20", "label": "TVA"},
    "offerings": {"code": "ACAD", "name": "AutoCAD"},
    "prices": {
        "offering": "ACAD",
        "term": "annual",
        "currency": "EUR",
        "list_price": "2100.00",
        "renewal_price": "1890.00",
        "active": True,
    },
    "partners": {"id": "P-1", "name": "CAD SARL", "email": "a@cad.example", "phone": "+33 1"},
    "customers": {
        "csn": "5100000001",
        "name": "Atelier Dupont",
        "country": "FR",
        "vat_id": "FR32123456789",
        "vat_id_validated": True,
        "address": "1 rue",
    },
    "users": {
        "email": "marie@dupont.example",
        "name": "Marie",
        "language": "fr",
        "password": "initial-password",
        "admin_of": ["5100000001"],
    },
    "subscriptions": {
        "id": "SUB-1001",
        "csn": "5100000001",
        "offering": "ACAD",
        "term": "annual",
        "seats": 3,
        "currency": "EUR",
        "start_date": "2024-03-31",
        "renewal_date": "2027-03-31",
        "auto_renew": True,
        "purchase_method": "online",
        "payment_method": {"type": "card", "token": "pm_sandbox_4242424242424242"},
        "purchaser": "marie@dupont.example",
        "partner": None,
        "trial": False,
    },
}
ODD = [
    None,
    "",
    "   ",
    "  padded  ",
    0,
    1,
    -3,
    2_000_000_001,
    True,
    False,
    1.5,
    Decimal("1.5"),
    "abc",
    "x" * 70,
    "x" * 300,
    "2026-02-30",
    "2026-01-31",
    "2027-03-31",
    "20260131",
    "EUR",
    "JPY",
    "EUX",
    "FR",
    "FX",
    "fr",
    "de",
    "monthly",
    "three_year",
    "weekly",
    "online",
    "partner",
    "invoice",
    "P-1",
    "5100000001",
    "51-0",
    "Marie@Dupont.Example",
    "not an email",
    "0.20",
    "1.00",
    "0.12345",
    "12.505",
    "100",
    "-1",
    [],
    ["5100000001", 7],
    {},
    {"type": "card"},
    {"type": "konbini", "token": "x"},
    {"type": "card", "token": "pm_sandbox_4242424242424242", "last4": "1111"},
]


def mutate(rng: random.Random, row: dict, fields) -> dict:
    row = copy.deepcopy(row)
    for _ in range(rng.randint(0, 3)):
        name = rng.choice(fields)
        if rng.random() < 0.2:
            row.pop(name, None)
        else:
            row[name] = copy.deepcopy(rng.choice(ODD))
    if rng.random() < 0.1:
        row[rng.choice(["colour", "seat", "Term"])] = rng.choice(ODD)
    return row


@pytest.mark.parametrize("section", sorted(shapes.SECTIONS))
def test_check_reads_every_row_as_the_model_does(section):
    model = shapes.SECTIONS[section]
    rng = random.Random(f"check-{section}")
    fields = list(model.model_fields)
    for _ in range(3000):
        row = mutate(rng, VALID[section], fields)
        assert shapes.check(model, row) == shapes.check_by_model(model, copy.deepcopy(row)), row


def random_file(rng: random.Random) -> dict:
    data = {"format": "renewals/v1"}
    for section, row in VALID.items():
        if rng.random() < 0.15:
            continue
        fields = list(shapes.SECTIONS[section].model_fields)
        rows = []
        for n in range(rng.randint(1, 4)):
            good = copy.deepcopy(row)
            key = next(iter(good))
            if isinstance(good[key], str) and rng.random() < 0.8:
                good[key] = good[key][:-1] + str(n)  # mostly distinct keys, sometimes a duplicate
            rows.append(mutate(rng, good, fields) if rng.random() < 0.5 else good)
        data[section] = rows
    return data


def plain_plan(plan) -> dict:
    subscriptions = [
        {name: getattr(sub, name) for name in type(sub).__slots__} for sub in plan.subscriptions
    ]
    return {**vars(plan), "subscriptions": subscriptions}


def test_a_file_with_faults_gets_the_errors_and_plan_of_the_model_path(monkeypatch):
    rng = random.Random("files")
    in_db = {"csns": {"5100000002"}, "emails": {"paul@example.com"}}

    def lookup(kind, keys):
        return keys & in_db.get(kind, set())

    for _ in range(400):
        data = random_file(rng)
        text = json.dumps(data, default=str)
        plan, errors = validate(parse_text(text), lookup)
        with monkeypatch.context() as patch:
            patch.setattr(shapes, "check", shapes.check_by_model)
            plan_by_model, errors_by_model = validate(parse_text(text), lookup)
        assert errors == errors_by_model, text
        assert plain_plan(plan) == plain_plan(plan_by_model), text


def depth_by_recursion(value) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_by_recursion(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_by_recursion(v) for v in value), default=0)
    return 0


def nested(rng: random.Random, budget: int):
    if budget == 0 or rng.random() < 0.3:
        return rng.choice([1, "x", None, True])
    children = [nested(rng, budget - 1) for _ in range(rng.randint(0, 3))]
    if rng.random() < 0.5:
        return children
    return {f"k{i}": child for i, child in enumerate(children)}


def test_depth_counts_the_levels_of_dicts_and_lists():
    rng = random.Random("depth")
    for _ in range(2000):
        value = nested(rng, rng.randint(0, 25))
        expected = depth_by_recursion(value)
        assert reading._depth(value) == (expected if expected <= MAX_DEPTH else MAX_DEPTH + 1)


@pytest.mark.parametrize("levels", [MAX_DEPTH, MAX_DEPTH + 1])
def test_a_file_nested_one_level_too_deep_is_refused(levels):
    # {"a": [{"a": [ ... ]}]}: the object of the file is the first level.
    text = "1"
    for level in range(levels, 0, -1):
        text = f'{{"a": {text}}}' if level % 2 else f"[{text}]"
    if levels <= MAX_DEPTH:
        assert isinstance(parse_text(text), dict)
    else:
        with pytest.raises(ImportFileError, match="nested deeper than 20 levels"):
            parse_text(text)
