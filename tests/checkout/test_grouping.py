"""R7 cart groups: one per (CSN, currency, purchase method), with a stable key."""

import pytest

from renewals.checkout.grouping import group_by, group_key, parse_group_key


def test_group_key_joins_csn_currency_and_purchase_method():
    assert group_key("5100000001", "JPY", "online") == "5100000001:JPY:online"


def test_a_group_key_parses_back_to_its_parts():
    assert parse_group_key(group_key("5100000001", "EUR", "invoice")) == (
        "5100000001",
        "EUR",
        "invoice",
    )


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("5100000001:EUR", id="two-parts"),
        pytest.param("5100000001:EUR:online:extra", id="four-parts"),
        pytest.param(":EUR:online", id="no-csn"),
        pytest.param("5100000001::online", id="no-currency"),
        pytest.param("5100000001:EUR:", id="no-method"),
        pytest.param(None, id="none"),
        pytest.param(42, id="not-a-string"),
    ],
)
def test_a_tampered_group_key_is_refused_without_error(key):
    assert parse_group_key(key) is None


def test_group_by_keeps_the_first_seen_order_of_groups_and_items():
    lines = [
        ("5100000001", "EUR", "online", "A"),
        ("5100000002", "JPY", "online", "B"),
        ("5100000001", "EUR", "online", "C"),
        ("5100000001", "EUR", "invoice", "D"),
        ("5100000001", "USD", "online", "E"),
    ]
    groups = group_by(lines, lambda line: group_key(*line[:3]))
    assert {k: [line[3] for line in v] for k, v in groups.items()} == {
        "5100000001:EUR:online": ["A", "C"],
        "5100000002:JPY:online": ["B"],
        "5100000001:EUR:invoice": ["D"],
        "5100000001:USD:online": ["E"],
    }
    assert list(groups) == [
        "5100000001:EUR:online",
        "5100000002:JPY:online",
        "5100000001:EUR:invoice",
        "5100000001:USD:online",
    ]


def test_group_by_of_nothing_is_no_group():
    assert group_by([], lambda line: line) == {}
