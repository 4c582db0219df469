"""The one clock: the deployment's business date, or RENEWALS_TODAY when frozen."""

from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.utils import timezone

from renewals.core import clock
from renewals.core.clock import ClockError


def test_renewals_today_freezes_the_business_date(monkeypatch):
    monkeypatch.setenv("RENEWALS_TODAY", "2028-02-29")
    assert clock.today() == date(2028, 2, 29)


def test_frozen_today_fixture_sets_renewals_today(frozen_today):
    frozen_today(date(2027, 3, 31))
    assert clock.today() == date(2027, 3, 31)


def test_surrounding_spaces_are_forgiven(monkeypatch):
    monkeypatch.setenv("RENEWALS_TODAY", " 2027-01-31\n")
    assert clock.today() == date(2027, 1, 31)


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_renewals_today_means_the_real_date(monkeypatch, blank):
    monkeypatch.setenv("RENEWALS_TODAY", blank)
    assert clock.today() == timezone.localdate()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("tomorrow", id="word"),
        pytest.param("2027-02-30", id="no-such-day"),
        pytest.param("31/01/2027", id="european-order"),
        pytest.param("20270131", id="compact-iso"),
        pytest.param("2027-W05-1", id="iso-week"),
        pytest.param("2027-1-31", id="unpadded"),
        pytest.param("2027-01-31T00:00", id="datetime"),
        pytest.param("２０２７-01-31", id="full-width-digits"),
    ],
)
def test_an_invalid_renewals_today_is_a_clock_error_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("RENEWALS_TODAY", value)
    with pytest.raises(ClockError) as error:
        clock.today()
    assert str(error.value) == (
        f"RENEWALS_TODAY: {value!r} is not a valid date in the form YYYY-MM-DD (e.g. 2026-05-01)"
    )


@pytest.mark.parametrize("value", ["2027-13-01", "", None, 20270131])
def test_parse_date_refuses_anything_but_a_real_yyyy_mm_dd(value):
    with pytest.raises(ClockError, match="is not a valid date in the form YYYY-MM-DD"):
        clock.parse_date(value)


def test_clock_error_is_a_value_error():
    assert issubclass(ClockError, ValueError)


@pytest.mark.parametrize(
    ("time_zone", "expected"),
    [
        ("UTC", date(2026, 11, 25)),
        ("Asia/Tokyo", date(2026, 11, 26)),
        ("Europe/Paris", date(2026, 11, 26)),
    ],
)
def test_the_business_date_is_taken_in_the_deployment_time_zone(settings, time_zone, expected):
    settings.TIME_ZONE = time_zone
    instant = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=instant):
        assert clock.today() == expected


def test_only_the_clock_reads_the_date_and_time():
    """`timezone.now()`, `date.today()` and `datetime.now()` are read in core/clock.py only.

    (`time.time()` stays where a Unix timestamp signs a request, as Stripe's scheme does.)
    """
    import re
    from pathlib import Path

    root = Path(clock.__file__).resolve().parents[1]
    reads = re.compile(r"\b(timezone\.now|timezone\.localdate|date\.today|datetime\.(utc)?now)\(")
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "clock.py" and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if reads.search(line)
    ]
    assert found == []
