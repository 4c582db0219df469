"""GET /api/v1/events (R22, interfaces.md §2): oldest first, a cursor, a type filter, scoped."""

from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from renewals.api.models import ApiToken
from renewals.api.tokens import create_token
from renewals.core.errors import DomainError
from renewals.events.models import Event
from renewals.subscriptions.actions import renew_subscriptions
from renewals.subscriptions.auto_renew import change_auto_renew
from tests.factories import CardFactory, MembershipFactory, UserFactory
from tests.payments.helpers import TODAY, eur_subscription

pytestmark = pytest.mark.django_db

D = date(2027, 3, 31)


def client(user, *, staff=False):
    _token, raw = create_token(user=user, name="t", staff=staff)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def two_customers():
    mine = eur_subscription(renewal_date=D, payment_method="card")
    mine.card = CardFactory(user=mine.purchaser)
    mine.save()
    theirs = eur_subscription(renewal_date=D)
    renew_subscriptions([(mine.pk, D)], today=TODAY, source="test")
    renew_subscriptions([(theirs.pk, D)], today=TODAY, source="test")
    change_auto_renew(user=mine.purchaser, subscription_ids=[mine.pk], turn_on=True, today=TODAY)
    return mine, theirs


def test_a_customer_sees_only_the_events_of_subscriptions_it_may_see(two_customers):
    mine, theirs = two_customers
    body = client(mine.purchaser).get("/api/v1/events").json()
    assert [(e["type"], e["subscription_id"]) for e in body["results"]] == [
        ("subscription.renewed", mine.pk),
        ("subscription.auto_renew_changed", mine.pk),
    ]
    assert body["next"] is None
    first = body["results"][0]
    assert set(first) == {
        "id",
        "type",
        "created",
        "sequence",
        "subscription_id",
        "subscriptions",
        "data",
    }
    assert first["id"].startswith("evt_") and first["sequence"] == 1
    assert first["subscriptions"] == [{"id": mine.pk, "sequence": 1}]
    assert first["created"].endswith("Z")
    assert first["data"]["object"]["renewal_date"] == "2028-03-31"
    assert body["results"][1]["sequence"] == 2


def test_an_admin_of_the_csn_sees_its_events_too(two_customers):
    mine, _theirs = two_customers
    admin = UserFactory()
    MembershipFactory(user=admin, customer=mine.customer)
    assert len(client(admin).get("/api/v1/events").json()["results"]) == 2


def test_a_staff_token_sees_every_customers_events_and_a_plain_staff_token_does_not(two_customers):
    staff = UserFactory(is_staff=True)
    assert len(client(staff, staff=True).get("/api/v1/events").json()["results"]) == 3
    assert client(staff).get("/api/v1/events").json()["results"] == []
    staff.is_staff = False
    staff.save()
    assert ApiToken.objects.filter(user=staff, staff=True).exists()
    _t, raw = create_token(user=UserFactory(is_staff=True), name="x", staff=True)
    assert client(staff).get("/api/v1/events").json()["results"] == []


def test_only_staff_users_get_staff_tokens():
    with pytest.raises(DomainError):
        create_token(user=UserFactory(), staff=True)
    with pytest.raises(CommandError, match="not staff"):
        call_command("create-token", UserFactory(email="plain@example.com").email, "--staff")


def test_create_token_staff_prints_a_staff_token(capsys, two_customers):
    staff = UserFactory(email="ops@renewals.example", is_staff=True)
    call_command("create-token", staff.email, "--staff")
    raw = capsys.readouterr().out.strip()
    assert ApiToken.objects.get(user=staff).staff is True
    answer = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/events")
    assert len(answer.json()["results"]) == 3


def test_the_cursor_pages_oldest_first_and_resumes_after_an_id(two_customers):
    staff = client(UserFactory(is_staff=True), staff=True)
    page = staff.get("/api/v1/events?limit=2").json()
    assert len(page["results"]) == 2
    assert page["next"].startswith("http://testserver/api/v1/events?")
    rest = staff.get(page["next"]).json()
    ids = [e["id"] for e in page["results"] + rest["results"]]
    assert ids == [f"evt_{pk}" for pk in Event.objects.order_by("pk").values_list("pk", flat=True)]
    assert rest["next"] is None
    after_last = staff.get(f"/api/v1/events?after={ids[-1]}").json()
    assert after_last == {"results": [], "next": None}


def test_the_type_filter_takes_one_or_several_types(two_customers):
    staff = client(UserFactory(is_staff=True), staff=True)
    one = staff.get("/api/v1/events?type=subscription.auto_renew_changed").json()["results"]
    assert [e["type"] for e in one] == ["subscription.auto_renew_changed"]
    both = staff.get(
        "/api/v1/events?type=subscription.auto_renew_changed,subscription.renewed"
    ).json()["results"]
    assert len(both) == 3


@pytest.mark.parametrize(
    "query, code",
    [
        ("type=subscription.exploded", "invalid"),
        ("after=evt_x", "invalid"),
        ("after=999999", "invalid"),
        ("after=%C2%B2", "invalid"),  # "²": a digit to str.isdigit, not to int (found by fuzzing)
        ("after=evt_12345678901234567890", "invalid"),  # beyond a bigint
        ("limit=501", "invalid"),
    ],
)
def test_bad_parameters_are_400_in_the_error_shape(two_customers, query, code):
    answer = client(UserFactory(is_staff=True), staff=True).get(f"/api/v1/events?{query}")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == code


def test_events_need_a_token():
    assert Client().get("/api/v1/events").status_code == 401


def test_a_page_of_500_events_is_a_fixed_number_of_queries(django_assert_max_num_queries):
    subs = [eur_subscription(renewal_date=D) for _ in range(5)]
    for sub in subs:
        renew_subscriptions([(sub.pk, D)], today=TODAY, source="test")
    staff = client(UserFactory(is_staff=True), staff=True)
    with django_assert_max_num_queries(8):
        assert len(staff.get("/api/v1/events?limit=500").json()["results"]) == 5
