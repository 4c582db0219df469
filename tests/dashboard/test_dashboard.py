"""The renewals dashboard (R23): staff only, exact figures, every figure links to its list."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from renewals.core.money import money
from renewals.dashboard import queries
from renewals.lifecycle.models import ChargeAttempt
from renewals.subscriptions.actions import renew_subscriptions
from tests.factories import PartnerFactory, UserFactory, priced_subscription

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 20)


@pytest.fixture
def book(frozen_today):
    frozen_today(TODAY)
    eur = dict(currency="EUR", list_price="2100.00", renewal_price="1890.00")
    due = [
        priced_subscription(id="D10", renewal_date=TODAY + timedelta(days=10), seats=2, **eur),
        priced_subscription(id="D30", renewal_date=TODAY + timedelta(days=30), seats=1, **eur),
        priced_subscription(id="D31", renewal_date=TODAY + timedelta(days=31), seats=1, **eur),
        priced_subscription(id="D90", renewal_date=TODAY + timedelta(days=90), seats=1, **eur),
        priced_subscription(id="D91", renewal_date=TODAY + timedelta(days=91), seats=1, **eur),
        priced_subscription(
            id="JPY45",
            renewal_date=TODAY + timedelta(days=45),
            seats=3,
            currency="JPY",
            list_price="52800",
            renewal_price="48000",
        ),
        priced_subscription(id="TRIAL", renewal_date=TODAY + timedelta(days=5), trial=True, **eur),
        priced_subscription(id="TODAY", renewal_date=TODAY, **eur),  # due today: lapsing
    ]
    lapsed = {
        "no_action": priced_subscription(id="L-NA", renewal_date=date(2027, 3, 5), **eur),
        "declined": priced_subscription(
            id="L-DC", renewal_date=date(2027, 3, 2), auto_renew=True, **eur
        ),
        "partner": priced_subscription(
            id="L-PA",
            renewal_date=date(2027, 3, 3),
            purchase_method="partner",
            partner=PartnerFactory(),
            **eur,
        ),
        "last_month": priced_subscription(id="L-OLD", renewal_date=date(2027, 2, 27), **eur),
    }
    ChargeAttempt.objects.create(
        subscription=lapsed["declined"],
        term_start=date(2027, 3, 2),
        attempt=1,
        status="failed",
        business_date=date(2027, 3, 2),
    )
    renewed = priced_subscription(id="R-1", renewal_date=date(2027, 3, 10), **eur)
    renew_subscriptions([(renewed.pk, renewed.renewal_date)], today=TODAY, source="order")
    return due, lapsed


def test_due_counts_and_values_per_currency_and_horizon(book):
    due = {d.currency: d for d in queries.due_by_currency(TODAY)}
    assert due["EUR"].counts == {30: 2, 60: 3, 90: 4}
    assert due["EUR"].values[30] == money(Decimal("5670.00"), "EUR")  # 1890 × (2 + 1)
    assert due["EUR"].values[90] == money(Decimal("9450.00"), "EUR")
    assert due["JPY"].counts == {30: 0, 60: 1, 90: 1}
    assert due["JPY"].values[60] == money(Decimal("144000"), "JPY")


def test_lapsed_this_month_says_why(book):
    # L-NA and TODAY (expired today, on its D); L-OLD lapsed last month; R-1 was renewed.
    assert queries.renewed_this_month(TODAY) == 1
    assert queries.lapsed_this_month(TODAY) == {
        "declined": 1,
        "no_action": 2,
        "partner": 1,
        "invoice_overdue": 0,
    }


def test_auto_renew_share_and_failure_rate(book):
    share = queries.auto_renew_share(TODAY)
    assert share["charges"] == 1 and share["charges_failed"] == 1
    assert share["failure_rate"] == Decimal("100.0")
    assert share["auto"] == 0 and share["active"] >= 6


def test_the_page_is_for_staff_only(book, client):
    assert client.get("/admin/dashboard/").status_code == 302
    client.force_login(UserFactory(email="customer@example.com"))
    assert client.get("/admin/dashboard/").status_code == 302


def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(email="ops@renewals.example", is_staff=True, is_superuser=True))
    return client


def test_the_page_shows_charts_and_tables_that_link_to_their_lists(book):
    client = staff_client()
    page = client.get("/admin/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<svg class="chart" role="img"') == 3
    assert 'src="http' not in html and 'href="http' not in html  # nothing from a CDN
    assert (
        "/admin/subscriptions/subscription/?currency=EUR&amp;renewal_date__gt=2027-03-20"
        "&amp;renewal_date__lte=2027-04-19&amp;trial__exact=0" in html
    )
    assert "/admin/dashboard/lapsed/declined/" in html
    # The list behind a due cell shows exactly the subscriptions counted.
    listed = client.get(
        "/admin/subscriptions/subscription/?currency=EUR&renewal_date__gt=2027-03-20"
        "&renewal_date__lte=2027-04-19&trial__exact=0"
    )
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 2


def test_the_list_behind_a_lapse_reason(book):
    client = staff_client()
    page = client.get("/admin/dashboard/lapsed/declined/")
    assert page.status_code == 200
    assert [s.pk for s, _stage in page.context["rows"]] == ["L-DC"]
    assert client.get("/admin/dashboard/lapsed/exploded/").status_code == 404


def test_the_admin_home_links_to_the_dashboard(book):
    assert "/admin/dashboard/" in staff_client().get("/admin/").content.decode()


def test_the_dashboard_costs_a_fixed_number_of_queries(book, django_assert_max_num_queries):
    client = staff_client()
    with django_assert_max_num_queries(20):
        client.get("/admin/dashboard/")
