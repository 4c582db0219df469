"""PUT/DELETE /api/v1/subscriptions/{id}/scheduled-change (R21): the next renewal's change."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from renewals.core.models import AuditEvent
from renewals.subscriptions.models import Subscription
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    PriceFactory,
    SubscriptionFactory,
    TaxRateFactory,
    UserFactory,
)

from .conftest import client_for, error_of

pytestmark = pytest.mark.django_db

TODAY = date(2027, 2, 10)
D = date(2027, 2, 28)


@pytest.fixture
def sub(user, customer, frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="FR", rate="0.20")
    sub = SubscriptionFactory(
        id="SUB-M",
        customer=customer,
        purchaser=user,
        term="monthly",
        seats=5,
        start_date=date(2027, 1, 31),
        renewal_date=D,
        offering__code="ACAD",
    )
    for term, list_price, renewal_price in (
        ("monthly", "100.00", "90.00"),
        ("annual", "1100.00", "990.00"),
    ):
        PriceFactory(
            offering=sub.offering,
            term=term,
            currency="EUR",
            list_price=Decimal(list_price),
            renewal_price=Decimal(renewal_price),
        )
    return sub


def put(api, sub_id, body):
    return api.put(
        f"/api/v1/subscriptions/{sub_id}/scheduled-change", body, content_type="application/json"
    )


def actions_of(sub_id):
    return list(
        AuditEvent.objects.filter(object_id=sub_id).order_by("id").values_list("action", flat=True)
    )


def test_put_schedules_the_change_and_the_subscription_shows_it(api, sub):
    response = put(api, sub.pk, {"seats": 3, "term": "annual"})
    assert response.status_code == 200
    body = response.json()
    assert body["scheduled_change"] == {"renewal_date": "2027-02-28", "seats": 3, "term": "annual"}
    # The current term is untouched; the next one is priced for the change (R6: annual paid
    # while active is the renewal price; leap year: anchor 31 → 29 February 2028).
    assert (body["seats"], body["term"], body["renewal_date"]) == (5, "monthly", "2027-02-28")
    assert body["renewal"]["seats"] == 3 and body["renewal"]["term"] == "annual"
    assert body["renewal"]["unit_price"] == {"amount": "990.00", "currency": "EUR"}
    assert body["renewal"]["price"] == {"amount": "2970.00", "currency": "EUR"}
    assert body["renewal"]["next_term"] == {"start": "2027-02-28", "end": "2028-02-29"}
    assert api.get(f"/api/v1/subscriptions/{sub.pk}").json() == body
    listed = api.get("/api/v1/subscriptions").json()["results"]
    assert listed[0]["scheduled_change"] == body["scheduled_change"]


def test_put_is_idempotent_and_null_keeps_a_value(api, sub):
    first = put(api, sub.pk, {"seats": 3})
    again = put(api, sub.pk, {"seats": 3, "term": None})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["scheduled_change"] == {
        "renewal_date": "2027-02-28",
        "seats": 3,
        "term": None,
    }
    assert actions_of(sub.pk) == ["renewal_change_scheduled"]  # once, not twice


def test_the_current_seats_and_term_cancel_the_change(api, sub):
    put(api, sub.pk, {"seats": 3, "term": "annual"})
    body = put(api, sub.pk, {"seats": 5, "term": "monthly"}).json()
    assert body["scheduled_change"] is None
    assert Subscription.objects.get().scheduled_change is None


def test_delete_cancels_and_repeating_it_answers_the_same(api, sub):
    put(api, sub.pk, {"term": "annual"})
    url = f"/api/v1/subscriptions/{sub.pk}/scheduled-change"
    first, again = api.delete(url), api.delete(url)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["scheduled_change"] is None
    assert first.json()["renewal"]["term"] == "monthly"
    assert actions_of(sub.pk) == ["renewal_change_scheduled", "scheduled_change_cancelled"]


@pytest.mark.parametrize(
    ("body", "code", "reasons"),
    [
        ({"seats": 0}, "seats_below_one", ["seats_below_one"]),
        ({"seats": 10001}, "seats_above_limit", ["seats_above_limit"]),
        ({"term": "three_year"}, "term_not_sold", ["term_not_sold"]),
        (
            {"seats": 0, "term": "three_year"},
            "seats_below_one",
            ["seats_below_one", "term_not_sold"],
        ),
    ],
)
def test_a_refused_change_is_422_with_every_reason_and_changes_nothing(
    api, sub, body, code, reasons
):
    response = put(api, sub.pk, body)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == code
    assert error["details"][0]["reasons"] == reasons
    assert error["details"][0]["terms"] == ["monthly", "annual"]
    assert Subscription.objects.get().scheduled_change is None


@pytest.mark.parametrize("seats", ["5", True, 5.0])
def test_seats_must_be_a_json_integer(api, sub, seats):
    response = put(api, sub.pk, {"seats": seats})
    assert response.status_code == 422
    assert Subscription.objects.get().scheduled_change is None


def test_an_unknown_term_is_422_invalid_term(api, sub):
    response = put(api, sub.pk, {"term": "weekly"})
    assert (response.status_code, error_of(response)["code"]) == (422, "invalid_term")


@pytest.mark.parametrize(
    ("day", "status", "code"),
    [
        (D - timedelta(days=1), 200, None),  # the last day a change can be made
        (D, 422, "change_too_late"),  # from D on the automatic charge of that term is due
        (D + timedelta(days=1), 422, "change_too_late"),
    ],
)
def test_a_change_is_accepted_up_to_the_day_before_d(api, sub, frozen_today, day, status, code):
    frozen_today(day)
    response = put(api, sub.pk, {"seats": 2})
    assert response.status_code == status
    if code:
        assert error_of(response)["code"] == code
    url = f"/api/v1/subscriptions/{sub.pk}/scheduled-change"
    assert api.delete(url).status_code == status


def test_another_customers_subscription_is_404_and_unknown_is_404(api, sub):
    other = SubscriptionFactory(id="SUB-OTHER", customer=CustomerFactory(csn="5100000009"))
    for sub_id in (other.pk, "SUB-NONE"):
        url = f"/api/v1/subscriptions/{sub_id}/scheduled-change"
        for response in (put(api, sub_id, {"seats": 2}), api.delete(url)):
            assert response.status_code == 404
            assert error_of(response)["code"] == "not_found"
    assert Subscription.objects.get(pk=other.pk).scheduled_change is None


def test_an_admin_of_the_csn_sees_it_but_only_the_purchaser_changes_it(api, sub, customer):
    claire = UserFactory(email="claire@dupont.example")
    MembershipFactory(user=claire, customer=customer, role="admin")
    put(api, sub.pk, {"seats": 3})
    as_claire = client_for(claire)
    seen = as_claire.get(f"/api/v1/subscriptions/{sub.pk}").json()
    assert seen["scheduled_change"]["seats"] == 3
    response = put(as_claire, sub.pk, {"seats": 1})
    assert (response.status_code, error_of(response)["code"]) == (422, "not_purchaser")
    assert Subscription.objects.get().scheduled_change["seats"] == 3


def test_jpy_prices_the_changed_next_term_without_decimals(api, user, frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="JP", rate="0.10")
    sub = SubscriptionFactory(
        id="SUB-JP",
        customer=CustomerFactory(csn="5200000001", country="JP"),
        purchaser=user,
        term="annual",
        seats=2,
        currency="JPY",
        start_date=date(2024, 2, 29),
        renewal_date=date(2027, 2, 28),
        offering__code="REVIT",
    )
    for term, price in (("annual", "52800"), ("three_year", "142560")):
        PriceFactory(
            offering=sub.offering,
            term=term,
            currency="JPY",
            list_price=Decimal(price),
            renewal_price=Decimal(price),
        )
    body = put(api, sub.pk, {"seats": 3, "term": "three_year"}).json()
    assert body["renewal"]["price"] == {"amount": "427680", "currency": "JPY"}
    # Anchor day 29 (started on a leap day): three years from 28 February 2027 is 29 February 2030?
    # No: 2030 is not a leap year, so the month's end, 28 February 2030.
    assert body["renewal"]["next_term"] == {"start": "2027-02-28", "end": "2030-02-28"}
